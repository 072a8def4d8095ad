// Private to engine (backup): restic 0.14's rejection rules for backup —
// exclude patterns (case-sensitive and not), tag files that exclude their
// directory (--exclude-if-present, --exclude-caches) and the size limit
// (--exclude-larger-than). --one-file-system needs the walk's devices and
// lives in the archiver.
//
// Thread-safety: immutable after Make; the walker thread calls it.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"
#include "stash/engine/backup.h"
#include "stash/engine/filter.h"

namespace stash::engine {

class Selector {
 public:
  Selector() = default;
  // kInvalid names malformed patterns or an empty tag file name.
  static Result<Selector> Make(const BackupOptions& opts);

  bool has_name_rules() const { return !excludes_.empty() || !iexcludes_.empty(); }
  bool has_tag_rules() const { return !tags_.empty(); }

  // restic's SelectByName on an absolute path: true when a pattern rejects it.
  bool RejectByName(std::string_view abs_path) const;
  // restic's size rule on an lstat result.
  bool RejectBySize(const struct stat& st) const {
    return max_size_ && !S_ISDIR(st.st_mode) && static_cast<uint64_t>(st.st_size) > *max_size_;
  }
  // The tag file names of the rules that exclude the contents of the host
  // directory `dir` (empty: none does). An entry stays only if it is named
  // like every one of them.
  std::vector<std::string> TagsExcluding(const std::string& dir) const;

 private:
  struct Tag {
    std::string name;
    std::string header;
  };
  PatternList excludes_;
  PatternList iexcludes_;  // lower-cased patterns
  std::vector<Tag> tags_;
  std::optional<uint64_t> max_size_;
};

// An entry of a directory the tag rules apply to survives only as the tag file.
inline bool KeptByTags(const std::vector<std::string>& tags, const std::string& name) {
  for (const std::string& t : tags) {
    if (t != name) return false;
  }
  return true;
}

}  // namespace stash::engine
