// Byte-exactness against the real restic 0.14: restic writes a repository
// from a directory full of awkward names, and every tree blob, index file and
// key file it wrote must re-encode to the very same bytes after a
// Decode/Encode round trip. Skipped only when no restic binary is installed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "stash/core/testing.h"
#include "stash/format/goquote.h"
#include "stash/format/index.h"
#include "stash/format/keyfile.h"
#include "stash/format/pack.h"
#include "stash/format/snapshot.h"
#include "stash/format/tree.h"

extern char** environ;

namespace stash::format {
namespace {

namespace fs = std::filesystem;

bool HaveRestic() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    if (access((dirs.substr(start, end - start) + "/restic").c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// Runs restic with args; returns its stdout, fails the test on a non-zero exit.
std::string Restic(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = {"restic", "--no-cache", "-q"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return "";
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  pid_t pid;
  const int rc = posix_spawnp(&pid, "restic", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string out;
  if (rc == 0) {
    char buf[65536];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (rc == 0) waitpid(pid, &status, 0);
  EXPECT_TRUE(rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "restic " << args[0] << " failed";
  return out;
}

void WriteFile(const fs::path& p, std::string_view data) {
  std::ofstream f(p, std::ios::binary);
  f << data;
  f.close();
  EXPECT_TRUE(f.good()) << "cannot create " << p;
}

// Files with awkward names and every node type an unprivileged user can make.
std::vector<std::string> MakeOddTree(const fs::path& src) {
  fs::create_directories(src / "sub" / "deeper");
  const std::vector<std::string> names = {
      "plain.txt",    "with space",  "quo\"te's",       "a<b&c>",      "new\nline",
      "tab\tx",       "inv\xffx",    "ls\xe2\x80\xa8x", "caf\xc3\xa9", "emoji\xf0\x9f\x98\x80",
      "nbsp\xc2\xa0", "back\\slash", "del\x7f",         "ctl\x01\x1b", "zw\xe2\x80\x8bj"};
  for (const std::string& n : names) WriteFile(src / n, "content of " + n);
  WriteFile(src / "empty", "");
  std::string big(700 * 1024, 'x');  // above MinSize: more than one chunk possible
  for (size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>(i * 31);
  WriteFile(src / "sub" / "big.bin", big);
  WriteFile(src / "sub" / "deeper" / "leaf", "leaf");
  fs::create_symlink("plain.txt", src / "link");
  fs::create_symlink("../sub/./nowhere \xc3\xa9", src / "dangling");
  // JSON (not Quote) escaping applies to link targets: controls, HTML, U+2028.
  fs::create_symlink("t\tab\x01<&>\xe2\x80\xa8\x7f\"\\", src / "odd-target");
  EXPECT_EQ(mkfifo((src / "fifo").c_str(), 0640), 0);
  fs::create_hard_link(src / "plain.txt", src / "sub" / "hardlink");  // links = 2
  // A unix socket; the socket itself can close right away.
  const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = (src / "sock").string();
  if (sock >= 0 && sock_path.size() < sizeof addr.sun_path) {
    std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
    EXPECT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  if (sock >= 0) close(sock);
  // Devices need privileges; cover them when we have them.
  mknod((src / "chardev").c_str(), S_IFCHR | 0600, makedev(1, 3));
  mknod((src / "blockdev").c_str(), S_IFBLK | 0600, makedev(7, 200));
  chmod((src / "sub").c_str(), 02755);
  chmod((src / "plain.txt").c_str(), 0600);
  // Extended attributes, including an HTML-escaped name and binary/empty values.
  const std::string xattr_value("val\0\xff", 5);
  EXPECT_EQ(
      setxattr((src / "plain.txt").c_str(), "user.a<&>", xattr_value.data(), xattr_value.size(), 0),
      0);
  EXPECT_EQ(setxattr((src / "plain.txt").c_str(), "user.empty", "", 0, 0), 0);
  struct timespec times[2] = {{981169506, 500000000}, {981169506, 500000000}};
  utimensat(AT_FDCWD, (src / "plain.txt").c_str(), times, 0);

  return names;
}

// File names made of code points that probe the printable table: both
// sides of every edge where GoIsPrint changes, plus a stride sample, plus
// invalid UTF-8. restic's trees must re-encode byte-identically, which pins
// the table to go1.19's strconv.IsPrint. STASH_FULL_UNICODE_ORACLE=1 takes
// every code point of planes 0-3 and 14 instead (~6000 files; passed when the
// table was generated). Returns the number of files made.
int MakeUnicodeTree(const fs::path& src) {
  fs::create_directories(src);
  const bool full = std::getenv("STASH_FULL_UNICODE_ORACLE") != nullptr;
  std::vector<char32_t> runes;
  for (char32_t r = 1; r < 0x110000; ++r) {
    if (r == '/' || (r >= 0xD800 && r <= 0xDFFF)) continue;
    const uint32_t plane = r >> 16;
    const bool edge = GoIsPrint(r) != GoIsPrint(r - 1) || GoIsPrint(r) != GoIsPrint(r + 1);
    const bool pick = full ? (plane <= 3 || plane == 14) : (edge || r % 251 == 0);
    if (pick || (r & 0xFFFF) >= 0xFFFE) runes.push_back(r);
  }
  int files = 0;
  std::string name;
  const auto flush = [&] {
    name += "~" + std::to_string(files++);  // unique, never "." or ".."
    WriteFile(src / name, "");
    name.clear();
  };
  for (char32_t r : runes) {
    AppendUtf8(&name, r);
    if (name.size() > 200) flush();
  }
  flush();
  for (int b = 0x80; b < 0x100; ++b) name += static_cast<char>(b);  // stray bytes
  name += "\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf";  // surrogate, > U+10FFFF, overlong
  flush();
  size_t on_disk = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(src)) ++on_disk;
  EXPECT_EQ(on_disk, static_cast<size_t>(files));
  return files;
}

class ResticOracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveRestic()) GTEST_SKIP() << "restic is not installed";
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/stash-format-oracle-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    const char* tz = std::getenv("TZ");
    if (tz) saved_tz_ = tz;
    // A zone with an offset, so local-time encoding is exercised too.
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    setenv("RESTIC_PASSWORD", "oracle", 1);
    setenv("RESTIC_REPOSITORY", (dir_ / "repo").c_str(), 1);
    Restic({"init"});
  }

  void TearDown() override {
    if (dir_.empty()) return;
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    for (auto& e : fs::recursive_directory_iterator(dir_, ec)) {
      if (!e.is_symlink())
        fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(dir_, ec);
    if (saved_tz_) {
      setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

  // Backs up `paths` (relative to dir_) and returns the snapshot.
  Snapshot Backup(const std::vector<std::string>& paths) {
    const fs::path cwd = fs::current_path();
    fs::current_path(dir_);
    std::vector<std::string> args = {"backup"};
    args.insert(args.end(), paths.begin(), paths.end());
    Restic(args);
    fs::current_path(cwd);
    std::vector<std::string> ids;
    for (const auto& e : fs::directory_iterator(dir_ / "repo" / "snapshots")) {
      ids.push_back(e.path().filename());
    }
    EXPECT_EQ(ids.size(), 1u);
    if (ids.empty()) return Snapshot{};
    auto snap = DecodeSnapshot(Restic({"cat", "snapshot", ids[0]}));
    EXPECT_OK(snap);
    return snap.ok() ? *snap : Snapshot{};
  }

  // Fetches tree `id` from restic, asserts it re-encodes byte-identically and
  // recurses; returns every node by its path below the root.
  void CheckTree(const Id& id, const std::string& prefix, std::map<std::string, Node>* out) {
    const std::string bytes = Restic({"cat", "blob", id.Hex()});
    auto nodes = DecodeTree(bytes);
    ASSERT_OK(nodes) << nodes.status() << "\n" << bytes;
    auto again = EncodeTree(*nodes);
    ASSERT_OK(again);
    EXPECT_EQ(*again, bytes) << "tree " << id.Hex() << " at '" << prefix << "'";
    ++trees_checked_;
    for (const Node& n : *nodes) {
      const std::string path = prefix.empty() ? n.name : prefix + "/" + n.name;
      (*out)[path] = n;
      if (n.type == NodeType::kDir) {
        ASSERT_TRUE(n.subtree.has_value()) << path;
        CheckTree(*n.subtree, path, out);
      }
    }
  }

  fs::path dir_;
  std::optional<std::string> saved_tz_;
  int trees_checked_ = 0;
};

// One backup (restic calls cost ~1 s each, mostly scrypt) covers both trees.
TEST_F(ResticOracleTest, TreesIndexAndKeyReencodeByteIdentical) {
  const fs::path src = dir_ / "src";
  const std::vector<std::string> names = MakeOddTree(src);
  const int unicode_files = MakeUnicodeTree(dir_ / "uni");

  const Snapshot snap = Backup({"src", "uni"});
  ASSERT_EQ(snap.paths.size(), 2u);
  EXPECT_EQ(snap.paths[0], src.string());
  EXPECT_FALSE(snap.hostname.empty());
  EXPECT_EQ(snap.time.utc_offset_sec % 3600, 0);
  EXPECT_NE(snap.time.utc_offset_sec, 0);  // Berlin is +01:00 or +02:00

  std::map<std::string, Node> nodes;
  CheckTree(snap.tree, "", &nodes);
  EXPECT_EQ(trees_checked_, 5);  // root, src, src/sub, src/sub/deeper, uni
  // Every name in uni/ went through GoQuote and matched restic's bytes, which
  // pins the printable table to go1.19's strconv.IsPrint.
  size_t uni_nodes = 0;
  for (const auto& [path, node] : nodes) uni_nodes += path.rfind("uni/", 0) == 0;
  EXPECT_EQ(uni_nodes, static_cast<size_t>(unicode_files));

  // restic's nodes are what NodeFromStat derives from lstat, plus the parts
  // that need lookups (user/group names, link target, xattrs, content ids).
  for (const auto& [path, restic_node] : nodes) {
    if (path.rfind("src", 0) != 0) continue;
    SCOPED_TRACE(GoQuote(path));
    struct stat st;
    ASSERT_EQ(lstat((dir_ / path).c_str(), &st), 0);
    Node expected = NodeFromStat(restic_node.name, st);
    expected.user = restic_node.user;
    expected.group = restic_node.group;
    expected.linktarget = restic_node.linktarget;
    expected.extended_attributes = restic_node.extended_attributes;
    if (expected.content.has_value()) {
      EXPECT_EQ(restic_node.content->empty(), st.st_size == 0);
      expected.content = restic_node.content;
    }
    expected.subtree = restic_node.subtree;
    EXPECT_EQ(restic_node, expected);
  }
  EXPECT_EQ(nodes["src/plain.txt"].mtime.nsec, 500000000u);
  const std::vector<ExtendedAttribute> xattrs = nodes["src/plain.txt"].extended_attributes;
  ASSERT_EQ(xattrs.size(), 2u);
  EXPECT_EQ(xattrs[0].name, "user.a<&>");
  EXPECT_EQ(xattrs[0].value, std::string("val\0\xff", 5));
  EXPECT_EQ(nodes["src/link"].linktarget, "plain.txt");
  EXPECT_EQ(nodes["src/dangling"].linktarget, "../sub/./nowhere \xc3\xa9");
  EXPECT_EQ(nodes["src/odd-target"].linktarget, "t\tab\x01<&>\xe2\x80\xa8\x7f\"\\");
  EXPECT_EQ(nodes["src/fifo"].type, NodeType::kFifo);
  EXPECT_EQ(nodes.count("src/sock"), 0u);  // restic's archiver skips sockets
  EXPECT_EQ(nodes["src/sub/hardlink"].links, 2u);
  if (nodes.count("src/chardev")) {
    EXPECT_EQ(nodes["src/chardev"].type, NodeType::kCharDev);
    EXPECT_EQ(nodes["src/chardev"].device, makedev(1, 3));
    EXPECT_EQ(nodes["src/blockdev"].type, NodeType::kDev);
  }
  for (const std::string& n : names) EXPECT_TRUE(nodes.count("src/" + n)) << GoQuote(n);

  // Index files: restic writes them with json.Encoder; `cat index` adds "\n".
  size_t index_files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "repo" / "index")) {
    std::string text = Restic({"cat", "index", e.path().filename()});
    ASSERT_FALSE(text.empty());
    text.pop_back();
    auto index = DecodeIndex(text);
    ASSERT_OK(index);
    EXPECT_EQ(EncodeIndex(*index), text);
    ++index_files;
    // Pack sizes on disk equal what the header arithmetic predicts.
    for (const IndexPack& pack : index->packs) {
      std::vector<PackEntry> entries;
      for (const IndexPackBlob& b : pack.blobs) {
        entries.push_back({b.type, b.length, b.uncompressed_length, b.id});
      }
      const std::string hex = pack.id.Hex();
      const fs::path file = dir_ / "repo" / "data" / hex.substr(0, 2) / hex;
      EXPECT_EQ(fs::file_size(file), PackSize(entries)) << hex;
    }
  }
  EXPECT_EQ(index_files, 1u);

  // Key files are plaintext JSON whose id is the hash of these exact bytes.
  size_t key_files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "repo" / "keys")) {
    std::ifstream f(e.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto key = DecodeKeyFile(text);
    ASSERT_OK(key);
    EXPECT_EQ(EncodeKeyFile(*key), text);
    EXPECT_EQ(key->salt.size(), 64u);
    ++key_files;
  }
  EXPECT_EQ(key_files, 1u);
}

}  // namespace
}  // namespace stash::format
