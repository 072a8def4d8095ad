// Selector: label selectors and field selectors as the list/watch query
// parameters `labelSelector` and `fieldSelector` carry them.
//
//   labels: "app=web,tier!=db,env in (prod,qa),env notin (dev),!legacy,release"
//           also "==", and "key" / "!key" (existence); empty selects everything.
//   fields: "metadata.name=x,involvedObject.kind=Y,status.phase!=Running"
//           ("=", "==", "!="; backslash escapes "\,", "\=", "\\").
//
// Parse errors are kInvalid with apimachinery-like messages, e.g.
// `invalid label selector "app=": found ',', expected: identifier` or
// `invalid field selector "x": can't understand 'x' (...)`.
//
// Thread-safety: immutable values after parsing; safe to share across threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::api {

class LabelSelector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted; one value for kEquals/kNotEquals
  };

  // The empty selector: matches everything.
  LabelSelector() = default;

  static Result<LabelSelector> Parse(std::string_view text);
  // From a metav1.LabelSelector object {matchLabels, matchExpressions}; a
  // null/absent selector matches everything.
  static Result<LabelSelector> FromJson(const nlohmann::json& selector);

  // `labels` is metadata.labels (object of strings, or null/absent).
  bool Matches(const nlohmann::json& labels) const;
  // Convenience: matches an object's metadata.labels.
  bool MatchesObject(const nlohmann::json& object) const;

  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // Canonical text form (requirements sorted by key), e.g. "a=b,c in (x,y)".
  std::string ToString() const;

 private:
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  struct Requirement {
    std::string field;  // dotted path, e.g. "involvedObject.name"
    bool equals;        // false for "!="
    std::string value;
  };

  // The empty selector: matches everything.
  FieldSelector() = default;

  static Result<FieldSelector> Parse(std::string_view text);

  // Looks each field up as a dotted path in `object`; a missing field reads
  // as "", numbers and booleans as their JSON text.
  bool Matches(const nlohmann::json& object) const;

  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // The value required for `field` by an "=" term, if any (lets the server
  // serve `metadata.name=x` as a point lookup).
  const std::string* RequiredValue(std::string_view field) const;
  std::string ToString() const;

 private:
  std::vector<Requirement> requirements_;
};

// kube-apiserver only filters on the field labels each resource declares
// (metadata.name and metadata.namespace everywhere; events: involvedObject.*,
// reason, reportingComponent, source, type; pods: spec.nodeName, status.phase,
// ...; secrets: type; namespaces: status.phase; nodes: spec.unschedulable;
// jobs: status.successful; replicasets and replicationcontrollers:
// status.replicas; certificatesigningrequests: spec.signerName).
// Returns kInvalid "field label not supported: <field>" for any other field of
// `selector`, as the apiserver's 400 BadRequest does. `resource` is the plural
// lower-case resource name of a built-in kind; for a custom resource pass its
// CRD version's selectableFields instead (the metadata pair plus those).
Status CheckFieldSelectorSupported(const FieldSelector& selector, std::string_view resource,
                                   const std::vector<std::string>* custom_fields = nullptr);

}  // namespace stash::api
