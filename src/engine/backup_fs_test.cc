#include "backup_fs.h"

#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "backup_select.h"
#include "engine_fixture.h"
#include "stash/core/testing.h"

namespace stash::engine {
namespace {

class BackupFsTest : public testing::TempDirTest {
 protected:
  std::string Write(const std::string& name, const std::string& data) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }
  std::vector<std::string> warnings_;
  WarnFn warn_ = [this](const std::string& m) { warnings_.push_back(m); };
};

// A file system whose attribute list is "user.a", "user.bad", "user.c" and
// whose per-call failures are set by the test.
struct Fake {
  static inline int list_errno = 0;
  static inline int bad_errno = 0;  // what reading user.bad fails with
  static ssize_t List(const char*, char* buf, size_t size) {
    static const char kNames[] = "user.a\0user.bad\0user.c";
    if (list_errno != 0) {
      errno = list_errno;
      return -1;
    }
    if (size == 0) return sizeof kNames;
    std::memcpy(buf, kNames, sizeof kNames);
    return sizeof kNames;
  }
  static ssize_t Get(const char*, const char* name, void* value, size_t size) {
    if (std::string(name) == "user.bad" && bad_errno != 0) {
      errno = bad_errno;
      return -1;
    }
    std::string v = std::string("v-") + name;
    if (size == 0) return static_cast<ssize_t>(v.size());
    std::memcpy(value, v.data(), v.size());
    return static_cast<ssize_t>(v.size());
  }
};
const XattrCalls kFake{Fake::List, Fake::Get};

std::vector<std::string> Names(const std::vector<format::ExtendedAttribute>& xs) {
  std::vector<std::string> out;
  for (const auto& x : xs) out.push_back(x.name);
  return out;
}

TEST_F(BackupFsTest, UnreadableValueIsLeftOutWithRestics014Warning) {
  Fake::list_errno = 0;
  Fake::bad_errno = EACCES;
  std::vector<format::ExtendedAttribute> xs;
  ASSERT_OK(ReadXattrs("/host/f", "src/f", &xs, warn_, kFake));
  EXPECT_EQ(Names(xs), (std::vector<std::string>{"user.a", "user.c"}));
  EXPECT_EQ(xs[1].value, "v-user.c");
  EXPECT_EQ(warnings_,
            (std::vector<std::string>{"can not obtain extended attribute user.bad for src/f:"}));
}

TEST_F(BackupFsTest, ValueGoneSinceListingIsKeptAsNull) {
  Fake::list_errno = 0;
  Fake::bad_errno = ENODATA;
  std::vector<format::ExtendedAttribute> xs;
  ASSERT_OK(ReadXattrs("/host/f", "src/f", &xs, warn_, kFake));
  ASSERT_EQ(Names(xs), (std::vector<std::string>{"user.a", "user.bad", "user.c"}));
  EXPECT_TRUE(xs[1].null_value);
  EXPECT_FALSE(xs[0].null_value);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(BackupFsTest, UnreadableListFailsTheEntryAsRestic) {
  Fake::list_errno = EIO;
  std::vector<format::ExtendedAttribute> xs;
  Status s = ReadXattrs("/host/f", "src/f", &xs, warn_, kFake);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "NodeFromFileInfo: xattr.list src/f: Input/output error");
  Fake::list_errno = ENOTSUP;  // no attributes on this file system: fine
  EXPECT_OK(ReadXattrs("/host/f", "src/f", &xs, warn_, kFake));
  EXPECT_TRUE(xs.empty());
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(BackupFsTest, RealAttributesInListOrderAndNoneOnSymlinks) {
  std::string f = Write("f", "x");
  if (setxattr(f.c_str(), "user.k", "1", 1, 0) != 0) GTEST_SKIP() << "no user xattrs here";
  ASSERT_EQ(setxattr(f.c_str(), "user.e", "", 0, 0), 0);
  std::vector<format::ExtendedAttribute> xs;
  ASSERT_OK(ReadXattrs(f, f, &xs, warn_));
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].value + xs[1].value, "1");
  EXPECT_FALSE(xs[0].null_value || xs[1].null_value);

  // restic 0.14 stores no attributes for a symlink, even one that has some
  // (root may set trusted.* on a link).
  std::string link = dir_ + "/l";
  ASSERT_EQ(symlink("f", link.c_str()), 0);
  if (lsetxattr(link.c_str(), "trusted.t", "v", 1, 0) != 0) GTEST_SKIP() << "not root";
  struct stat st {};
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  NameCache names;
  auto node = NodeForPath(link, link, "l", st, false, names, warn_);
  ASSERT_OK(node);
  EXPECT_EQ(node->linktarget, "f");
  EXPECT_TRUE(node->extended_attributes.empty());
}

// The walker's view of --exclude-caches on a directory with a malformed tag.
TEST_F(BackupFsTest, MalformedTagFileWarnsOnceAndKeepsTheDirectory) {
  BackupOptions opts;
  opts.exclude_if_present = {"CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55"};
  opts.on_warning = warn_;
  auto sel = Selector::Make(opts);
  ASSERT_OK(sel);
  Write("CACHEDIR.TAG", "Signature: 8a4");
  Selector::TagMemo memo;
  EXPECT_FALSE(
      sel->RejectByTag(dir_, "/shown", "CACHEDIR.TAG", &memo));  // the tag file is not examined
  EXPECT_TRUE(warnings_.empty());
  EXPECT_FALSE(sel->RejectByTag(dir_, "/shown", "a", &memo));
  EXPECT_FALSE(sel->RejectByTag(dir_, "/shown", "b", &memo));
  EXPECT_EQ(warnings_, (std::vector<std::string>{"could not read signature from exclusion tagfile "
                                                 "\"/shown/CACHEDIR.TAG\": unexpected EOF"}));

  Write("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55 trailing");
  Selector::TagMemo fresh;
  EXPECT_TRUE(sel->RejectByTag(dir_, "/other", "a", &fresh));
  Write("CACHEDIR.TAG", "");
  fresh.clear();
  EXPECT_FALSE(sel->RejectByTag(dir_, "/third", "a", &fresh));
  EXPECT_EQ(warnings_.back(),
            "invalid (too short) signature in exclusion tagfile \"/third/CACHEDIR.TAG\"");
  Write("CACHEDIR.TAG", std::string(60, 'x'));
  fresh.clear();
  EXPECT_FALSE(sel->RejectByTag(dir_, "/fourth", "a", &fresh));
  EXPECT_EQ(warnings_.back(), "invalid signature in exclusion tagfile \"/fourth/CACHEDIR.TAG\"");
  EXPECT_EQ(warnings_.size(), 3u);
}

}  // namespace
}  // namespace stash::engine
