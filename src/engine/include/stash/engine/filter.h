// Include/exclude patterns as restic 0.14 matches them (internal/filter):
// Go's filepath.Match per path component, plus `**` for any number of
// directories, a leading `/` anchoring at the snapshot root, and `!` to
// negate an earlier match. Used by restore (--include/--exclude) and
// available to backup's excludes.
//
// Thread-safety: PatternList is immutable after Parse; its methods are const
// and may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stash/core/result.h"

namespace stash::engine {

// Go's path/filepath.Match on one path (`*`, `?`, `[...]`, `\` escapes; `*`
// and `?` never match '/'). kInvalid for a malformed pattern, as Go's
// ErrBadPattern.
Result<bool> GoPathMatch(std::string_view pattern, std::string_view name);

// Go's path.Clean: shortest equivalent path ("a//b/../c/" → "a/c", "" → ".").
std::string GoPathClean(std::string_view path);

class PatternList {
 public:
  // Parses patterns (empty ones are skipped, as restic). kInvalid names every
  // malformed pattern so the user can fix them all at once.
  static Result<PatternList> Parse(const std::vector<std::string>& patterns);

  bool empty() const { return patterns_.empty(); }

  // True when `path` (absolute, "/dir/file" within the snapshot) matches the
  // list, negations applied in order.
  bool Match(std::string_view path) const;
  // {matched, child_may_match}: the second says whether something below
  // `path` could still match, so a walk must descend into it.
  std::pair<bool, bool> MatchWithChild(std::string_view path) const;

 private:
  struct Part {
    std::string pattern;  // "/" for the root, "" for "**"
    bool simple = true;   // no wildcard: compare bytes
  };
  struct Pattern {
    std::vector<Part> parts;
    bool negated = false;
  };
  static bool MatchParts(const std::vector<Part>& parts, const std::vector<std::string>& strs);
  static bool ChildMatch(const Pattern& p, std::vector<std::string> strs);
  std::pair<bool, bool> List(std::string_view path, bool check_child) const;

  std::vector<Pattern> patterns_;
};

}  // namespace stash::engine
