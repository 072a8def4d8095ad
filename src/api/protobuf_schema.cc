// Builds the message registry from the compact field tables.
#include "protobuf_schema.h"

#include <cstdlib>
#include <map>
#include <sstream>

namespace stash::api::pb {
namespace {

// The apimachinery messages (meta/v1, runtime), in the format described in
// protobuf_messages.cc. ObjectMeta's 17 managedFields (server-side apply) is
// left out on purpose.
constexpr std::string_view kMetaMessages = R"tbl(
TypeMeta 1:apiVersion:s 2:kind:s
Unknown 1:typeMeta:m:TypeMeta 3:contentEncoding:s 4:contentType:s
OwnerReference 1:kind:s 3:name:s 4:uid:s 5:apiVersion:s 6:controller:t! 7:blockOwnerDeletion:t!
ObjectMeta 1:name:s 2:generateName:s 3:namespace:s 4:selfLink:s 5:uid:s 6:resourceVersion:s
  7:generation:i 8:creationTimestamp:time 9:deletionTimestamp:time
  10:deletionGracePeriodSeconds:i! 11:labels:ms 12:annotations:ms
  13:ownerReferences:m*:OwnerReference 14:finalizers:s*
Condition 1:type:s 2:status:s 3:observedGeneration:i 4:lastTransitionTime:time 5:reason:s
  6:message:s
LabelSelector 1:matchLabels:ms 2:matchExpressions:m*:LabelSelectorRequirement
LabelSelectorRequirement 1:key:s 2:operator:s 3:values:s*
Preconditions 1:uid:s 2:resourceVersion:s
DeleteOptions 1:gracePeriodSeconds:i! 2:preconditions:m:Preconditions 3:orphanDependents:t!
  4:propagationPolicy:s 5:dryRun:s* 6:ignoreStoreReadErrorWithClusterBreakingPotential:t!
)tbl";

bool ParseKind(std::string_view k, FieldKind& out) {
  static const std::map<std::string_view, FieldKind> kKinds = {
      {"s", FieldKind::kString},    {"b", FieldKind::kBytes},
      {"t", FieldKind::kBool},      {"i", FieldKind::kInt},
      {"m", FieldKind::kMessage},   {"ms", FieldKind::kStringMap},
      {"mb", FieldKind::kBytesMap}, {"mq", FieldKind::kQuantityMap},
      {"time", FieldKind::kTime},   {"mtime", FieldKind::kMicroTime},
      {"q", FieldKind::kQuantity},  {"ios", FieldKind::kIntOrString}};
  auto it = kKinds.find(k);
  if (it == kKinds.end()) return false;
  out = it->second;
  return true;
}

// "3:name:m*:Type" -> FieldDesc. The tables are compiled in, so a malformed
// entry is a programming error caught by the unit tests (it aborts).
FieldDesc ParseField(const std::string& token) {
  std::vector<std::string> parts;
  std::stringstream ss(token);
  for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
  FieldDesc f;
  if (parts.size() < 3) std::abort();
  f.number = std::atoi(parts[0].c_str());
  f.name = parts[1];
  std::string kind = parts[2];
  while (!kind.empty() && (kind.back() == '*' || kind.back() == '!' || kind.back() == '^')) {
    f.repeated |= kind.back() == '*';
    f.keep_zero |= kind.back() == '!';
    f.inlined |= kind.back() == '^';
    kind.pop_back();
  }
  if (!ParseKind(kind, f.kind) || f.number <= 0) std::abort();
  if (parts.size() > 3) f.message_name = parts[3];
  return f;
}

void ParseInto(std::string_view text, std::map<std::string, MessageDesc>& registry) {
  std::stringstream lines{std::string(text)};
  MessageDesc* current = nullptr;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    std::stringstream tokens(line);
    std::string token;
    if (line[0] != ' ') {
      tokens >> token;
      current = &registry[token];
      current->name = token;
      current->fields.clear();
    }
    while (tokens >> token) {
      if (current == nullptr) std::abort();
      current->fields.push_back(ParseField(token));
    }
  }
}

const std::map<std::string, MessageDesc>& Registry() {
  static const std::map<std::string, MessageDesc>* const kRegistry = [] {
    auto* registry = new std::map<std::string, MessageDesc>();
    ParseInto(WorkloadMessages(), *registry);
    ParseInto(AuthMessages(), *registry);
    ParseInto(kMetaMessages, *registry);
    for (auto& [name, desc] : *registry) {
      for (FieldDesc& f : desc.fields) {
        auto it = registry->find(f.message_name);
        if (it != registry->end()) f.message = &it->second;
      }
    }
    return registry;
  }();
  return *kRegistry;
}

const MessageDesc* Lookup(const std::string& name) {
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : &it->second;
}

}  // namespace

const MessageDesc& UnknownDesc() { return *Lookup("Unknown"); }

const MessageDesc* KindDesc(std::string_view kind) {
  static const char* const kKinds[] = {"Namespace",
                                       "Secret",
                                       "ConfigMap",
                                       "DeleteOptions",
                                       "Deployment",
                                       "StatefulSet",
                                       "DaemonSet",
                                       "Job",
                                       "CronJob",
                                       "Pod",
                                       "PersistentVolumeClaim",
                                       "Event",
                                       "Service",
                                       "ServiceAccount",
                                       "TokenRequest",
                                       "SelfSubjectReview",
                                       "TokenReview",
                                       "SelfSubjectAccessReview",
                                       "SubjectAccessReview",
                                       "LocalSubjectAccessReview",
                                       "SelfSubjectRulesReview",
                                       "Role",
                                       "ClusterRole",
                                       "RoleBinding",
                                       "ClusterRoleBinding"};
  for (const char* k : kKinds) {
    if (kind == k) return Lookup(k);
  }
  return nullptr;
}

}  // namespace stash::api::pb
