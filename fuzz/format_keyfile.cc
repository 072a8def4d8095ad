// Fuzz target: a key file (plaintext JSON in keys/) and, when the input is
// a master key document instead, the master key.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "stash/format/keyfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = stash::fuzz::AsText(data, size);
  auto key = stash::format::DecodeKeyFile(text);
  if (key.ok()) {
    auto again = stash::format::DecodeKeyFile(stash::format::EncodeKeyFile(*key));
    stash::fuzz::Require(again.ok(), "an encoded key file does not decode");
    stash::fuzz::Require(*again == *key, "a key file changes across encode and decode");
  }
  auto master = stash::format::DecodeMasterKey(text);
  if (master.ok()) {
    auto again = stash::format::DecodeMasterKey(stash::format::EncodeMasterKey(*master));
    stash::fuzz::Require(again.ok() && *again == *master,
                         "a master key changes across encode and decode");
  }
  return 0;
}
