// Conversion of YAML documents (the CRD manifests, `application/yaml`
// request bodies) to JSON, with YAML 1.2 core-schema scalar typing: plain
// true/false → booleans, integers and floats → numbers, null/~ → null, quoted
// scalars always strings.
//
// Thread-safety: stateless free functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::api {

// Every non-empty document of a (multi-document) YAML stream. kInvalid with
// yaml-cpp's line/column message when the text is not valid YAML.
Result<std::vector<nlohmann::json>> YamlToJson(std::string_view text);

}  // namespace stash::api
