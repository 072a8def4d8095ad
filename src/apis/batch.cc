#include "stash/apis/batch.h"

namespace stash::apis {

template <class V>
void JobSpec::Visit(V& v) {
  v("parallelism", parallelism);
  v("completions", completions);
  v("activeDeadlineSeconds", active_deadline_seconds);
  v("backoffLimit", backoff_limit);
  v("selector", selector);
  v("template", template_);
  v("ttlSecondsAfterFinished", ttl_seconds_after_finished);
}
STASH_APIS_DEFINE_CODEC(JobSpec);

template <class V>
void JobStatus::Visit(V& v) {
  v("conditions", conditions);
  v("startTime", start_time);
  v("completionTime", completion_time);
  v("active", active);
  v("succeeded", succeeded);
  v("failed", failed);
}
STASH_APIS_DEFINE_CODEC(JobStatus);

template <class V>
void Job::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(Job);

template <class V>
void JobTemplateSpec::Visit(V& v) {
  v("metadata", metadata);
  v("spec", spec);
}
STASH_APIS_DEFINE_CODEC(JobTemplateSpec);

template <class V>
void CronJobSpec::Visit(V& v) {
  v("schedule", schedule);
  v("timeZone", time_zone);
  v("startingDeadlineSeconds", starting_deadline_seconds);
  v("concurrencyPolicy", concurrency_policy);
  v("suspend", suspend);
  v("jobTemplate", job_template);
  v("successfulJobsHistoryLimit", successful_jobs_history_limit);
  v("failedJobsHistoryLimit", failed_jobs_history_limit);
}
STASH_APIS_DEFINE_CODEC(CronJobSpec);

template <class V>
void CronJobStatus::Visit(V& v) {
  v("active", active);
  v("lastScheduleTime", last_schedule_time);
  v("lastSuccessfulTime", last_successful_time);
}
STASH_APIS_DEFINE_CODEC(CronJobStatus);

template <class V>
void CronJob::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(CronJob);

}  // namespace stash::apis
