#include "stash/backend/cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "digest.h"
#include "stash/backend/fault.h"
#include "stash/backend/memory.h"
#include "stash/core/testing.h"

namespace stash::backend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

// A file of the repository: its name is the SHA-256 of its content.
Handle Named(FileType t, const std::vector<uint8_t>& content, bool tree_pack = false) {
  return Handle{t, Hex(Sha256(std::span<const uint8_t>(content))), tree_pack};
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("stash-cache-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    auto mem = std::make_unique<InMemoryBackend>("mem");
    store_ = mem.get();
    auto fault = std::make_unique<FaultInjectingBackend>(std::move(mem));
    fault_ = fault.get();
    cache_ = std::make_unique<CacheBackend>(std::move(fault));
    auto created = cache_->Attach(base_.string(), std::string(64, 'a'), SystemTime{} + 1000h);
    ASSERT_OK(created);
    EXPECT_TRUE(*created);
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_;
  InMemoryBackend* store_;
  FaultInjectingBackend* fault_;
  std::unique_ptr<CacheBackend> cache_;
};

TEST_F(CacheTest, LaysOutTheDirectoryAsRestic) {
  EXPECT_TRUE(fs::exists(base_ / "CACHEDIR.TAG"));
  std::ifstream tag(base_ / "CACHEDIR.TAG");
  std::string line;
  std::getline(tag, line);
  EXPECT_EQ(line, "Signature: 8a477f597d28d172789f06886806bc55");
  const fs::path dir = base_ / std::string(64, 'a');
  for (const char* sub : {"snapshots", "index", "data"}) EXPECT_TRUE(fs::is_directory(dir / sub));
  std::ifstream v(dir / "version");
  std::getline(v, line);
  EXPECT_EQ(line, "1");
  EXPECT_EQ(fs::status(dir).permissions() & fs::perms::all, fs::perms::owner_all);
  // A second open finds it.
  CacheBackend again(std::make_unique<InMemoryBackend>("m"));
  auto created = again.Attach(base_.string(), std::string(64, 'a'), SystemTime{} + 1000h);
  ASSERT_OK(created);
  EXPECT_FALSE(*created);
}

TEST_F(CacheTest, SnapshotsIndexAndTreePacksAreReadFromTheCacheDataPacksFromTheStore) {
  auto snap = Bytes("snapshot"), index = Bytes("index"), tree = Bytes("tree pack bytes");
  auto data = Bytes("data pack");
  const Handle hs = Named(FileType::kSnapshot, snap), hi = Named(FileType::kIndex, index);
  const Handle ht = Named(FileType::kPack, tree, true), hd = Named(FileType::kPack, data);
  // Written by another machine: the first load fills the cache.
  for (auto [h, c] : {std::pair{hs, snap}, {hi, index}, {ht, tree}, {hd, data}}) {
    ASSERT_OK(store_->Save(h, c));
  }
  std::vector<uint8_t> out;
  ASSERT_OK(cache_->Load(ht, 5, 4, &out));  // a range of a tree pack fetches it whole
  EXPECT_EQ(std::string(out.begin(), out.end()), "pack");
  ASSERT_OK(cache_->Load(hs, 0, 0, &out));
  ASSERT_OK(cache_->Load(hi, 0, 0, &out));
  const int loads = fault_->calls(kOpLoad);
  EXPECT_EQ(loads, 3);
  EXPECT_EQ(cache_->fills(), 3u);

  ASSERT_OK(cache_->Load(hs, 0, 0, &out));
  EXPECT_EQ(out, snap);
  ASSERT_OK(cache_->Load(hi, 0, 0, &out));
  EXPECT_EQ(out, index);
  ASSERT_OK(cache_->Load(ht, 0, 4, &out));
  EXPECT_EQ(std::string(out.begin(), out.end()), "tree");
  auto span = cache_->LoadUncached(ht, 10, 5, &out);
  ASSERT_OK(span);
  EXPECT_EQ(std::string(span->begin(), span->end()), "bytes");
  EXPECT_EQ(fault_->calls(kOpLoad), loads);  // none of these reached the store
  ASSERT_OK(cache_->Load(hd, 0, 0, &out));
  ASSERT_OK(cache_->Load(hd, 0, 0, &out));
  EXPECT_EQ(fault_->calls(kOpLoad), loads + 2);  // data packs are never kept
  EXPECT_FALSE(fs::exists(base_ / std::string(64, 'a') / hd.Path()));
}

TEST_F(CacheTest, SavedFilesAreCachedAndAnotherProcessReadsThem) {
  auto snap = Bytes("new snapshot"), tree = Bytes("new tree pack");
  const Handle hs = Named(FileType::kSnapshot, snap), ht = Named(FileType::kPack, tree, true);
  ASSERT_OK(cache_->Save(hs, snap));
  ASSERT_OK(cache_->Save(ht, tree));
  // The next run (a new process) shares the directory.
  auto fault = std::make_unique<FaultInjectingBackend>(std::make_unique<InMemoryBackend>("x"));
  FaultInjectingBackend* f = fault.get();
  CacheBackend next(std::move(fault));
  ASSERT_OK(next.Attach(base_.string(), std::string(64, 'a'), SystemTime{} + 1001h));
  std::vector<uint8_t> out;
  ASSERT_OK(next.Load(hs, 0, 0, &out));
  EXPECT_EQ(out, snap);
  ASSERT_OK(next.Load(Handle{FileType::kPack, ht.name}, 4, 4, &out));  // hint or not
  EXPECT_EQ(std::string(out.begin(), out.end()), "tree");
  EXPECT_EQ(f->calls(kOpLoad), 0);
}

TEST_F(CacheTest, FilesRemovedFromTheStoreLeaveTheCache) {
  auto a = Bytes("snapshot a"), b = Bytes("snapshot b"), ia = Bytes("index a");
  auto ta = Bytes("tree a"), tb = Bytes("tree b");
  const Handle ha = Named(FileType::kSnapshot, a), hb = Named(FileType::kSnapshot, b);
  const Handle hia = Named(FileType::kIndex, ia);
  const Handle hta = Named(FileType::kPack, ta, true), htb = Named(FileType::kPack, tb, true);
  for (auto [h, c] : {std::pair{ha, a}, {hb, b}, {hia, ia}, {hta, ta}, {htb, tb}}) {
    ASSERT_OK(cache_->Save(h, c));
  }
  const fs::path dir = base_ / std::string(64, 'a');
  // Another client forgets snapshot a, prunes: index a and tree pack a go.
  ASSERT_OK(store_->Remove(ha));
  ASSERT_OK(store_->Remove(hia));
  ASSERT_OK(store_->Remove(hta));
  std::vector<std::string> names;
  ASSERT_OK(cache_->List(FileType::kSnapshot, [&](const FileInfo& fi) {
    names.push_back(fi.name);
    return Status::Ok();
  }));
  EXPECT_EQ(names, std::vector<std::string>{hb.name});
  EXPECT_FALSE(fs::exists(dir / ha.Path()));
  EXPECT_TRUE(fs::exists(dir / hb.Path()));
  ASSERT_OK(cache_->List(FileType::kIndex, [](const FileInfo&) { return Status::Ok(); }));
  EXPECT_FALSE(fs::exists(dir / hia.Path()));
  cache_->KeepOnlyPacks({htb.name});
  EXPECT_FALSE(fs::exists(dir / hta.Path()));
  EXPECT_TRUE(fs::exists(dir / htb.Path()));
  // A listing cut short by its callback proves nothing: the cache stays.
  auto c = Bytes("snapshot c");
  const Handle hc = Named(FileType::kSnapshot, c);
  ASSERT_OK(cache_->Save(hc, c));
  ASSERT_OK(store_->Remove(hc));
  EXPECT_FALSE(
      cache_->List(FileType::kSnapshot, [](const FileInfo&) { return InternalError("stop"); })
          .ok());
  EXPECT_TRUE(fs::exists(dir / hc.Path()));
  // A Stat that finds it gone drops it.
  EXPECT_EQ(cache_->Stat(hc).status().code(), Code::kNotFound);
  EXPECT_FALSE(fs::exists(dir / hc.Path()));
}

TEST_F(CacheTest, ADamagedOrVanishedCopyIsReadFromTheStore) {
  auto snap = Bytes("snapshot content");
  const Handle hs = Named(FileType::kSnapshot, snap);
  ASSERT_OK(cache_->Save(hs, snap));
  const fs::path file = base_ / std::string(64, 'a') / hs.Path();
  {
    std::ofstream bad(file, std::ios::trunc);
    bad << "garbage of the same kind";
  }
  std::vector<uint8_t> out;
  ASSERT_OK(cache_->Load(hs, 0, 0, &out));
  EXPECT_EQ(out, snap);
  ASSERT_OK(cache_->Load(hs, 0, 0, &out));  // repaired: from the cache again
  EXPECT_EQ(out, snap);
  EXPECT_EQ(fault_->calls(kOpLoad), 1);
  fs::remove(file);
  ASSERT_OK(cache_->Load(hs, 0, 0, &out));
  EXPECT_EQ(out, snap);
}

TEST_F(CacheTest, ContentThatDoesNotMatchItsNameIsNeverCached) {
  auto content = Bytes("corrupt in the store");
  const Handle h{FileType::kIndex, std::string(64, 'b')};
  ASSERT_OK(store_->Save(h, content));
  std::vector<uint8_t> out;
  ASSERT_OK(cache_->Load(h, 0, 0, &out));
  EXPECT_EQ(out, content);  // the caller finds out (it checks the hash itself)
  EXPECT_FALSE(fs::exists(base_ / std::string(64, 'a') / h.Path()));
}

TEST_F(CacheTest, ConcurrentLoadsOfOneFileDownloadItOnce) {
  std::vector<uint8_t> tree(1 << 20, 3);
  const Handle ht = Named(FileType::kPack, tree, true);
  ASSERT_OK(store_->Save(ht, tree));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      std::vector<uint8_t> out;
      if (cache_->Load(ht, static_cast<uint64_t>(i) * 1000, 100, &out).ok() && out.size() == 100) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(fault_->calls(kOpLoad), 1);
}

TEST(CacheDirs, DefaultFollowsResticsPrecedence) {
  EXPECT_EQ(*DefaultCacheDir({{"RESTIC_CACHE_DIR", "/c"}, {"HOME", "/h"}}), "/c");
  EXPECT_EQ(*DefaultCacheDir({{"XDG_CACHE_HOME", "/x"}, {"HOME", "/h"}}), "/x/restic");
  EXPECT_EQ(*DefaultCacheDir({{"HOME", "/h"}}), "/h/.cache/restic");
  EXPECT_EQ(DefaultCacheDir({}).status().code(), Code::kNotFound);
}

TEST(CacheDirs, OldDirectoriesAreThoseNotOpenedForThirtyDays) {
  const fs::path base =
      fs::temp_directory_path() / ("stash-old-cache-" + std::to_string(::getpid()));
  fs::remove_all(base);
  const SystemTime now = std::chrono::system_clock::now();
  CacheBackend fresh(std::make_unique<InMemoryBackend>("m"));
  ASSERT_OK(fresh.Attach(base.string(), std::string(64, '1'), now));
  CacheBackend stale(std::make_unique<InMemoryBackend>("m"));
  ASSERT_OK(stale.Attach(base.string(), std::string(64, '2'), now - 31 * 24h));
  fs::create_directories(base / "not-a-cache");
  auto old = OldCacheDirs(base.string(), now);
  ASSERT_OK(old);
  EXPECT_EQ(*old, std::vector<std::string>{std::string(64, '2')});
  ASSERT_OK(RemoveTree((base / std::string(64, '2')).string()));
  EXPECT_TRUE(OldCacheDirs(base.string(), now)->empty());
  EXPECT_TRUE(fs::exists(base / std::string(64, '1')));
  fs::remove_all(base);
}

}  // namespace
}  // namespace stash::backend
