// Field tables for the kinds kubectl 1.32+ sends as protobuf.
#include "protobuf_schema.h"

namespace stash::api::pb {
namespace {

using K = FieldKind;

FieldDesc Str(int n, std::string_view name) { return {n, name, K::kString}; }
FieldDesc Strs(int n, std::string_view name) { return {n, name, K::kString, true}; }
FieldDesc Bool(int n, std::string_view name, bool pointer = false) {
  return {n, name, K::kBool, false, nullptr, pointer};
}
FieldDesc Int(int n, std::string_view name, bool pointer = false) {
  return {n, name, K::kInt, false, nullptr, pointer};
}
FieldDesc Msg(int n, std::string_view name, const MessageDesc* (*m)(), bool repeated = false) {
  return {n, name, K::kMessage, repeated, m};
}
FieldDesc Of(int n, std::string_view name, K kind) { return {n, name, kind}; }

const MessageDesc* TypeMeta() {
  static const MessageDesc d{"TypeMeta", {Str(1, "apiVersion"), Str(2, "kind")}};
  return &d;
}

const MessageDesc* OwnerReference() {
  static const MessageDesc d{"OwnerReference",
                             {Str(1, "kind"), Str(3, "name"), Str(4, "uid"), Str(5, "apiVersion"),
                              Bool(6, "controller", true), Bool(7, "blockOwnerDeletion", true)}};
  return &d;
}

const MessageDesc* ObjectMeta() {
  static const MessageDesc d{
      "ObjectMeta",
      {Str(1, "name"), Str(2, "generateName"), Str(3, "namespace"), Str(4, "selfLink"),
       Str(5, "uid"), Str(6, "resourceVersion"), Int(7, "generation"),
       Of(8, "creationTimestamp", K::kTime), Of(9, "deletionTimestamp", K::kTime),
       Int(10, "deletionGracePeriodSeconds", true), Of(11, "labels", K::kStringMap),
       Of(12, "annotations", K::kStringMap), Msg(13, "ownerReferences", OwnerReference, true),
       Strs(14, "finalizers")}};  // 17 managedFields: server-side apply only, skipped
  return &d;
}

const MessageDesc* NamespaceCondition() {
  static const MessageDesc d{"NamespaceCondition",
                             {Str(1, "type"), Str(2, "status"),
                              Of(4, "lastTransitionTime", K::kTime), Str(5, "reason"),
                              Str(6, "message")}};
  return &d;
}

const MessageDesc* NamespaceSpec() {
  static const MessageDesc d{"NamespaceSpec", {Strs(1, "finalizers")}};
  return &d;
}

const MessageDesc* NamespaceStatus() {
  static const MessageDesc d{"NamespaceStatus",
                             {Str(1, "phase"), Msg(2, "conditions", NamespaceCondition, true)}};
  return &d;
}

const MessageDesc* Namespace() {
  static const MessageDesc d{"Namespace",
                             {Msg(1, "metadata", ObjectMeta), Msg(2, "spec", NamespaceSpec),
                              Msg(3, "status", NamespaceStatus)}};
  return &d;
}

const MessageDesc* Secret() {
  static const MessageDesc d{"Secret",
                             {Msg(1, "metadata", ObjectMeta), Of(2, "data", K::kBytesMap),
                              Str(3, "type"), Of(4, "stringData", K::kStringMap),
                              Bool(5, "immutable", true)}};
  return &d;
}

const MessageDesc* ConfigMap() {
  static const MessageDesc d{"ConfigMap",
                             {Msg(1, "metadata", ObjectMeta), Of(2, "data", K::kStringMap),
                              Of(3, "binaryData", K::kBytesMap), Bool(4, "immutable", true)}};
  return &d;
}

const MessageDesc* Preconditions() {
  static const MessageDesc d{"Preconditions", {Str(1, "uid"), Str(2, "resourceVersion")}};
  return &d;
}

const MessageDesc* DeleteOptions() {
  static const MessageDesc d{
      "DeleteOptions",
      {Int(1, "gracePeriodSeconds", true), Msg(2, "preconditions", Preconditions),
       Bool(3, "orphanDependents", true), Str(4, "propagationPolicy"), Strs(5, "dryRun"),
       Bool(6, "ignoreStoreReadErrorWithClusterBreakingPotential", true)}};
  return &d;
}

}  // namespace

const MessageDesc& UnknownDesc() {
  static const MessageDesc d{"runtime.Unknown",
                             {Msg(1, "typeMeta", TypeMeta), Str(3, "contentEncoding"),
                              Str(4, "contentType")}};
  return d;
}

const MessageDesc* KindDesc(std::string_view kind) {
  if (kind == "Namespace") return Namespace();
  if (kind == "Secret") return Secret();
  if (kind == "ConfigMap") return ConfigMap();
  if (kind == "DeleteOptions") return DeleteOptions();
  return nullptr;
}

}  // namespace stash::api::pb
