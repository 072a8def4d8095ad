// Go's time.Duration text, as Kubernetes objects carry it: Stash's
// sessionDuration and per-host durations ("1m5s"), and timeOut fields
// ("1h30m").
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/clock.h"
#include "stash/core/result.h"

namespace stash::kube {

// Go's time.Duration.String() of `d` rounded to `unit` (seconds or ms).
std::string FormatGoDuration(Duration d, Duration unit = std::chrono::seconds(1));

// Go's time.ParseDuration: a sequence of decimal numbers with units ns, us
// (or µs), ms, s, m, h ("300ms", "1.5h", "2h45m", "-1m"); kInvalid otherwise.
Result<Duration> ParseGoDuration(std::string_view text);

}  // namespace stash::kube
