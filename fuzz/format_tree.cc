// Fuzz target: a tree blob (directory listing) read from a repository. A tree
// that decodes and is sorted must re-encode, and decode again to the same
// nodes (the tree id is the hash of its bytes).
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "stash/format/tree.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto nodes = stash::format::DecodeTree(stash::fuzz::AsText(data, size));
  if (!nodes.ok()) return 0;
  stash::format::SortNodes(&*nodes);
  auto text = stash::format::EncodeTree(*nodes);
  if (!text.ok()) return 0;  // duplicate names: refused, as restic's tree builder does
  auto again = stash::format::DecodeTree(*text);
  stash::fuzz::Require(again.ok(), "an encoded tree does not decode");
  stash::fuzz::Require(*again == *nodes, "a tree changes across encode and decode");
  return 0;
}
