#include "stash/crypto/key.h"

#include <algorithm>
#include <span>

namespace stash::crypto {
namespace {

template <size_t N>
bool NonZero(const std::array<uint8_t, N>& a) {
  return std::any_of(a.begin(), a.end(), [](uint8_t b) { return b != 0; });
}

}  // namespace

Key Key::Generate(Random& random) {
  Key k;
  do {
    random.Fill(k.encrypt);
    random.Fill(k.mac_k);
    random.Fill(k.mac_r);
  } while (!k.Valid());
  return k;
}

bool Key::Valid() const { return NonZero(encrypt) && NonZero(mac_k) && NonZero(mac_r); }

}  // namespace stash::crypto
