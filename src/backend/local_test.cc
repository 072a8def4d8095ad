#include "stash/backend/local.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "conformance_targets.h"
#include "stash/core/testing.h"
#include "testing/peer_process.h"

namespace stash::backend {
namespace {

namespace fs = std::filesystem;

std::string FreshDir(const std::string& name) {
  std::string d = ScratchDir() + "/local-" + name;
  return d;
}

mode_t ModeOf(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(LocalBackend, CreateMakesResticsLayoutWithPrivateDirs) {
  std::string root = FreshDir("layout");
  LocalBackend b(root);
  ASSERT_OK(b.Create());
  for (const char* d :
       {"keys", "snapshots", "index", "locks", "data", "data/00", "data/a7", "data/ff"}) {
    EXPECT_TRUE(fs::is_directory(root + "/" + d)) << d;
    EXPECT_EQ(ModeOf(root + "/" + d), 0700u) << d;
  }
  int subdirs = 0;
  for (auto& e : fs::directory_iterator(root + "/data")) subdirs += e.is_directory();
  EXPECT_EQ(subdirs, 256);
  EXPECT_FALSE(fs::exists(root + "/config"));
}

TEST(LocalBackend, SavedFilesAreReadOnlyInTheirPlaceWithNoTempLeft) {
  std::string root = FreshDir("save");
  LocalBackend b(root);
  ASSERT_OK(b.Create());
  std::string name(64, 'a');
  name[0] = '3';
  name[1] = 'f';
  std::vector<uint8_t> data(5000, 0x42);
  ASSERT_OK(b.Save(Handle{FileType::kPack, name}, data));
  std::string path = root + "/data/3f/" + name;
  ASSERT_TRUE(fs::exists(path));
  EXPECT_EQ(ModeOf(path), 0400u);
  EXPECT_EQ(fs::file_size(path), 5000u);
  for (auto& e : fs::directory_iterator(root + "/data/3f")) {
    EXPECT_EQ(e.path().filename().string().find("-tmp-"), std::string::npos) << e.path();
  }
}

// Large page-aligned packs are written past the page cache but for their
// unaligned tail; every size and alignment must come back byte for byte.
TEST(LocalBackend, SavedPacksReadBackExactlyWhateverTheirSizeAndAlignment) {
  std::string root = FreshDir("save-direct");
  LocalBackend b(root);
  ASSERT_OK(b.Create());
  constexpr size_t kPage = 4096;
  const size_t sizes[] = {(4u << 20), (4u << 20) + 1, (3u << 20) + 4095, (1u << 20) - 1, 12345};
  uint8_t* mem = static_cast<uint8_t*>(std::aligned_alloc(kPage, (5u << 20) + kPage));
  ASSERT_NE(mem, nullptr);
  for (size_t i = 0; i < (5u << 20) + kPage; ++i) mem[i] = static_cast<uint8_t>(i * 131 + i / 7);
  int n = 0;
  for (size_t size : sizes) {
    for (size_t shift : {size_t{0}, size_t{1}, kPage / 2}) {  // aligned and not
      std::span<const uint8_t> data(mem + shift, size);
      std::string name(64, '0');
      name[0] = name[1] = 'a';
      name[63] = static_cast<char>('a' + n++);
      ASSERT_OK(b.Save(Handle{FileType::kPack, name}, data));
      std::vector<uint8_t> back;
      ASSERT_OK(b.Load(Handle{FileType::kPack, name}, 0, 0, &back));
      ASSERT_EQ(back.size(), size) << "size " << size << " shift " << shift;
      EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()))
          << "size " << size << " shift " << shift;
    }
  }
  std::free(mem);
}

TEST(LocalBackend, AnUploadKilledMidWriteLeavesNothingBehind) {
  std::string root = FreshDir("killed");
  LocalBackend b(root);
  ASSERT_OK(b.Create());
  const std::string dir = root + "/data/5c";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::vector<uint8_t> big(size_t{128} << 20, 0x5c);  // long enough to be caught writing
    std::string name(64, 'c');
    name[0] = '5';
    (void)b.Save(Handle{FileType::kPack, name}, big);
    ::_exit(0);
  }
  // Kill it while it holds an open file in the pack's directory.
  bool writing = false;
  for (int i = 0; i < 20000 && !writing; ++i) {
    std::error_code ec;
    for (auto& fd : fs::directory_iterator("/proc/" + std::to_string(child) + "/fd", ec)) {
      std::string target = fs::read_symlink(fd.path(), ec).string();
      if (target.rfind(dir, 0) == 0) writing = true;
    }
    if (!writing) ::usleep(100);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(writing) << "the upload was never seen writing";
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(fs::is_empty(dir)) << fs::directory_iterator(dir)->path();
}

TEST(LocalBackend, RemoveTemporaryFilesClearsLeftoversOnly) {
  std::string root = FreshDir("leftovers");
  LocalBackend b(root);
  ASSERT_OK(b.Create());
  std::string name(64, 'd');
  ASSERT_OK(b.Save(Handle{FileType::kPack, name}, std::vector<uint8_t>(10, 1)));
  for (const std::string& f : {root + "/data/dd/" + name + "-tmp-123456",
                               root + "/index/" + name + "-tmp-abcdef", root + "/config-tmp-x"}) {
    std::ofstream(f) << "partial";
  }
  auto removed = b.RemoveTemporaryFiles();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 3);
  EXPECT_TRUE(fs::exists(root + "/data/dd/" + name));
  EXPECT_EQ(std::distance(fs::directory_iterator(root + "/data/dd"), fs::directory_iterator()), 1);
  EXPECT_TRUE(fs::is_empty(root + "/index"));
}

TEST(LocalBackend, SaveIntoARepositoryWithoutDataSubdirsCreatesThem) {
  // rest-server and rclone create data/xx lazily; a repo copied from them
  // may lack most of the 256 directories.
  std::string root = FreshDir("lazy");
  fs::create_directories(root + "/data");
  LocalBackend b(root);
  std::string name(64, 'c');
  ASSERT_OK(b.Save(Handle{FileType::kPack, name}, std::vector<uint8_t>{1, 2, 3}));
  EXPECT_TRUE(fs::exists(root + "/data/cc/" + name));
}

TEST(LocalBackend, ReadsARepositoryInitialisedByRestic) {
  std::string restic = testing::FindProgram("restic");
  if (restic.empty()) {
    if (PeersRequired()) FAIL() << "restic is not installed";
    GTEST_SKIP() << "restic is not installed";
  }
  std::string root = FreshDir("restic-init");
  std::string cmd = "RESTIC_PASSWORD=conformance RESTIC_CACHE_DIR=" + ScratchDir() + "/cache " +
                    restic + " --no-cache init -q -r " + root + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  LocalBackend b(root);
  std::vector<FileInfo> keys;
  ASSERT_OK(b.List(FileType::kKey, [&](const FileInfo& fi) {
    keys.push_back(fi);
    return Status::Ok();
  }));
  ASSERT_EQ(keys.size(), 1u);
  std::vector<uint8_t> key;
  ASSERT_OK(b.Load(Handle{FileType::kKey, keys[0].name}, 0, 0, &key));
  EXPECT_EQ(key.size(), keys[0].size);
  std::string text(key.begin(), key.end());
  EXPECT_NE(text.find("\"kdf\":\"scrypt\""), std::string::npos) << text;
  auto config = b.Stat(Handle{FileType::kConfig, "config"});
  ASSERT_OK(config);
  EXPECT_GT(config->size, 32u);
  // And restic accepts a file we add next to its own (listing reads it).
  std::string snap(64, 'e');
  ASSERT_OK(b.Save(Handle{FileType::kLock, snap}, std::vector<uint8_t>{1}));
  EXPECT_EQ(ModeOf(root + "/locks/" + snap), ModeOf(root + "/keys/" + keys[0].name));
}

TEST(LocalBackend, ErrorsNameTheFile) {
  LocalBackend b(FreshDir("errors"));
  ASSERT_OK(b.Create());
  std::vector<uint8_t> out;
  Status s = b.Load(Handle{FileType::kIndex, std::string(64, '1')}, 0, 0, &out);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("index/1111"), std::string::npos) << s;
}

}  // namespace
}  // namespace stash::backend

namespace stash::backend {
namespace {

TEST(LocalBackend, GroupReadableConfigMakesNewFilesGroupReadable) {
  std::string root = ScratchDir() + "/local-group";
  LocalBackend b(root);
  ASSERT_OK(b.Create());
  ASSERT_OK(b.Save(Handle{FileType::kConfig, "config"}, std::vector<uint8_t>{1}));
  std::string before(64, '7');
  ASSERT_OK(b.Save(Handle{FileType::kKey, before}, std::vector<uint8_t>{1}));
  EXPECT_EQ(ModeOf(root + "/keys/" + before), 0400u);
  ASSERT_EQ(::chmod((root + "/config").c_str(), 0440), 0);  // an admin shares the repository
  std::string after(64, '8');
  ASSERT_OK(b.Save(Handle{FileType::kKey, after}, std::vector<uint8_t>{1}));
  EXPECT_EQ(ModeOf(root + "/keys/" + after), 0440u);
}

}  // namespace
}  // namespace stash::backend

namespace stash::backend {
namespace {

// Pages of `path` in the page cache, out of its total.
std::pair<size_t, size_t> CachedPages(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  struct stat st {};
  ::fstat(fd, &st);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t pages = (static_cast<size_t>(st.st_size) + page - 1) / page;
  void* map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  std::vector<unsigned char> resident(pages);
  ::mincore(map, static_cast<size_t>(st.st_size), resident.data());
  ::munmap(map, static_cast<size_t>(st.st_size));
  ::close(fd);
  size_t cached = 0;
  for (unsigned char r : resident) cached += r & 1;
  return {cached, pages};
}

void Evict(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

struct RemovedAtEnd {
  std::string dir;
  ~RemovedAtEnd() {
    std::error_code ec;
    fs::remove_all(dir, ec);
    const fs::path parent = fs::path(dir).parent_path();
    if (parent.filename() == "local-test-scratch") fs::remove(parent, ec);  // once empty
  }
};

// A directory for tests that watch the page cache: the scratch directory
// when its files' pages can be dropped, else one under the working directory
// (the build tree). On tmpfs (a TMPDIR in memory) a file's pages are the file
// itself, so nothing is ever evicted there. Empty when neither works.
std::string PageCacheDir(const std::string& name) {
  auto evictable = [](const std::string& dir) {
    fs::create_directories(dir);
    const std::string probe = dir + "/probe";
    std::vector<char> page(1 << 16, 'p');
    FILE* f = std::fopen(probe.c_str(), "wb");
    if (f == nullptr) return false;
    std::fwrite(page.data(), 1, page.size(), f);
    std::fclose(f);
    Evict(probe);
    const bool ok = CachedPages(probe).first == 0;
    fs::remove(probe);
    return ok;
  };
  for (const std::string& base :
       {ScratchDir(), fs::current_path().string() + "/local-test-scratch"}) {
    const std::string dir = base + "/local-" + name;
    if (evictable(dir)) return dir;
    fs::remove_all(dir);
  }
  return "";
}

TEST(LocalBackend, UncachedLoadsReturnTheRangeAndLeaveThePageCacheAlone) {
  const std::string root = PageCacheDir("uncached");
  if (root.empty()) GTEST_SKIP() << "no directory here whose page cache can be emptied";
  const RemovedAtEnd cleanup{root};
  LocalBackend b(root);
  ASSERT_OK(b.Create());
  std::vector<uint8_t> data(5 << 20);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + i / 4096);
  Handle h{FileType::kPack, std::string(64, 'c')};
  ASSERT_OK(b.Save(h, data));
  const std::string path = root + "/data/cc/" + h.name;
  int probe = ::open(path.c_str(), O_RDONLY | O_DIRECT);
  const bool direct_io = probe >= 0;
  if (probe >= 0) ::close(probe);

  struct Case {
    uint64_t offset, length;
  };
  // Unaligned starts and ends, a range ending at the file's end, a small one.
  for (Case c : {Case{12345, (2 << 20) + 17}, Case{4096, 1 << 20},
                 Case{(5 << 20) - (1 << 20) - 3, (1 << 20) + 3}, Case{100, 1000}}) {
    Evict(path);
    std::vector<uint8_t> buf;
    auto got = b.LoadUncached(h, c.offset, c.length, &buf);
    ASSERT_OK(got);
    ASSERT_EQ(got->size(), c.length);
    EXPECT_TRUE(std::equal(got->begin(), got->end(), data.begin() + static_cast<long>(c.offset)))
        << "offset " << c.offset;
    if (direct_io && c.length >= (1 << 20)) {
      EXPECT_EQ(CachedPages(path).first, 0u) << "a large uncached load went through the page cache";
    }
  }
  // A file already in the page cache is copied from there, not re-read from disk.
  std::vector<uint8_t> warm;
  ASSERT_OK(b.Load(h, 0, 0, &warm));
  std::vector<uint8_t> buf;
  auto got = b.LoadUncached(h, 1, 3 << 20, &buf);
  ASSERT_OK(got);
  EXPECT_TRUE(std::equal(got->begin(), got->end(), data.begin() + 1));

  EXPECT_EQ(b.LoadUncached(h, 4 << 20, 2 << 20, &buf).status().code(), Code::kInvalid);
  EXPECT_EQ(b.LoadUncached(Handle{FileType::kPack, std::string(64, 'd')}, 0, 2 << 20, &buf)
                .status()
                .code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace stash::backend

namespace stash::backend {
namespace {

TEST(LocalBackend, PrefetchReadsTheRangeIntoThePageCacheInTheBackground) {
  const std::string root = PageCacheDir("prefetch");
  if (root.empty()) GTEST_SKIP() << "no directory here whose page cache can be emptied";
  const RemovedAtEnd cleanup{root};
  LocalBackend b(root);
  ASSERT_OK(b.Create());
  std::vector<uint8_t> data(4 << 20, 7);
  Handle h{FileType::kPack, std::string(64, 'e')};
  ASSERT_OK(b.Save(h, data));
  const std::string path = root + "/data/ee/" + h.name;
  Evict(path);
  ASSERT_EQ(CachedPages(path).first, 0u);
  b.Prefetch(h, 1 << 20, 2 << 20);
  // The hint returns before the reads complete; they land within moments.
  size_t cached = 0;
  for (int i = 0; i < 200 && cached < 512; ++i) {
    cached = CachedPages(path).first;
    if (cached < 512) usleep(10000);
  }
  EXPECT_GE(cached, 512u) << "the 2 MiB asked for are not in the page cache";
  b.Prefetch(Handle{FileType::kPack, std::string(64, 'f')}, 0, 1);  // missing: no effect, no crash
}

}  // namespace
}  // namespace stash::backend
