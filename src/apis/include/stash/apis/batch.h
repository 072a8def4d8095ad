// batch/v1 Job and CronJob: the operator's trigger CronJob and, for restores
// and job-model backups, Jobs. Members not modelled travel in `extra`.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/apis/core.h"
#include "stash/apis/meta.h"
#include "stash/kube/client.h"

namespace stash::apis {

struct JobSpec {
  std::optional<int32_t> parallelism;
  std::optional<int32_t> completions;
  std::optional<int64_t> active_deadline_seconds;
  std::optional<int32_t> backoff_limit;
  std::optional<LabelSelector> selector;
  PodTemplateSpec template_;
  std::optional<int32_t> ttl_seconds_after_finished;
  STASH_APIS_STRUCT(JobSpec);
};
STASH_APIS_DECLARE_CODEC(JobSpec);

// A Job's condition (type Complete, Failed, Suspended): Kubernetes gives it
// exactly a PodCondition's members, so one codec serves both.
using JobCondition = PodCondition;

struct JobStatus {
  std::vector<JobCondition> conditions;
  std::string start_time;
  std::string completion_time;
  int32_t active = 0;
  int32_t succeeded = 0;
  int32_t failed = 0;
  STASH_APIS_STRUCT(JobStatus);
};
STASH_APIS_DECLARE_CODEC(JobStatus);

struct Job {
  static const kube::Resource& Resource() { return kube::res::kJobs; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  JobSpec spec;
  JobStatus status;
  STASH_APIS_STRUCT(Job);
};
STASH_APIS_DECLARE_CODEC(Job);

struct JobTemplateSpec {
  ObjectMeta metadata;
  JobSpec spec;
  STASH_APIS_STRUCT(JobTemplateSpec);
};
STASH_APIS_DECLARE_CODEC(JobTemplateSpec);

struct CronJobSpec {
  std::string schedule;
  std::optional<std::string> time_zone;
  std::optional<int64_t> starting_deadline_seconds;
  std::string concurrency_policy;  // Allow, Forbid, Replace
  std::optional<bool> suspend;
  JobTemplateSpec job_template;
  std::optional<int32_t> successful_jobs_history_limit;
  std::optional<int32_t> failed_jobs_history_limit;
  STASH_APIS_STRUCT(CronJobSpec);
};
STASH_APIS_DECLARE_CODEC(CronJobSpec);

struct CronJobStatus {
  std::vector<ObjectReference> active;
  std::string last_schedule_time;
  std::string last_successful_time;
  STASH_APIS_STRUCT(CronJobStatus);
};
STASH_APIS_DECLARE_CODEC(CronJobStatus);

struct CronJob {
  static const kube::Resource& Resource() { return kube::res::kCronJobs; }
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  CronJobSpec spec;
  CronJobStatus status;
  STASH_APIS_STRUCT(CronJob);
};
STASH_APIS_DECLARE_CODEC(CronJob);

}  // namespace stash::apis
