#include "stash/apis/meta.h"

#include "stash/kube/events.h"

namespace stash::apis {

// The pattern of every struct of this layer: one line per JSON member, in
// Go's declaration order; Emit::kAlways where Go has no omitempty and the
// value is meaningful at zero.
template <class V>
void OwnerReference::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("name", name);
  v("uid", uid);
  v("controller", controller);
  v("blockOwnerDeletion", block_owner_deletion);
}
STASH_APIS_DEFINE_CODEC(OwnerReference);

template <class V>
void ObjectMeta::Visit(V& v) {
  v("name", name);
  v("generateName", generate_name);
  v("namespace", namespace_);
  v("uid", uid);
  v("resourceVersion", resource_version);
  v("generation", generation);
  v("creationTimestamp", creation_timestamp);
  v("deletionTimestamp", deletion_timestamp);
  v("deletionGracePeriodSeconds", deletion_grace_period_seconds);
  v("labels", labels);
  v("annotations", annotations);
  v("ownerReferences", owner_references);
  v("finalizers", finalizers);
}
STASH_APIS_DEFINE_CODEC(ObjectMeta);

bool ObjectMeta::HasFinalizer(std::string_view f) const {
  for (const std::string& x : finalizers) {
    if (x == f) return true;
  }
  return false;
}

const OwnerReference* ObjectMeta::ControllerRef() const {
  for (const OwnerReference& r : owner_references) {
    if (r.controller.value_or(false)) return &r;
  }
  return nullptr;
}

std::string ObjectMeta::Label(std::string_view key) const {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? "" : it->second;
}

template <class V>
void ObjectReference::Visit(V& v) {
  v("kind", kind);
  v("namespace", namespace_);
  v("name", name);
  v("uid", uid);
  v("apiVersion", api_version);
  v("resourceVersion", resource_version);
  v("fieldPath", field_path);
}
STASH_APIS_DEFINE_CODEC(ObjectReference);

template <class V>
void LocalObjectReference::Visit(V& v) {
  v("name", name);
}
STASH_APIS_DEFINE_CODEC(LocalObjectReference);

template <class V>
void LabelSelectorRequirement::Visit(V& v) {
  v("key", key);
  v("operator", operator_);
  v("values", values);
}
STASH_APIS_DEFINE_CODEC(LabelSelectorRequirement);

template <class V>
void LabelSelector::Visit(V& v) {
  v("matchLabels", match_labels);
  v("matchExpressions", match_expressions);
}
STASH_APIS_DEFINE_CODEC(LabelSelector);

template <class V>
void Condition::Visit(V& v) {
  v("type", type);
  v("status", status);
  v("observedGeneration", observed_generation);
  v("lastTransitionTime", last_transition_time);
  v("reason", reason);
  v("message", message);
  v("severity", severity);
}
STASH_APIS_DEFINE_CODEC(Condition);

bool SetCondition(std::vector<Condition>* conditions, std::string_view type, bool status,
                  std::string_view reason, std::string_view message, SystemTime now,
                  int64_t generation) {
  const std::string st = status ? "True" : "False";
  for (Condition& c : *conditions) {
    if (c.type != type) continue;
    Condition before = c;
    if (c.status != st) c.last_transition_time = kube::FormatTime(now);
    c.status = st;
    c.reason = reason;
    c.message = message;
    c.observed_generation = generation;
    return !(c == before);
  }
  Condition c;
  c.type = type;
  c.status = st;
  c.reason = reason;
  c.message = message;
  c.last_transition_time = kube::FormatTime(now);
  c.observed_generation = generation;
  conditions->push_back(std::move(c));
  return true;
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

std::string ConditionStatus(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = FindCondition(conditions, type);
  return c ? c->status : "";
}

}  // namespace stash::apis
