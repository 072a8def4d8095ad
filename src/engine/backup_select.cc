#include "backup_select.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "backup_fs.h"
#include "stash/core/strings.h"
#include "stash/format/goquote.h"

namespace stash::engine {

namespace {}  // namespace

Result<Selector> Selector::Make(const BackupOptions& opts) {
  Selector s;
  std::vector<std::string> all = opts.excludes;
  all.insert(all.end(), opts.file_excludes.begin(), opts.file_excludes.end());
  auto ex = PatternList::Parse(all);
  if (!ex.ok()) return Status(ex.status()).Prepend("--exclude");
  s.excludes_ = std::move(*ex);
  std::vector<std::string> lower;
  for (const std::string& p : opts.iexcludes) lower.push_back(AsciiLower(p));
  auto iex = PatternList::Parse(lower);
  if (!iex.ok()) return Status(iex.status()).Prepend("--iexclude");
  s.iexcludes_ = std::move(*iex);
  for (const std::string& spec : opts.exclude_if_present) {
    size_t colon = spec.find(':');
    if (colon == 0 || spec.empty()) {
      return InvalidError("--exclude-if-present \"" + spec +
                          "\": no name for exclusion tagfile provided");
    }
    Tag t;
    t.name = spec.substr(0, colon);
    if (colon != std::string::npos) t.header = spec.substr(colon + 1);
    s.tags_.push_back(std::move(t));
  }
  s.max_size_ = opts.exclude_larger_than;
  s.warn_ = opts.on_warning;
  return s;
}

bool Selector::RejectByName(std::string_view abs_path) const {
  if (!excludes_.empty() && excludes_.Match(abs_path)) return true;
  return !iexcludes_.empty() && iexcludes_.Match(AsciiLower(abs_path));
}

bool Selector::RejectByTag(const std::string& dir, const std::string& shown_dir,
                           std::string_view name, TagMemo* memo) const {
  memo->resize(tags_.size(), -1);
  for (size_t i = 0; i < tags_.size(); ++i) {
    const Tag& t = tags_[i];
    if (name == t.name) continue;  // the tag file itself stays
    int8_t& verdict = (*memo)[i];
    if (verdict < 0) verdict = DirExcluded(t, dir, shown_dir) ? 1 : 0;
    if (verdict == 1) return true;
  }
  return false;
}

// restic 0.14's isDirExcludedByFile: the tag file exists and, when a header
// is given, starts with it. Anything else keeps the directory; a tag file
// that exists but cannot be checked gets restic's warning (its words, with
// the path as restic shows it).
bool Selector::DirExcluded(const Tag& t, const std::string& dir,
                           const std::string& shown_dir) const {
  const std::string path = JoinPath(dir, t.name);
  const std::string shown = JoinPath(shown_dir, t.name);
  auto warn = [this](const std::string& msg) {
    if (warn_) warn_(msg);
  };
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      warn("could not access exclusion tagfile: lstat " + shown + ": " + GoErrnoText(errno));
    }
    return false;
  }
  if (t.header.empty()) return true;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    warn("could not open exclusion tagfile: open " + shown + ": " + GoErrnoText(errno));
    return false;
  }
  // io.ReadFull: EOF before the first byte, a short read, or a read error.
  std::string buf(t.header.size(), '\0');
  size_t got = 0;
  int err = 0;
  while (got < buf.size()) {
    ssize_t n = read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  const std::string quoted = "\"" + format::GoQuote(shown) + "\"";
  if (err != 0) {
    warn("could not read signature from exclusion tagfile " + quoted + ": read " + shown + ": " +
         GoErrnoText(err));
  } else if (got == 0) {
    warn("invalid (too short) signature in exclusion tagfile " + quoted);
  } else if (got < buf.size()) {
    warn("could not read signature from exclusion tagfile " + quoted + ": unexpected EOF");
  } else if (buf != t.header) {
    warn("invalid signature in exclusion tagfile " + quoted);
  } else {
    return true;
  }
  return false;
}

}  // namespace stash::engine
