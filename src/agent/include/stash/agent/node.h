// NodeRuntime: the embedded node of `stash server`. There is no container
// runtime; instead
//  - a Node object (NodeHeartbeat: registered, heartbeat every 10 s);
//  - a bound PersistentVolumeClaim's volume is the host directory
//    DATA/volumes/<ns>/<pvc>, which the API server's provisioner made (see
//    src/api/volumes.h), so a user can put data into it;
//  - the pods bound to this node (made by the cluster's workload
//    controllers, or for Jobs by PodKeeper, pods.h) get honest statuses;
//  - in every such pod, the containers whose image is stash's (the injected
//    sidecar) run as local `stash` processes with their volumeMounts mapped
//    onto host directories (env STASH_PATH_MAP), restarted with backoff when
//    they exit, stopped when the pod or the container goes away (the
//    sidecars of a Deployment's replicas elect one leader through a Lease);
//    a process gets what a container would, and nothing of the server's: its
//    spec's env, KUBERNETES_SERVICE_HOST/PORT, and its pod's ServiceAccount
//    token, ca.crt and namespace in a directory that is kubelet's
//    /var/run/secrets/kubernetes.io/serviceaccount in its path map (and
//    STASH_SERVICEACCOUNT_DIR, where kube's in-cluster config reads it);
//    stash's init containers (the restore's `stash-init`) run first, one
//    after the other, as a kubelet runs them: the pod's other containers
//    start once they exited 0; a failing one is restarted with back-off
//    (CrashLoopBackOff) and its exit code and last log lines are the pod's
//    status (`kubectl describe pod`), with kubelet's Started/BackOff events;
//  - Jobs (the restore's) get a pod `<job>-<5 random>` run to completion
//    (restartPolicy OnFailure restarts it in place, Never replaces the pod,
//    both up to backoffLimit) and the Job's status: active, succeeded,
//    failed, startTime, completionTime, Complete/Failed conditions;
//  - CronJobs whose container is stash's run that container at each tick of
//    their schedule (concurrencyPolicy Forbid) and get status.lastScheduleTime.
//    The operator's trigger (`stash create-backupsession`) runs in-process on
//    a few worker threads (see trigger_workers.h: a process per tick does not
//    scale to a thousand BackupConfigurations); any other command of stash's,
//    or every tick with NodeOptions::in_process_triggers false, runs as a
//    local process, or, when stash's containers run from the stash image,
//    as kube-controller-manager runs a tick: a Job of the jobTemplate
//    (cron_jobs.h) whose pod the runtime runs (status.active,
//    lastSuccessfulTime, successful/failedJobsHistoryLimit as kube's).
// Work is driven by the informers: pods, containers and CronJob states are
// recomputed when something changed (or every 10 s), not on every pass.
// Containers of any other image run in the node's container runtime
// (podman, NodeOptions::runtime) as a kubelet runs them (kubelet.h), beside
// stash's processes of the same pod: both see the same volume directories.
// Without a working runtime they are not run, and their status says why.
// When the runtime works and its local store holds the stash image
// (NodeOptions::stash_image, checked at start and every 30 s), stash's own
// containers (sidecar, restore init container, restore Job) are no
// exception: they run there too, from that image, with the pod's volumes,
// ServiceAccount token, logs, exec and back-off like any container; the
// processes above are the fallback. The trigger's in-process
// create-backupsession stays in-process either way (a container start per
// tick per BackupConfiguration is what the in-process trigger avoids);
// without it, ticks are Jobs run from the image.
//
// Thread-safety: Start/Stop from one thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "stash/agent/container_runtime.h"
#include "stash/agent/pods.h"
#include "stash/agent/probe.h"
#include "stash/agent/process.h"
#include "stash/apis/batch.h"
#include "stash/apis/core.h"
#include "stash/apis/events.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/kube/client.h"
#include "stash/kube/cron.h"
#include "stash/kube/stash_names.h"

namespace stash::agent {

class TriggerWorkers;
class NodeHeartbeat;
class NodeKubelet;
class NodeStreams;
class NodeInformer;
template <class T>
class TypedNodeInformer;

struct NodeOptions {
  std::string data_dir;      // DATA above
  std::string stash_binary;  // empty: this executable
  std::string node_name = "stash-embedded-node";
  // Containers with this image are stash's own and run here (the operator's
  // --image).
  std::string stash_image = std::string(kube::kStashImage);
  // The trigger CronJobs' `stash create-backupsession` runs inside the node
  // (the default): the same function as the command, on a client that holds
  // the CronJob's ServiceAccount token (so RBAC decides as for the pod), kept
  // warm between ticks. A process per tick, as for every other container,
  // costs a process start, a kubeconfig read and a TLS handshake each: with
  // 200 BackupConfigurations on one schedule the sessions of a tick arrived
  // over 9 s instead of 0.5 s. false runs the process.
  bool in_process_triggers = true;
  // Runs the containers of every other image (podman); null, or failing its
  // check at Start, leaves them not run (NotRunByEmbeddedNode, with why).
  ContainerRuntime* runtime = nullptr;
  // Variables of the server's environment stash's own containers get too
  // (a storage emulator's address, say), as processes or from the stash
  // image (KubeletOptions::stash_env); nothing else of it reaches them.
  std::vector<std::string> pass_env;
};

class NodeRuntime {
 public:
  NodeRuntime(const kube::Client& client, Clock& clock, Random& random, NodeOptions opts);
  ~NodeRuntime();

  void Start();
  void Stop();

  // kubectl logs/exec of the pods' containers. Valid from Start to Stop.
  api::PodStreams* streams();
  // Whether containers of other images than stash's run (after Start).
  bool runs_other_images() const { return scope_.other_images; }
  // Whether stash's own containers run in the container runtime from the
  // stash image (true) or as local processes (after Start).
  bool runs_stash_image() const { return stash_in_runtime_; }

  // Host directory for a volume of a pod spec; empty when unsupported.
  std::string VolumeHostDir(const std::string& ns, const std::string& pod,
                            const apis::Volume& volume) const;

 private:
  struct Container {
    std::vector<std::string> argv;
    EnvMap env;
    std::string log_path;
    std::string spec_hash;
    // The pod it belongs to: events, statuses, and what an exit means.
    std::string ns, pod, pod_uid, name;
    bool init = false;                      // an init container: exit 0 ends it
    std::string restart_policy = "Always";  // OnFailure, Never: exit 0 ends it
    int64_t backoff_limit = -1;             // a Job's: restarts beyond it end it
    // Its ServiceAccount's token, ca.crt and namespace (empty: none mounted).
    std::string account, token_dir;
    // Where its sidecar says it is not Ready (kNotReadyFileEnv): the pod's
    // own file, as every process shares the node's /tmp.
    std::string not_ready_file;
    // Its readinessProbe (exec: stash's command runs as this binary, with
    // the container's environment; httpGet/tcpSocket: against the node's
    // address, where the process listens); none: Ready while running.
    std::optional<apis::Probe> readiness;
    std::map<std::string, int> ports;  // its named ports, for the probe
  };
  struct Running {
    Container spec;
    std::unique_ptr<ChildProcess> proc;
    int failures = 0;  // recent, for the backoff
    int restarts = 0;  // ever, for restartCount
    SystemTime started{}, restart_at{};
    std::optional<Termination> last;  // the previous run, for lastState
    // The readiness probe's verdict (kubelet's: not Ready until a probe
    // passed) and when it runs next.
    ProbeStreak probe;
    SystemTime next_probe{};
  };
  // A container that ended for good (init container or Job container that
  // exited 0, or one that failed beyond its Job's limits).
  struct Finished {
    std::string pod_uid;
    ContainerState state;
    std::string log_path;
  };
  struct CronState {
    std::shared_ptr<const apis::CronJob> cronjob;  // shared with the informer's cache
    std::string schedule;
    std::optional<kube::Schedule> parsed;
    bool suspend = false;
    SystemTime next{};
    std::unique_ptr<ChildProcess> proc;
    std::string log_path;  // proc's
    // Set while an in-process trigger run is queued or running.
    std::shared_ptr<std::atomic<bool>> active = std::make_shared<std::atomic<bool>>(false);
    // A Job of a tick (image mode) has not finished yet; the one made last
    // while the Jobs' cache does not show it yet.
    bool job_active = false;
    std::string pending_job;
    SystemTime pending_since{};
    std::set<std::string> failures_reported;  // uids of its failed Jobs
  };

  void OnPvc(const std::string& type, const apis::PersistentVolumeClaim& pvc);
  // A merge patch of the status of r's object `meta` (`status_patch` holds
  // only what the node changes: see apis::MergePatchDiff).
  Status PatchStatus(const kube::Resource& r, const apis::ObjectMeta& meta,
                     const kube::json& status_patch);
  std::map<std::string, Container> DesiredContainers(const std::vector<apis::Pod>& pods);
  void Loop();
  // The pods that should exist now; empty until every informer has synced.
  std::optional<std::vector<apis::Pod>> SyncPods();
  // Returns whether a container started or stopped.
  bool SyncContainers();
  // Runs the readiness probes that are due; returns whether a container's
  // readiness changed.
  bool ProbeReadiness(SystemTime now);
  void SyncPodStatuses(const std::vector<apis::Pod>& pods);
  // The Jobs' status from their pods.
  void SyncJobStatuses(const std::vector<apis::Pod>& pods);
  // A container process ended: restart it, or record that it finished.
  void OnExit(const std::string& key, Running& r, SystemTime now, bool* restart);
  void RecordPodEvent(const Container& c, std::string_view type, std::string_view reason,
                      const std::string& message);
  // Takes in the current specs of the CronJobs that changed since the last
  // call (all of them after crons_dirty_): one object per change, not the
  // whole cache, which a tick's status writes change one by one.
  void RefreshCronJobs();
  // Takes in one CronJob's spec (null: it is gone).
  void RefreshCronJob(const std::string& key, std::shared_ptr<const apis::CronJob> cj,
                      SystemTime now);
  // Fires due ticks.
  void SyncCronJobs();
  void FireCronJob(const std::string& key, CronState& st, SystemTime tick);
  // A tick as kube-controller-manager runs it (image mode): a Job of the
  // CronJob's jobTemplate, whose pod the Kubelet runs from the stash image.
  void FireCronJobAsJob(const std::string& key, CronState& st, SystemTime tick);
  // The Jobs of the CronJobs' ticks (after a Job changed): the CronJob's
  // status.active and lastSuccessfulTime, finished Jobs beyond the history
  // limits deleted, a Warning event on the BackupConfiguration for a run
  // that failed.
  void SyncCronJobJobs();
  void StartKubelet();
  // Tells streams_ where the process containers' logs are.
  void PublishProcesses();
  // `pod` as the runtime runs it: without stash's containers (and without
  // any container until stash's init containers are done).
  apis::Pod KubeletPod(const apis::Pod& pod, bool stash_initialized) const;
  // Whether the runtime's init containers of `pod` all exited 0.
  bool RuntimeInitDone(const apis::Pod& pod) const;
  // Whether `c` runs as a local process: a container of stash's image while
  // that image is not in the runtime's local store (or there is no runtime).
  bool RunsAsProcess(const apis::Container& c) const;
  // Chooses where stash's containers run (the runtime when it works and
  // holds opts_.stash_image, else processes) and says so at start and when
  // it changes; pods are recomputed after a change.
  void ChooseStashMode(bool at_start);
  // A stash container as a process: its command, and an environment made
  // as a container's is (the spec's variables, the in-cluster API address,
  // its ServiceAccount's token directory) with nothing of the server's.
  // `token_key` names its token directory: the pod's uid, or a CronJob's
  // (whose runs have no Pod object).
  Container MakeContainer(const std::string& ns, const std::string& pod,
                          const std::string& token_key, const apis::PodSpec& pod_spec,
                          const apis::Container& container, const std::string& log_name);
  // Writes (and every 48 minutes renews) c's ServiceAccount token where its
  // environment says, as kubelet does for /var/run/secrets/kubernetes.io/
  // serviceaccount.
  Status EnsureToken(const Container& c);
  // The last lines a failed container wrote (kubelet's
  // terminationMessagePolicy FallbackToLogsOnError).
  static std::string LogTail(const std::string& path);
  // A trigger tick that made no BackupSession: a Warning event on its
  // BackupConfiguration ("Permission Denied" for 401/403), as the sidecar
  // records its own refusals, so `kubectl describe` says why ticks do nothing.
  void RecordTriggerFailure(const apis::CronJob& cronjob, const Status& why);

  const kube::Client& client_;
  Clock& clock_;
  NodeOptions opts_;
  std::vector<std::unique_ptr<NodeInformer>> workloads_;
  std::unique_ptr<TypedNodeInformer<apis::PersistentVolumeClaim>> pvcs_;
  std::unique_ptr<TypedNodeInformer<apis::CronJob>> cronjobs_;
  std::unique_ptr<TypedNodeInformer<apis::Pod>> pods_;
  TypedNodeInformer<apis::Job>* jobs_ = nullptr;  // one of workloads_
  apis::EventRecorder kubelet_events_;
  PodKeeper pod_keeper_;
  std::map<std::string, Running> running_;    // key ns/pod/container
  std::map<std::string, CronState> crons_;    // key ns/name
  std::map<std::string, Container> desired_;  // key ns/pod/container
  std::map<std::string, Finished> finished_;  // key ns/pod/container
  std::vector<apis::Pod> pods_now_;
  // Set by informer handlers; the loop recomputes what depends on them.
  std::atomic<bool> pods_dirty_{true}, crons_dirty_{true}, jobs_dirty_{true};
  std::mutex crons_changed_mu_;
  std::set<std::string> crons_changed_;  // CronJobs (ns/name) changed since the last refresh
  std::string started_at_;  // FormatTime of Start: Jobs that failed before are not reported
  std::unique_ptr<TriggerWorkers> triggers_;
  std::unique_ptr<NodeHeartbeat> heartbeat_;  // the Node object, as a kubelet
  std::unique_ptr<NodeKubelet> kubelet_;      // set while the runtime works
  std::unique_ptr<NodeStreams> streams_;      // from Start to Stop
  RunScope scope_;
  // Stash's containers run in the runtime (ChooseStashMode); loop thread.
  bool stash_in_runtime_ = false;
  SystemTime next_mode_check_{};
  std::string api_host_;  // KUBERNETES_SERVICE_HOST/PORT of the processes
  int api_port_ = 443;
  std::map<std::string, SystemTime> tokens_written_;  // token dir → when
  // In-process triggers' clients, each with its ServiceAccount's token
  // (renewed at 48 minutes, as EnsureToken's), key ns/account. Used from the
  // trigger workers.
  struct TriggerIdentity {
    std::shared_ptr<const kube::Client> client;
    SystemTime minted{};
  };
  Result<std::shared_ptr<const kube::Client>> TriggerClient(const std::string& ns,
                                                            const std::string& account);
  std::mutex trigger_clients_mu_;
  std::map<std::string, TriggerIdentity> trigger_clients_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> loop_exited_{false};  // Loop returned (Stop wakes its sleeps until then)
  std::thread loop_;
};

}  // namespace stash::agent
