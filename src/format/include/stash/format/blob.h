// BlobType: the two kinds of blobs restic stores in packs (file content and
// tree JSON), with the names the index JSON uses ("data", "tree").
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace stash::format {

enum class BlobType { kData, kTree };

// "data" or "tree", as in index files and restic's CLI output.
std::string_view BlobTypeName(BlobType type);
// The inverse of BlobTypeName; nullopt for any other string.
std::optional<BlobType> ParseBlobType(std::string_view name);

}  // namespace stash::format
