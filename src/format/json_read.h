// Private helpers for decoding restic documents with nlohmann::json, mirroring
// Go's encoding/json rules: a missing key or a null leaves the field at its
// zero value, a value of the wrong JSON type is an error, unknown keys are
// ignored. nlohmann's exceptions stop here and become kInvalid.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/id.h"
#include "stash/core/result.h"
#include "stash/format/time.h"

namespace stash::format::internal {

using Json = nlohmann::json;

// Parses `text`; `doc` names the document in error messages ("tree",
// "snapshot", ...). The top level must be an object unless allow_array.
Result<Json> ParseJson(std::string_view text, std::string_view doc, bool allow_array = false);

// Each Read* looks up `key` in object `obj`. Absent or null → *out untouched.
// Wrong type or out-of-range value → kInvalid mentioning doc and key.
Status ReadString(const Json& obj, const char* key, std::string_view doc, std::string* out);
Status ReadUint(const Json& obj, const char* key, std::string_view doc, uint64_t max,
                uint64_t* out);
Status ReadUint32(const Json& obj, const char* key, std::string_view doc, uint32_t* out);
Status ReadInt(const Json& obj, const char* key, std::string_view doc, int64_t* out);
Status ReadBool(const Json& obj, const char* key, std::string_view doc, bool* out);
Status ReadTime(const Json& obj, const char* key, std::string_view doc, Timestamp* out);
// A hex id; *present tells whether the key held a non-null value.
Status ReadId(const Json& obj, const char* key, std::string_view doc, Id* out,
              bool* present = nullptr);
Status ReadOptionalId(const Json& obj, const char* key, std::string_view doc,
                      std::optional<Id>* out);
Status ReadBase64(const Json& obj, const char* key, std::string_view doc, std::string* out);
Status ReadStringList(const Json& obj, const char* key, std::string_view doc,
                      std::vector<std::string>* out);
// Array of hex ids; *is_null (optional) reports null/absent.
Status ReadIdList(const Json& obj, const char* key, std::string_view doc, std::vector<Id>* out,
                  bool* is_null = nullptr);

// Type check for a value that must be an array (null allowed → returns
// nullptr), for callers that iterate themselves.
Result<const Json*> ArrayOrNull(const Json& obj, const char* key, std::string_view doc);
Status ExpectObject(const Json& value, std::string_view doc, std::string_view what);

}  // namespace stash::format::internal
