// Fuzz target: a Kubernetes protobuf request body ("k8s\0" envelope, then
// the object's message). What it decodes must be JSON the server can store.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stash/api/protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto object =
      stash::api::DecodeProtobufObject(std::string_view(reinterpret_cast<const char*>(data), size));
  if (object.ok()) (void)object->dump();
  return 0;
}
