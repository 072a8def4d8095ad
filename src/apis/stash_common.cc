#include "stash/apis/stash_common.h"

namespace stash::apis {

template <class V>
void ObjectRef::Visit(V& v) {
  v("namespace", namespace_);
  v("name", name);
}
STASH_APIS_DEFINE_CODEC(ObjectRef);

template <class V>
void TargetRef::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("name", name);
  v("namespace", namespace_);
}
STASH_APIS_DEFINE_CODEC(TargetRef);

template <class V>
void TypedLocalObjectReference::Visit(V& v) {
  v("apiGroup", api_group);
  v("kind", kind);
  v("name", name);
}
STASH_APIS_DEFINE_CODEC(TypedLocalObjectReference);

template <class V>
void TypedObjectReference::Visit(V& v) {
  v("apiGroup", api_group);
  v("kind", kind);
  v("namespace", namespace_);
  v("name", name);
}
STASH_APIS_DEFINE_CODEC(TypedObjectReference);

template <class V>
void Param::Visit(V& v) {
  v("name", name);
  v("value", value);
}
STASH_APIS_DEFINE_CODEC(Param);

template <class V>
void TaskRef::Visit(V& v) {
  v("name", name);
  v("params", params);
}
STASH_APIS_DEFINE_CODEC(TaskRef);

template <class V>
void Handler::Visit(V& v) {
  v("exec", exec);
  v("httpGet", http_get);
  v("httpPost", http_post);
  v("tcpSocket", tcp_socket);
  v("containerName", container_name);
  v("executionPolicy", execution_policy);
}
STASH_APIS_DEFINE_CODEC(Handler);

template <class V>
void EmptyDirSettings::Visit(V& v) {
  v("medium", medium);
  v("sizeLimit", size_limit);
  v("disableCaching", disable_caching);
}
STASH_APIS_DEFINE_CODEC(EmptyDirSettings);

template <class V>
void RetryConfig::Visit(V& v) {
  v("maxRetry", max_retry);
  v("delay", delay);
}
STASH_APIS_DEFINE_CODEC(RetryConfig);

template <class V>
void RetentionPolicy::Visit(V& v) {
  v("name", name);
  v("keepLast", keep_last);
  v("keepHourly", keep_hourly);
  v("keepDaily", keep_daily);
  v("keepWeekly", keep_weekly);
  v("keepMonthly", keep_monthly);
  v("keepYearly", keep_yearly);
  v("keepTags", keep_tags);
  v("prune", prune);
  v("dryRun", dry_run);
}
STASH_APIS_DEFINE_CODEC(RetentionPolicy);

}  // namespace stash::apis
