// Every decorator passes the wrapped store's properties through (a cache or
// a rate limit over an S3 bucket must not claim atomic creates, which decides
// how a concurrent `init` learns whether it won).
#include "stash/backend/forwarding.h"

#include <gtest/gtest.h>

#include "stash/backend/cache.h"
#include "stash/backend/fault.h"
#include "stash/backend/limit.h"
#include "stash/backend/memory.h"
#include "stash/backend/rate.h"
#include "stash/backend/retry.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/testing.h"

namespace stash::backend {
namespace {

// A store with the opposite of the defaults: creates not atomic, lists saved
// files at once, and has temporary files to remove.
class UnusualStore final : public ForwardingBackend {
 public:
  UnusualStore() : ForwardingBackend(std::make_unique<InMemoryBackend>("unusual")) {}
  bool CreatesAtomically() const override { return false; }
  bool ListsSavedFilesAtOnce() const override { return true; }
  Result<int> RemoveTemporaryFiles() override { return 3; }
};

void ExpectPassesThrough(Backend& b) {
  EXPECT_FALSE(b.CreatesAtomically());
  EXPECT_TRUE(b.ListsSavedFilesAtOnce());
  auto removed = b.RemoveTemporaryFiles();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 3);
  EXPECT_EQ(b.Location(), "mem:unusual");
}

TEST(ForwardingTest, EveryDecoratorPassesTheStorePropertiesThrough) {
  RealClock clock;
  SeededRandom random(1);
  CacheBackend cache(std::make_unique<UnusualStore>());
  ExpectPassesThrough(cache);
  RateLimitBackend rate(std::make_unique<UnusualStore>(), clock, 1 << 20, 1 << 20);
  ExpectPassesThrough(rate);
  LimitBackend limit(std::make_unique<UnusualStore>(), 2);
  ExpectPassesThrough(limit);
  RetryBackend retry(std::make_unique<UnusualStore>(), clock, random);
  ExpectPassesThrough(retry);
  FaultInjectingBackend fault(std::make_unique<UnusualStore>());
  ExpectPassesThrough(fault);
}

TEST(ForwardingTest, FaultsApplyToDirectReads) {
  FaultInjectingBackend fault(std::make_unique<InMemoryBackend>("m"));
  const std::vector<uint8_t> data = {1, 2, 3};
  Handle h{FileType::kPack, std::string(64, 'a')};
  ASSERT_OK(fault.Save(h, data));
  fault.FailNext(1, UnavailableError("injected"), kOpLoad);
  std::vector<uint8_t> buf;
  EXPECT_FALSE(fault.LoadUncached(h, 0, 0, &buf).ok());
  auto again = fault.LoadUncached(h, 0, 0, &buf);
  ASSERT_OK(again);
  EXPECT_EQ(std::vector<uint8_t>(again->begin(), again->end()), data);
}

}  // namespace
}  // namespace stash::backend
