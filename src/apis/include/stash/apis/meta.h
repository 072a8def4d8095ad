// meta/v1 vocabulary every object shares: ObjectMeta (labels, annotations,
// ownerReferences, finalizers), references between objects, label selectors
// and the conditions Stash's statuses carry (kmodules' Condition), with the
// upsert rule every controller of this project uses for them.
//
// Timestamps stay the RFC 3339 strings the server wrote (kube::FormatTime /
// kube::ParseTime convert), so a round trip never reformats them.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/apis/codec.h"
#include "stash/core/clock.h"

namespace stash::apis {

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> block_owner_deletion;
  Extra extra;

  template <class V>
  void Visit(V& v);
  friend bool operator==(const OwnerReference&, const OwnerReference&) = default;
};
STASH_APIS_DECLARE_CODEC(OwnerReference);

struct ObjectMeta {
  std::string name;
  std::string generate_name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;
  std::string deletion_timestamp;
  std::optional<int64_t> deletion_grace_period_seconds;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<OwnerReference> owner_references;
  std::vector<std::string> finalizers;
  Extra extra;  // managedFields, selfLink, ...

  // "<namespace>/<name>", the key caches and work queues use.
  std::string Key() const { return namespace_ + "/" + name; }
  bool HasFinalizer(std::string_view f) const;
  // The owner with controller: true, if any.
  const OwnerReference* ControllerRef() const;
  // The label's value, or "" when absent.
  std::string Label(std::string_view key) const;

  template <class V>
  void Visit(V& v);
  friend bool operator==(const ObjectMeta&, const ObjectMeta&) = default;
};
STASH_APIS_DECLARE_CODEC(ObjectMeta);

// core/v1 ObjectReference (an Event's involvedObject, a CronJob's active jobs).
struct ObjectReference {
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string api_version;
  std::string resource_version;
  std::string field_path;
  Extra extra;

  template <class V>
  void Visit(V& v);
  friend bool operator==(const ObjectReference&, const ObjectReference&) = default;
};
STASH_APIS_DECLARE_CODEC(ObjectReference);

struct LocalObjectReference {
  std::string name;
  Extra extra;

  template <class V>
  void Visit(V& v);
  friend bool operator==(const LocalObjectReference&, const LocalObjectReference&) = default;
};
STASH_APIS_DECLARE_CODEC(LocalObjectReference);

struct LabelSelectorRequirement {
  std::string key;
  std::string operator_;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
  Extra extra;

  template <class V>
  void Visit(V& v);
  friend bool operator==(const LabelSelectorRequirement&,
                         const LabelSelectorRequirement&) = default;
};
STASH_APIS_DECLARE_CODEC(LabelSelectorRequirement);

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
  Extra extra;

  template <class V>
  void Visit(V& v);
  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;
};
STASH_APIS_DECLARE_CODEC(LabelSelector);

// kmodules' Condition, as Stash's statuses hold them.
struct Condition {
  std::string type;
  std::string status;  // "True", "False" or "Unknown"
  int64_t observed_generation = 0;
  std::string last_transition_time;
  std::string reason;
  std::string message;
  std::string severity;
  Extra extra;

  template <class V>
  void Visit(V& v);
  friend bool operator==(const Condition&, const Condition&) = default;
};
STASH_APIS_DECLARE_CODEC(Condition);

// Upserts the condition of `type`: lastTransitionTime moves only when the
// status flips; `generation` 0 leaves observedGeneration out. Returns true
// when anything changed.
bool SetCondition(std::vector<Condition>* conditions, std::string_view type, bool status,
                  std::string_view reason, std::string_view message, SystemTime now,
                  int64_t generation = 0);
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);
// "True", "False", or "" when absent.
std::string ConditionStatus(const std::vector<Condition>& conditions, std::string_view type);

}  // namespace stash::apis
