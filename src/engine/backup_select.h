// Private to engine (backup): restic 0.14's rejection rules for backup —
// exclude patterns (case-sensitive and not), tag files that exclude their
// directory (--exclude-if-present, --exclude-caches) and the size limit
// (--exclude-larger-than). --one-file-system needs the walk's devices and
// lives in the archiver.
//
// Thread-safety: immutable after Make; the walker thread calls it.
#pragma once

#include <sys/stat.h>

#include <functional>
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
  // kInvalid names malformed patterns or an empty tag file name. Warnings
  // about malformed tag files go to opts.on_warning.
  static Result<Selector> Make(const BackupOptions& opts);

  bool has_name_rules() const { return !excludes_.empty() || !iexcludes_.empty(); }
  bool has_tag_rules() const { return !tags_.empty(); }

  // restic's SelectByName on an absolute path: true when a pattern rejects it.
  bool RejectByName(std::string_view abs_path) const;
  // restic's size rule on an lstat result.
  bool RejectBySize(const struct stat& st) const {
    return max_size_ && !S_ISDIR(st.st_mode) && static_cast<uint64_t>(st.st_size) > *max_size_;
  }
  // Verdicts of the tag rules on one directory (one slot per rule: unknown,
  // keeps, excludes), filled as the rules first look at it. The caller keeps
  // one per directory, so memory stays proportional to the walk's depth.
  using TagMemo = std::vector<int8_t>;
  // restic's rejectIfPresent rules, in their order and short-circuited as
  // restic runs them after the patterns: true when one rejects the entry
  // `name` of the host directory `dir`, i.e. the directory holds that rule's
  // tag file (starting with its header) and `name` is not the tag file.
  // `shown_dir` is the directory's absolute recorded path, which warnings
  // name. A rule examines a directory once per memo, on the first entry that
  // gets that far, so a malformed tag file is reported exactly when restic
  // 0.14 reports it.
  bool RejectByTag(const std::string& dir, const std::string& shown_dir, std::string_view name,
                   TagMemo* memo) const;

 private:
  struct Tag {
    std::string name;
    std::string header;
  };
  bool DirExcluded(const Tag& t, const std::string& dir, const std::string& shown_dir) const;

  PatternList excludes_;
  PatternList iexcludes_;  // lower-cased patterns
  std::vector<Tag> tags_;
  std::optional<uint64_t> max_size_;
  std::function<void(const std::string&)> warn_;
};

}  // namespace stash::engine
