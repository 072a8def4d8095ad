// Human formats Stash writes into BackupSession and Repository status:
// sizes ("2.567 KiB"), restic processing times ("0:03", "1:02:03") and Go
// duration strings ("1m5s").
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "stash/core/clock.h"

namespace stash::agent {

std::string FormatBytes(uint64_t bytes);
std::string FormatProcessingTime(double seconds);
// Go's time.Duration.String() of `d` rounded to `unit` (seconds or ms).
std::string FormatGoDuration(Duration d, Duration unit = std::chrono::seconds(1));

}  // namespace stash::agent
