// Fuzz target: YAML → JSON (`application/yaml` request bodies, kubectl's
// manifests), anchors and aliases included. Every document it returns must be
// JSON the server can store and answer with (dump() throws on invalid UTF-8).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "yaml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto docs = stash::api::YamlToJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!docs.ok()) return 0;
  for (const nlohmann::json& doc : *docs) (void)doc.dump();
  return 0;
}
