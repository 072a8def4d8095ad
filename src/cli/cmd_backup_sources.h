// Private to cli (backup): where restic 0.14's backup gets its targets and
// exclude patterns from — --files-from (trimmed, '#' comments, Go globs),
// --files-from-verbatim (lines as they are), --files-from-raw (NUL
// separated), "-" for stdin; --exclude-file / --iexclude-file (trimmed,
// comments, $VAR / ${VAR} expanded, $$ for a dollar); sizes with k/m/g/t.
//
// Thread-safety: main thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::cli {

struct TargetSources {
  std::vector<std::string> files_from;
  std::vector<std::string> files_from_verbatim;
  std::vector<std::string> files_from_raw;
};

// restic's collectTargets before the existence check: the files' targets,
// then `args`. Unmatched --files-from globs are reported through `warn`.
Result<std::vector<std::string>> CollectTargets(
    const TargetSources& src, const std::vector<std::string>& args,
    const std::function<void(const std::string&)>& warn);

// restic's readExcludePatternsFromFiles.
Result<std::vector<std::string>> ReadExcludeFiles(const std::vector<std::string>& files);

// Go's os.Expand with restic's mapping ($$ is a dollar sign).
std::string ExpandEnv(std::string_view s);

// Go's filepath.Glob: matches sorted per directory, `*` matches dot files.
Result<std::vector<std::string>> GoGlob(const std::string& pattern);

}  // namespace stash::cli
