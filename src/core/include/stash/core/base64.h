// Base64 (RFC 4648) for every layer: restic's []byte JSON fields (key salt
// and data, master key parts, xattr values), Kubernetes Secret data and
// kubeconfig certificates, storage credentials and JWTs. One codec, on
// libsodium's constant-time sodium_bin2base64 / sodium_base642bin, so all
// callers accept and reject the same texts.
//
// Decoding is strict, as Go's encoding/base64 (which restic, Kubernetes and
// kubectl use): characters outside the encoding's alphabet, a missing or
// misplaced '=', a truncated quantum and non-zero bits after the last byte are
// kInvalid. Like Go, '\r' and '\n' anywhere in the text are skipped (PEM-style
// wrapped lines); nothing else is.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash {

// Go's names: StdEncoding, RawStdEncoding, URLEncoding, RawURLEncoding.
enum class Base64Encoding {
  kStd,     // A-Z a-z 0-9 + /, '=' padded (restic JSON, Kubernetes, most HTTP APIs)
  kRawStd,  // the same without padding
  kUrl,     // A-Z a-z 0-9 - _, '=' padded
  kRawUrl,  // the same without padding (JWT segments)
};

std::string Base64Encode(std::span<const uint8_t> data,
                         Base64Encoding encoding = Base64Encoding::kStd);
std::string Base64Encode(std::string_view data, Base64Encoding encoding = Base64Encoding::kStd);

// The decoded bytes (as a std::string, which callers keep as a byte string or
// copy into a vector). kInvalid names the offset of the first byte that is
// not part of a valid encoding: "illegal base64 data at input byte 7".
Result<std::string> Base64Decode(std::string_view text,
                                 Base64Encoding encoding = Base64Encoding::kStd);

}  // namespace stash
