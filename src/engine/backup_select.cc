#include "backup_select.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "backup_fs.h"

namespace stash::engine {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// restic's isDirExcludedByFile: the tag file exists and, when a header is
// given, starts with it. A short or different file does not exclude.
bool TagPresent(const std::string& dir, const std::string& name, const std::string& header) {
  std::string path = JoinPath(dir, name);
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return false;
  if (header.empty()) return true;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string buf(header.size(), '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  return got == buf.size() && buf == header;
}

}  // namespace

Result<Selector> Selector::Make(const BackupOptions& opts) {
  Selector s;
  std::vector<std::string> all = opts.excludes;
  all.insert(all.end(), opts.file_excludes.begin(), opts.file_excludes.end());
  auto ex = PatternList::Parse(all);
  if (!ex.ok()) return Status(ex.status()).Prepend("--exclude");
  s.excludes_ = std::move(*ex);
  std::vector<std::string> lower;
  for (const std::string& p : opts.iexcludes) lower.push_back(Lower(p));
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
  return s;
}

bool Selector::RejectByName(std::string_view abs_path) const {
  if (!excludes_.empty() && excludes_.Match(abs_path)) return true;
  return !iexcludes_.empty() && iexcludes_.Match(Lower(abs_path));
}

std::vector<std::string> Selector::TagsExcluding(const std::string& dir) const {
  std::vector<std::string> out;
  for (const Tag& t : tags_) {
    if (TagPresent(dir, t.name, t.header)) out.push_back(t.name);
  }
  return out;
}

}  // namespace stash::engine
