// Table: server-side printing (meta.k8s.io/v1 Table), as kube-apiserver
// answers `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//
// kubectl prints the cells as they come, so this module decides what `kubectl
// get` shows: the columns of a CRD's additionalPrinterColumns (or the default
// Age column), or the built-in column sets of the core kinds, with ages in
// Kubernetes' HumanDuration format ("59s", "2m5s", "3h5m", "2d3h", "2y45d").
//
// Thread-safety: stateless free functions and immutable values; safe from any
// thread.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/clock.h"
#include "stash/core/result.h"

namespace stash::api {

struct PrinterColumn {
  std::string name;         // "Schedule"; kubectl prints it upper-cased
  std::string type;         // string, integer, number, boolean, date
  std::string format;       // "name" for the Name column, else usually ""
  std::string description;  // shown by `kubectl explain`-like tools only
  int priority = 0;         // > 0: only with `-o wide`
  // A JSONPath as CRDs use them: ".spec.schedule", ".metadata.labels['a.b/c']",
  // ".spec.paths[0]", ".items[*].name" or
  // ".status.conditions[?(@.type=="Ready")].status"; used when `cell` is empty.
  std::string json_path;
  // Built-in kinds compute some cells (READY "2/3", STATUS, ...) instead.
  std::function<nlohmann::json(const nlohmann::json& object, SystemTime now)> cell;
};

// What each row's `object` holds (the `includeObject` query parameter).
enum class IncludeObject { kNone, kMetadata, kObject };

// Builds a Table of `objects`. The Name column comes first, unless `columns`
// already contain a column of format "name" (the events table puts it last).
// Cells are type-correct: null when the path is absent or the value does not
// fit the column type; "date" columns turn RFC 3339 timestamps into
// HumanDuration(now - t); "string" columns print non-strings as compact JSON.
// The caller sets metadata.resourceVersion.
nlohmann::json BuildTable(const std::vector<PrinterColumn>& columns,
                          const std::vector<nlohmann::json>& objects, SystemTime now,
                          bool include_object_metadata);
nlohmann::json BuildTable(const std::vector<PrinterColumn>& columns,
                          const std::vector<nlohmann::json>& objects, SystemTime now,
                          IncludeObject include);

// The columns of one CRD version (an element of spec.versions, or for old
// CRDs the whole CRD spec): its additionalPrinterColumns, or Age when it has
// none. Name is not included (BuildTable adds it).
std::vector<PrinterColumn> ColumnsForCrdVersion(const nlohmann::json& crd_version);

// The column set kube-apiserver prints for a built-in resource (plural,
// lower-case: namespaces, secrets, configmaps, events, persistentvolumeclaims,
// pods, deployments, statefulsets, daemonsets, cronjobs, jobs, leases,
// customresourcedefinitions), or nullopt for others. These sets include their
// own Name column (events put it last, wide-only).
std::optional<std::vector<PrinterColumn>> BuiltinColumns(std::string_view resource);

// k8s.io/apimachinery/pkg/util/duration.HumanDuration: "<invalid>" below -1s,
// then "0s", "59s", "119s", "2m5s", "10m", "179m", "3h5m", "47h", "2d3h", "7d23h",
// "8d", "729d", "2y45d", "8y".
std::string HumanDuration(Duration d);

// Age of a timestamp as kubectl shows it: HumanDuration(now - t), or
// "<unknown>" for an empty/unparsable timestamp.
std::string TranslateTimestampSince(std::string_view rfc3339, SystemTime now);

// RFC 3339 timestamps as Kubernetes writes them: "2026-11-26T06:17:00Z"
// (seconds) and MicroTime "2026-11-26T06:17:00.000000Z". Parsing accepts
// fractional seconds and numeric offsets.
Result<SystemTime> ParseTimestamp(std::string_view rfc3339);
std::string FormatTimestamp(SystemTime t);
std::string FormatMicroTimestamp(SystemTime t);

// Evaluates a JSONPath (see PrinterColumn::json_path) against `object`: the
// first result, as the apiserver's printer shows; nullopt when nothing matches
// or the path uses syntax beyond members, indices, [*] and ==/!= filters.
std::optional<nlohmann::json> EvalSimpleJsonPath(const nlohmann::json& object,
                                                 std::string_view path);

}  // namespace stash::api
