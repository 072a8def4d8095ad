// Fuzz target: a lock document (locks/ may be written by any client).
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "stash/format/lock.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto lock = stash::format::DecodeLock(stash::fuzz::AsText(data, size));
  if (!lock.ok()) return 0;
  auto again = stash::format::DecodeLock(stash::format::EncodeLock(*lock));
  stash::fuzz::Require(again.ok(), "an encoded lock does not decode");
  stash::fuzz::Require(*again == *lock, "a lock changes across encode and decode");
  return 0;
}
