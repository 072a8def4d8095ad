#include "stash/apis/restore.h"

namespace stash::apis {

template <class V>
void Rule::Visit(V& v) {
  v("targetHosts", target_hosts);
  v("sourceHost", source_host);
  v("snapshots", snapshots);
  v("paths", paths);
  v("exclude", exclude);
  v("include", include);
}
STASH_APIS_DEFINE_CODEC(Rule);

template <class V>
void RestoreTarget::Visit(V& v) {
  v("alias", alias);
  v("ref", ref);
  v("volumeMounts", volume_mounts);
  v("replicas", replicas);
  v("volumeClaimTemplates", volume_claim_templates);
  v("rules", rules);
  v("args", args);
}
STASH_APIS_DEFINE_CODEC(RestoreTarget);

template <class V>
void RestoreHooks::Visit(V& v) {
  v("preRestore", pre_restore);
  v("postRestore", post_restore);
}
STASH_APIS_DEFINE_CODEC(RestoreHooks);

template <class V>
void RestoreSessionSpec::Visit(V& v) {
  v("task", task);
  v("target", target);
  v("runtimeSettings", runtime_settings);
  v("tempDir", temp_dir);
  v("interimVolumeTemplate", interim_volume_template);
  v("hooks", hooks);
  v("driver", driver);
  v("repository", repository);
  v("rules", rules);
  v("timeOut", time_out);
}
STASH_APIS_DEFINE_CODEC(RestoreSessionSpec);

template <class V>
void HostRestoreStats::Visit(V& v) {
  v("hostname", hostname);
  v("phase", phase);
  v("duration", duration);
  v("error", error);
}
STASH_APIS_DEFINE_CODEC(HostRestoreStats);

template <class V>
void RestoreSessionStatus::Visit(V& v) {
  v("phase", phase);
  v("totalHosts", total_hosts);
  v("sessionDuration", session_duration);
  v("stats", stats);
  v("conditions", conditions);
  v("sessionDeadline", session_deadline);
}
STASH_APIS_DEFINE_CODEC(RestoreSessionStatus);

template <class V>
void RestoreSession::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(RestoreSession);

}  // namespace stash::apis
