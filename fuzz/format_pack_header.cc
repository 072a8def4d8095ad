// Fuzz target: the end of a pack file. The last 4 bytes are the trailer (the
// sealed header's length, checked against the input's size as the pack's
// size); the whole input is also parsed as a plaintext header, which must
// re-encode to the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_check.h"
#include "stash/format/pack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  (void)stash::format::DecodePackTrailer(in, size);
  auto entries = stash::format::DecodePackHeader(in);
  if (!entries.ok()) return 0;
  std::vector<uint8_t> again = stash::format::EncodePackHeader(*entries);
  stash::fuzz::Require(std::span<const uint8_t>(again).size() == size &&
                           std::equal(again.begin(), again.end(), data),
                       "a pack header changes across decode and encode");
  (void)stash::format::PackSize(*entries);
  return 0;
}
