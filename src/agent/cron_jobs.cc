#include "stash/agent/cron_jobs.h"

#include <algorithm>

#include "stash/apis/client.h"
#include "stash/kube/events.h"

namespace stash::agent {

apis::Job JobForTick(const apis::CronJob& cj, SystemTime tick) {
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(tick.time_since_epoch()).count();
  apis::Job job;
  job.api_version = "batch/v1";
  job.kind = "Job";
  job.metadata.name = cj.metadata.name + "-" + std::to_string(secs % 60 == 0 ? secs / 60 : secs);
  job.metadata.namespace_ = cj.metadata.namespace_;
  job.metadata.labels = cj.spec.job_template.metadata.labels;
  job.metadata.annotations = cj.spec.job_template.metadata.annotations;
  job.metadata.annotations[kCronJobScheduledTimestamp] = kube::FormatTime(tick);
  job.metadata.owner_references = {apis::ControllerReference(cj)};
  job.spec = cj.spec.job_template.spec;
  return job;
}

bool JobEnded(const apis::Job& job, bool* failed) {
  for (const apis::JobCondition& c : job.status.conditions) {
    if (c.status != "True" || (c.type != "Complete" && c.type != "Failed")) continue;
    if (failed) *failed = c.type == "Failed";
    return true;
  }
  return false;
}

CronJobJobs ReviewCronJobJobs(const apis::CronJob& cj, const std::vector<const apis::Job*>& owned) {
  CronJobJobs out;
  out.status = cj.status;
  out.status.active.clear();
  std::vector<const apis::Job*> succeeded, failed;
  for (const apis::Job* job : owned) {
    bool job_failed = false;
    if (!JobEnded(*job, &job_failed)) {
      if (!job->metadata.deletion_timestamp.empty()) continue;
      out.active.push_back(job);
      apis::ObjectReference ref;
      ref.api_version = "batch/v1";
      ref.kind = "Job";
      ref.namespace_ = job->metadata.namespace_;
      ref.name = job->metadata.name;
      ref.uid = job->metadata.uid;
      ref.resource_version = job->metadata.resource_version;
      out.status.active.push_back(std::move(ref));
      continue;
    }
    (job_failed ? failed : succeeded).push_back(job);
    if (!job_failed && job->status.completion_time > out.status.last_successful_time) {
      out.status.last_successful_time = job->status.completion_time;  // RFC 3339 sorts
    }
  }
  // Oldest first: by the tick each was made for, then by name.
  auto older = [](const apis::Job* a, const apis::Job* b) {
    auto ta = a->metadata.annotations.find(kCronJobScheduledTimestamp);
    auto tb = b->metadata.annotations.find(kCronJobScheduledTimestamp);
    const std::string sa =
        ta == a->metadata.annotations.end() ? a->metadata.creation_timestamp : ta->second;
    const std::string sb =
        tb == b->metadata.annotations.end() ? b->metadata.creation_timestamp : tb->second;
    return sa != sb ? sa < sb : a->metadata.name < b->metadata.name;
  };
  auto trim = [&](std::vector<const apis::Job*>& jobs, int32_t keep) {
    std::sort(jobs.begin(), jobs.end(), older);
    for (size_t i = 0; i + std::max(keep, 0) < jobs.size(); ++i) {
      if (jobs[i]->metadata.deletion_timestamp.empty()) out.beyond_history.push_back(jobs[i]);
    }
  };
  trim(succeeded, cj.spec.successful_jobs_history_limit.value_or(3));
  trim(failed, cj.spec.failed_jobs_history_limit.value_or(1));
  std::sort(out.beyond_history.begin(), out.beyond_history.end(), older);
  return out;
}

}  // namespace stash::agent
