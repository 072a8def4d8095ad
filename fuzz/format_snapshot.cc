// Fuzz target: a snapshot document read from a repository.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "stash/format/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto sn = stash::format::DecodeSnapshot(stash::fuzz::AsText(data, size));
  if (!sn.ok()) return 0;
  auto again = stash::format::DecodeSnapshot(stash::format::EncodeSnapshot(*sn));
  stash::fuzz::Require(again.ok(), "an encoded snapshot does not decode");
  stash::fuzz::Require(*again == *sn, "a snapshot changes across encode and decode");
  return 0;
}
