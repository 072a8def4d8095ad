// Conversion of YAML documents (the CRD manifests, `application/yaml`
// request bodies) to JSON, with YAML 1.2 core-schema scalar typing: plain
// true/false → booleans, integers and floats → numbers, null/~ → null, quoted
// scalars always strings.
//
// Built from yaml-cpp's parse events with an explicit stack (no recursion
// here; yaml-cpp's own parser stops at its depth guard), within decode.h's
// limits: at most kMaxDepth levels, kMaxValues values and 12 MiB of scalar
// text after alias expansion ("billion laughs" fails with "document contains
// excessive aliasing", as Go's YAML decoder says). Text that is not UTF-8
// (without a UTF-16/32 byte order mark) is refused, as Go's decoder does.
//
// Thread-safety: stateless free functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::api {

// Every non-empty document of a (multi-document) YAML stream. kInvalid with
// yaml-cpp's line/column message when the text is not valid YAML;
// kResourceExhausted when it holds more values than the limit.
Result<std::vector<nlohmann::json>> YamlToJson(std::string_view text);

}  // namespace stash::api
