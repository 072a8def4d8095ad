// Fuzz target: an index file read from a repository.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "stash/format/index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto index = stash::format::DecodeIndex(stash::fuzz::AsText(data, size));
  if (!index.ok()) return 0;
  auto again = stash::format::DecodeIndex(stash::format::EncodeIndex(*index));
  stash::fuzz::Require(again.ok(), "an encoded index does not decode");
  stash::fuzz::Require(*again == *index, "an index changes across encode and decode");
  return 0;
}
