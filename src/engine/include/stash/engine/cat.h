// `cat`: prints a repository's internal objects as restic 0.14 does — config,
// masterkey, key, snapshot and lock re-encoded as indented JSON (Go's
// json.MarshalIndent with two spaces), index as its stored JSON, blob and pack
// as raw bytes, and `tree <snapshot>[:<path>]` (newer restic) as the raw tree
// blob.
//
// Thread-safety: free functions over a thread-safe Repository.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/result.h"
#include "stash/engine/snapshots.h"
#include "stash/repo/repository.h"

namespace stash::engine {

// Go's json.Indent(prefix "", indent "  ") of compact JSON: newline and
// indentation after '{' '[' ',', ": " after keys, empty {} and [] kept.
std::string GoJsonIndent(std::string_view compact);

// What `cat <type> [id]` writes to stdout. `warn` receives restic's warnings
// (e.g. a pack whose hash does not match its name). kInvalid for an unknown
// type or a missing id ("type or ID not specified"); kNotFound for unknown
// ids.
Result<std::string> CatObject(repo::Repository& repo, std::string_view type, std::string_view id,
                              const WarnFn& warn);

}  // namespace stash::engine
