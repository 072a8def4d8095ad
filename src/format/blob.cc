#include "stash/format/blob.h"

namespace stash::format {

std::string_view BlobTypeName(BlobType type) { return type == BlobType::kTree ? "tree" : "data"; }

std::optional<BlobType> ParseBlobType(std::string_view name) {
  if (name == "data") return BlobType::kData;
  if (name == "tree") return BlobType::kTree;
  return std::nullopt;
}

}  // namespace stash::format
