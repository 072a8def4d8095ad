// Human-readable byte counts as restic prints them (ui.FormatBytes), for
// every place a size reaches a person: prune's statistics, the backup
// progress line, BackupSession and Repository status.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace stash {

// Binary units with three decimals above 1024 bytes: "512 B", "1024 B",
// "1.500 KiB", "3.000 GiB", up to TiB.
std::string FormatBytes(uint64_t bytes);

}  // namespace stash
