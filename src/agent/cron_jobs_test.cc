#include "stash/agent/cron_jobs.h"

#include <gtest/gtest.h>

#include "stash/core/testing.h"
#include "stash/kube/events.h"

namespace stash::agent {
namespace {

apis::CronJob Trigger() {
  apis::CronJob cj;
  cj.metadata.name = "stash-trigger-pause-backup";
  cj.metadata.namespace_ = "demo";
  cj.metadata.uid = "cj-uid";
  cj.spec.schedule = "*/5 * * * *";
  cj.spec.job_template.metadata.labels = {{"stash.appscode.com/delete-job-on-completion", "true"}};
  cj.spec.job_template.spec.template_.spec.restart_policy = "Never";
  cj.spec.job_template.spec.template_.spec.service_account_name = "stash-trigger-pause-backup";
  apis::Container c;
  c.name = "stash";
  c.image = "stash.appscode.com/stash:embedded";
  c.args = {"create-backupsession", "--invoker-name=pause-backup"};
  cj.spec.job_template.spec.template_.spec.containers = {c};
  return cj;
}

SystemTime At(int64_t unix_seconds) { return SystemTime(std::chrono::seconds(unix_seconds)); }

TEST(CronJobs, ATickIsAJobOfTheTemplateNamedAsKubeNamesIt) {
  const apis::CronJob cj = Trigger();
  apis::Job job = JobForTick(cj, At(1765161000));  // on the minute
  EXPECT_EQ(job.metadata.name, "stash-trigger-pause-backup-29419350");
  EXPECT_EQ(job.metadata.namespace_, "demo");
  EXPECT_EQ(job.metadata.labels, cj.spec.job_template.metadata.labels);
  EXPECT_EQ(job.metadata.annotations.at(kCronJobScheduledTimestamp), "2025-12-08T02:30:00Z");
  ASSERT_EQ(job.metadata.owner_references.size(), 1u);
  EXPECT_EQ(job.metadata.owner_references[0].kind, "CronJob");
  EXPECT_EQ(job.metadata.owner_references[0].uid, "cj-uid");
  EXPECT_TRUE(job.metadata.owner_references[0].controller.value_or(false));
  // The pod runs what the CronJob says, as its ServiceAccount.
  EXPECT_EQ(job.spec.template_.spec.service_account_name, "stash-trigger-pause-backup");
  EXPECT_EQ(job.spec.template_.spec.containers[0].args[0], "create-backupsession");
  // A seconds-field schedule ticks within a minute: seconds keep names apart.
  EXPECT_EQ(JobForTick(cj, At(1765161005)).metadata.name, "stash-trigger-pause-backup-1765161005");
}

apis::Job Ended(const apis::CronJob& cj, int64_t tick, const char* type, const char* done) {
  apis::Job j = JobForTick(cj, At(tick));
  j.metadata.uid = j.metadata.name;
  if (type) {
    apis::JobCondition c;
    c.type = type;
    c.status = "True";
    j.status.conditions = {c};
    if (std::string(type) == "Complete") j.status.completion_time = done;
  }
  return j;
}

TEST(CronJobs, ActiveJobsLastSuccessAndHistoryLimitsAsKubes) {
  apis::CronJob cj = Trigger();
  cj.status.last_schedule_time = "2025-12-08T02:50:00Z";
  std::vector<apis::Job> jobs = {
      Ended(cj, 1765161000, "Complete", "2025-12-08T02:30:02Z"),
      Ended(cj, 1765161300, "Failed", nullptr),
      Ended(cj, 1765161600, "Complete", "2025-12-08T02:40:02Z"),
      Ended(cj, 1765161900, "Complete", "2025-12-08T02:45:03Z"),
      Ended(cj, 1765162200, "Failed", nullptr),
      Ended(cj, 1765162500, "Complete", "2025-12-08T02:55:01Z"),
      Ended(cj, 1765162800, nullptr, nullptr),  // running
  };
  std::vector<const apis::Job*> owned;
  for (const apis::Job& j : jobs) owned.push_back(&j);
  CronJobJobs r = ReviewCronJobJobs(cj, owned);
  ASSERT_EQ(r.active.size(), 1u);
  EXPECT_EQ(r.active[0], &jobs[6]);
  ASSERT_EQ(r.status.active.size(), 1u);
  EXPECT_EQ(r.status.active[0].kind, "Job");
  EXPECT_EQ(r.status.active[0].name, jobs[6].metadata.name);
  EXPECT_EQ(r.status.last_successful_time, "2025-12-08T02:55:01Z");
  EXPECT_EQ(r.status.last_schedule_time, "2025-12-08T02:50:00Z");  // kept
  // Defaults: 3 successful, 1 failed kept; the oldest go.
  ASSERT_EQ(r.beyond_history.size(), 2u);
  EXPECT_EQ(r.beyond_history[0], &jobs[0]);
  EXPECT_EQ(r.beyond_history[1], &jobs[1]);

  cj.spec.successful_jobs_history_limit = 0;
  cj.spec.failed_jobs_history_limit = 2;
  r = ReviewCronJobJobs(cj, owned);
  EXPECT_EQ(r.beyond_history.size(), 4u);  // every successful one, no failed one
  bool failed = false;
  EXPECT_TRUE(JobEnded(jobs[1], &failed));
  EXPECT_TRUE(failed);
  EXPECT_TRUE(JobEnded(jobs[0], &failed));
  EXPECT_FALSE(failed);
  EXPECT_FALSE(JobEnded(jobs[6]));
}

}  // namespace
}  // namespace stash::agent
