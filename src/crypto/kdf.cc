#include "stash/crypto/kdf.h"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace stash::crypto {
namespace {

// scrypt needs about 128 * r * (N + p) bytes; refuse parameters beyond this so
// a hostile key file cannot make us allocate without bound.
constexpr uint64_t kMaxMemory = uint64_t{2} << 30;
// scrypt's time grows with N * r * p (p runs the memory-hard mix p times in
// turn, without more memory): a key file with a small N and a huge p would
// keep us busy for days. 2^26 is 256 times restic's default cost (N=2^15,
// r=8, p=1; ~0.1 s here), 16 times what restic's 500 ms calibration writes on
// a fast machine (p of 10 to 20), about 25 s of CPU at worst.
constexpr uint64_t kMaxWork = uint64_t{1} << 26;

std::string Describe(ScryptParams p) {
  return "scrypt parameters N=" + std::to_string(p.n) + " r=" + std::to_string(p.r) +
         " p=" + std::to_string(p.p);
}

}  // namespace

ScryptParams DefaultScryptParams() { return ScryptParams{32768, 8, 1}; }

Status ValidateScryptParams(ScryptParams params) {
  const uint64_t n = params.n, r = params.r, p = params.p;
  if (n < 2 || (n & (n - 1)) != 0) {
    return InvalidError(Describe(params) + ": N must be a power of two greater than 1");
  }
  if (r == 0 || p == 0) {
    return InvalidError(Describe(params) + ": r and p must be at least 1");
  }
  // RFC 7914: p <= (2^32 - 1) * 32 / (128 * r), i.e. r * p < 2^30.
  if (r * p >= (uint64_t{1} << 30)) {
    return InvalidError(Describe(params) + ": r * p must be below 2^30");
  }
  // RFC 7914's "N < 2^(128 * r / 8)" is an erratum (errata 5971-5973) that
  // libsodium and Go do not enforce: restic 0.8 wrote keys with N=2^18, r=1.
  // Memory: 128 * r * p for B plus 128 * r * (N + 2) for V.
  const unsigned __int128 mem = static_cast<unsigned __int128>(128) * r * (n + p + 2);
  if (mem > kMaxMemory) {
    return InvalidError(Describe(params) + " need " +
                        std::to_string(static_cast<uint64_t>(mem >> 20)) +
                        " MiB, more than the 2048 MiB stash allows: the key file is not usable");
  }
  if (static_cast<unsigned __int128>(n) * r * p > kMaxWork) {
    return InvalidError(Describe(params) +
                        ": N * r * p is above 2^26, 256 times restic's default cost (N=32768 r=8 "
                        "p=1), which would take minutes to hours to derive: the key file is not "
                        "usable");
  }
  return Status::Ok();
}

Result<Key> DeriveUserKey(std::string_view password, std::span<const uint8_t> salt,
                          ScryptParams params) {
  STASH_RETURN_IF_ERROR(ValidateScryptParams(params));
  // libsodium's scrypt runs Salsa20/8 with SSE2/AVX2: restic's p=5 keys open
  // in 0.35 s instead of OpenSSL's 0.61 s, ours in 0.09 s instead of 0.13 s.
  // sodium_init() picks that implementation (once; later calls are no-ops).
  static const bool sodium_ready = sodium_init() >= 0;
  if (!sodium_ready) return InternalError("libsodium could not be initialised");
  uint8_t out[64];
  errno = 0;
  if (crypto_pwhash_scryptsalsa208sha256_ll(reinterpret_cast<const uint8_t*>(password.data()),
                                            password.size(), salt.data(), salt.size(), params.n,
                                            params.r, params.p, out, sizeof out) != 0) {
    const int err = errno;
    return ResourceExhaustedError("scrypt key derivation with " + Describe(params) + " failed (" +
                                  std::strerror(err) + "); free some memory and retry")
        .SetRetryable(false);
  }
  Key key;
  std::memcpy(key.encrypt.data(), out, 32);
  std::memcpy(key.mac_k.data(), out + 32, 16);
  std::memcpy(key.mac_r.data(), out + 48, 16);
  sodium_memzero(out, sizeof out);
  return key;
}

}  // namespace stash::crypto
