// Human formats Stash writes into BackupSession and Repository status:
// sizes ("2.567 KiB"), restic processing times ("0:03", "1:02:03") and Go
// duration strings ("1m5s", kube::FormatGoDuration).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "stash/core/clock.h"
#include "stash/core/units.h"  // FormatBytes
#include "stash/kube/duration.h"

namespace stash::agent {

std::string FormatProcessingTime(double seconds);
using kube::FormatGoDuration;

}  // namespace stash::agent
