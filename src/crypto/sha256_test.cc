#include "stash/crypto/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "stash/core/random.h"

namespace stash::crypto {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// FIPS 180-2 / NIST CAVP examples.
TEST(Sha256Test, NistVectors) {
  EXPECT_EQ(Sha256(std::string_view("")).Hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256(std::string_view("abc")).Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      Sha256(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).Hex(),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(Sha256(Bytes(million)).Hex(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, HasherMatchesOneShotForAnySplit) {
  SeededRandom rnd(7);
  std::vector<uint8_t> data(100000);
  rnd.Fill(data);
  const Id want = Sha256(data);
  for (size_t piece : {1u, 63u, 64u, 65u, 4096u, 99999u}) {
    Sha256Hasher h;
    for (size_t off = 0; off < data.size(); off += piece) {
      h.Update(std::span<const uint8_t>(data).subspan(off, std::min(piece, data.size() - off)));
    }
    EXPECT_EQ(h.Finish(), want) << "piece " << piece;
  }
}

TEST(Sha256Test, FinishStartsOver) {
  Sha256Hasher h;
  h.Update(std::string_view("ab"));
  EXPECT_EQ(h.Finish(), Sha256(std::string_view("ab")));
  h.Update(std::string_view("abc"));
  EXPECT_EQ(h.Finish(), Sha256(std::string_view("abc")));
  Sha256Hasher moved = std::move(h);
  moved.Update(std::string_view("abc"));
  EXPECT_EQ(moved.Finish(), Sha256(std::string_view("abc")));
}

TEST(Sha256Test, ConcurrentOneShotCallsAgree) {
  std::vector<uint8_t> data(1 << 16, 0x5a);
  const Id want = Sha256(data);
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) bad[t] += Sha256(data) != want;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace stash::crypto
