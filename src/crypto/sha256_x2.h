// Internal entry point of Sha256x2 with the SHA-NI / fallback choice made by
// the caller, so tests can exercise both paths on any CPU.
//
// Thread-safety: pure functions; callable from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <utility>

#include "stash/core/id.h"

namespace stash::crypto::internal {

// True when this CPU has the SHA extensions and SSE4.1 that the two-lane code
// needs. Evaluated once.
bool CpuHasShaNi();

// Sha256x2 with an explicit path: `use_shani` must only be true when
// CpuHasShaNi(); false hashes each message with the OpenSSL one-shot.
std::pair<Id, Id> Sha256x2With(std::span<const uint8_t> a, std::span<const uint8_t> b,
                               bool use_shani);

}  // namespace stash::crypto::internal
