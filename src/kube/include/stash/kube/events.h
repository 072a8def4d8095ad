// RFC 3339 time formatting/parsing for object timestamps (the typed layer's
// apis::EventRecorder writes the Events themselves).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/clock.h"
#include "stash/core/result.h"

namespace stash::kube {

// "2019-08-02T06:13:05Z" (seconds precision, UTC).
std::string FormatTime(SystemTime t);
Result<SystemTime> ParseTime(std::string_view rfc3339);

}  // namespace stash::kube
