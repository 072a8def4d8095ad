#include "stash/core/base64.h"

#include <sodium/utils.h>

namespace stash {
namespace {

int Variant(Base64Encoding e) {
  switch (e) {
    case Base64Encoding::kStd:
      return sodium_base64_VARIANT_ORIGINAL;
    case Base64Encoding::kRawStd:
      return sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    case Base64Encoding::kUrl:
      return sodium_base64_VARIANT_URLSAFE;
    case Base64Encoding::kRawUrl:
      break;
  }
  return sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

Status Illegal(size_t offset) {
  return InvalidError("illegal base64 data at input byte " + std::to_string(offset));
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> data, Base64Encoding encoding) {
  const int variant = Variant(encoding);
  // The length libsodium reports includes the terminating NUL it writes.
  std::string out(sodium_base64_encoded_len(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
  out.pop_back();
  return out;
}

std::string Base64Encode(std::string_view data, Base64Encoding encoding) {
  return Base64Encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()),
      encoding);
}

Result<std::string> Base64Decode(std::string_view text, Base64Encoding encoding) {
  // libsodium treats a NUL byte as one of the ignored characters (it looks
  // them up with strchr); Go rejects it, and so do we.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) return Illegal(nul);
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  const int rc = sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                   text.data(), text.size(), "\r\n", &len, &end, Variant(encoding));
  const size_t stopped = static_cast<size_t>(end - text.data());
  if (rc != 0 || stopped != text.size()) return Illegal(stopped);
  out.resize(len);
  return out;
}

}  // namespace stash
