// (Lives in kube, below both the controller and the node runtime, which use it.)
// Cron schedules as Kubernetes CronJobs accept them: five fields
// (minute hour day-of-month month day-of-week) with `*`, lists, ranges,
// steps and JAN..DEC / SUN..SAT names; Vixie cron's rule that when both
// day fields are restricted a day matches either; the descriptors @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly and
// `@every <duration>` (e.g. 90s, 5m, 1h30m); an optional CRON_TZ=/TZ= prefix
// (only UTC is supported; other zones are rejected rather than guessed).
//
// Stash extension: six fields with a leading seconds field
// ("*/2 * * * * *") so tests can run schedules in seconds.
//
// Thread-safety: Schedule is an immutable value type.
#pragma once

#include <bitset>
#include <string>
#include <string_view>

#include "stash/core/clock.h"
#include "stash/core/result.h"

namespace stash::kube {

class Schedule {
 public:
  // The first activation strictly after `after`.
  SystemTime Next(SystemTime after) const;

 private:
  friend Result<Schedule> ParseCron(std::string_view spec);
  std::bitset<60> second_, minute_;
  std::bitset<24> hour_;
  std::bitset<32> dom_;    // 1..31
  std::bitset<13> month_;  // 1..12
  std::bitset<7> dow_;     // 0 = Sunday
  bool dom_star_ = false, dow_star_ = false;
  Duration every_{0};  // @every
};

// Errors are kInvalid and read like Kubernetes' validation:
// `Invalid value: "61 * * * *": Invalid schedule: minute: value 61 out of range 0-59`.
Result<Schedule> ParseCron(std::string_view spec);

}  // namespace stash::kube
