// A CronJob's ticks as Jobs, as kube-controller-manager's CronJob controller
// makes them: the embedded node's way to run a tick's container when it runs
// stash's containers from the stash image (node.h). Each tick is a Job
// (its pod then made by PodKeeper and run by the Kubelet), the CronJob's
// status lists the active ones, and finished Jobs beyond the history limits
// go. Pure functions on apis objects; the node does the calls.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "stash/apis/batch.h"
#include "stash/core/clock.h"

namespace stash::agent {

// The scheduled time of the tick a Job was made for (kube's annotation).
inline constexpr const char* kCronJobScheduledTimestamp =
    "batch.kubernetes.io/cronjob-scheduled-timestamp";

// The Job of `cronjob`'s tick at `tick`: its jobTemplate's labels,
// annotations and spec, controlled by the CronJob, named as kube names it,
// `<cronjob>-<tick in Unix minutes>` (or seconds, for a tick off the minute:
// stash's seconds-field schedules tick more often than once a minute).
apis::Job JobForTick(const apis::CronJob& cronjob, SystemTime tick);

// Whether `job` ended (a Complete or Failed condition) and whether it failed.
bool JobEnded(const apis::Job& job, bool* failed = nullptr);

// What the CronJob controller keeps up from `owned` (the Jobs `cronjob`
// controls): the Jobs still running, and the status the CronJob should have
// (status.active, lastSuccessfulTime; the rest of its status kept).
struct CronJobJobs {
  std::vector<const apis::Job*> active;
  // Finished Jobs beyond successfulJobsHistoryLimit (default 3) and
  // failedJobsHistoryLimit (default 1), oldest first: to delete.
  std::vector<const apis::Job*> beyond_history;
  apis::CronJobStatus status;
};
CronJobJobs ReviewCronJobJobs(const apis::CronJob& cronjob,
                              const std::vector<const apis::Job*>& owned);

}  // namespace stash::agent
