// Fuzz target: the repository's config document.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "stash/format/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = stash::format::DecodeConfig(stash::fuzz::AsText(data, size));
  if (!config.ok()) return 0;
  auto again = stash::format::DecodeConfig(stash::format::EncodeConfig(*config));
  stash::fuzz::Require(again.ok(), "an encoded config does not decode");
  stash::fuzz::Require(*again == *config, "a config changes across encode and decode");
  return 0;
}
