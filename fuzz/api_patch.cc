// Fuzz target: the three PATCH formats.
//   line 1: content type, optionally followed by " Kind" for strategic merge
//           (e.g. "application/strategic-merge-patch+json Deployment")
//   line 2: the current object (JSON; an empty line is {})
//   rest:   the patch body
// The body is parsed as the server parses it, then applied; the result must
// be JSON the server can store.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "stash/api/patch.h"

namespace {

std::string_view TakeLine(std::string_view* in) {
  size_t nl = in->find('\n');
  std::string_view line = in->substr(0, nl);
  in->remove_prefix(nl == std::string_view::npos ? in->size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view type_line = TakeLine(&in);
  std::string_view target_text = TakeLine(&in);
  size_t space = type_line.find(' ');
  std::string_view content_type = type_line.substr(0, space);
  std::string_view kind = space == std::string_view::npos ? "" : type_line.substr(space + 1);
  nlohmann::json target = nlohmann::json::object();
  if (!target_text.empty()) {
    target = nlohmann::json::parse(target_text, nullptr, /*allow_exceptions=*/false);
    if (target.is_discarded()) return 0;  // the stored object is always valid JSON
  }
  auto patch = stash::api::ParsePatchBody(in, content_type);
  if (!patch.ok()) return 0;
  stash::Result<nlohmann::json> out = stash::InvalidError("unknown patch type");
  if (content_type == "application/json-patch+json") {
    out = stash::api::ApplyJsonPatch(target, *patch);
  } else if (content_type == "application/strategic-merge-patch+json") {
    out = stash::api::ApplyStrategicMergePatch(target, *patch, kind);
  } else {
    out = stash::api::ApplyMergePatch(target, *patch);
  }
  if (out.ok()) (void)out->dump();
  return 0;
}
