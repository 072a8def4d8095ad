// Fuzz target: label and field selectors as clients send them.
//   line 1: "label", "field" or "labeljson" (a metav1.LabelSelector object,
//           as in a Deployment's spec.selector)
//   rest:   the selector
// A selector that parses must print as text that parses to the same
// selector again (the server keys watches and paging tokens by it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "stash/api/selector.h"

namespace {

const nlohmann::json& Object() {
  static const nlohmann::json object = nlohmann::json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "demo",
                 "labels": {"app": "web", "tier": "front", "example.com/role": "db"}},
    "spec": {"nodeName": "node-1", "replicas": 3, "paused": false},
    "status": {"phase": "Running"}})");
  return object;
}

void Check(bool ok, const char* what, const std::string& text) {
  if (ok) return;
  std::fprintf(stderr, "%s: %s\n", what, text.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view mode = in.substr(0, nl);
  std::string_view text = in.substr(nl + 1);
  if (mode == "label" || mode == "labeljson") {
    stash::Result<stash::api::LabelSelector> sel = stash::InvalidError("unset");
    if (mode == "label") {
      sel = stash::api::LabelSelector::Parse(text);
    } else {
      nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return 0;
      sel = stash::api::LabelSelector::FromJson(j);
    }
    if (!sel.ok()) return 0;
    (void)sel->MatchesObject(Object());
    std::string printed = sel->ToString();
    auto again = stash::api::LabelSelector::Parse(printed);
    Check(again.ok(), "a printed label selector does not parse", printed);
    Check(again->ToString() == printed, "a printed label selector changes when re-parsed", printed);
  } else if (mode == "field") {
    auto sel = stash::api::FieldSelector::Parse(text);
    if (!sel.ok()) return 0;
    (void)sel->Matches(Object());
    (void)stash::api::CheckFieldSelectorSupported(*sel, "pods");
    (void)sel->RequiredValue("metadata.name");
    std::string printed = sel->ToString();
    auto again = stash::api::FieldSelector::Parse(printed);
    Check(again.ok(), "a printed field selector does not parse", printed);
    Check(again->ToString() == printed, "a printed field selector changes when re-parsed", printed);
  }
  return 0;
}
