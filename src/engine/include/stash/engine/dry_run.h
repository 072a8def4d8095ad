// DryRunBackend: `backup --dry-run`, as restic 0.14 does it: the repository
// works as usual (chunks, compresses, encrypts, counts what it would add) on
// a backend that drops every write and removal; reads pass through. So no
// pack, index, snapshot or lock file appears in the store.
//
// Thread-safety: as the wrapped backend.
#pragma once

#include "stash/backend/backend.h"

namespace stash::engine {

backend::BackendPtr NewDryRunBackend(backend::BackendPtr inner);

}  // namespace stash::engine
