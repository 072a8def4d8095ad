// ApiHandler: the Kubernetes REST semantics of the embedded API server —
// authentication, routing, discovery, OpenAPI, and get/list/watch/create/
// update/patch/delete of built-in and custom resources on top of the Store.
// Transport-agnostic: it turns an HttpRequest into an HttpResponse.
//
// Thread-safety: Handle may be called concurrently from many threads.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "aggregator.h"
#include "auth.h"
#include "deletion.h"
#include "http_server.h"
#include "paging.h"
#include "registry.h"
#include "stash/api/admission.h"
#include "stash/api/pod_streams.h"
#include "stash/api/selector.h"
#include "stash/api/table.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "store.h"

namespace stash::api {

class ApiHandler {
 public:
  // `auth` authenticates and authorizes every request (auth.h).
  ApiHandler(Store& store, Registry& registry, Clock& clock, Random& random, Auth& auth);

  HttpResponse Handle(const HttpRequest& req);

  // Creates or updates each CRD (JSON objects) so the served API matches the
  // project's manifests, then refreshes the registry.
  Status InstallCrds(const std::vector<json>& crds);
  // Rebuilds the registry's custom resources from the stored CRDs.
  void ReloadCrds();
  // The validating admission plugins asked on every create and update.
  void SetAdmissionPlugins(AdmissionPlugins plugins);

  // Deletion with kube-apiserver's semantics, for requests and the in-process
  // controllers (controllers.h): preconditions, the propagation policy's
  // finalizers, and an object held by finalizers (or a Namespace by its
  // spec.finalizers) only marked with deletionTimestamp. The result's kind is
  // kDelete when the object is gone, else kPut/kNoop with the marked object.
  Result<MutateResult> DeleteWithOptions(const ResourceInfo& info, const std::string& ns,
                                         const std::string& name, const DeleteOptions& options);
  // A controller's read-modify-write of an existing object (NotFound if
  // missing; Conflict if `uid` is given and differs): `edit` changes a copy;
  // nothing is written when it is left unchanged, and a terminating object
  // whose last finalizer went is deleted, as an update would.
  // Creates an object as a POST would (server metadata, admission), for the
  // controllers; AlreadyExists and the like come back as errors.
  Result<json> CreateObject(const ResourceInfo& info, const std::string& ns, const json& obj);
  Result<MutateResult> ModifyObject(const ResourceInfo& info, const std::string& ns,
                                    const std::string& name, const std::string& uid,
                                    const std::function<Status(json* obj)>& edit);
  // The aggregation layer: APIServices with a Service (null: none).
  void SetAggregator(Aggregator* aggregator) { aggregator_ = aggregator; }
  Aggregator* aggregator() const { return aggregator_.load(); }
  // The node that serves pods/log and pods/exec (null: none).
  void SetPodStreams(PodStreams* streams) { pod_streams_ = streams; }

 private:
  struct Target {
    ResourceInfo info;
    std::string ns;
    std::string name;
    std::string sub;  // "status", "scale", "finalize", "log", "exec" or ""
  };
  // The outcome of a write: an object to answer with, or an error response.
  struct WriteOutcome {
    std::optional<HttpResponse> error;
    MutateResult result;
  };
  using Transform = std::function<std::optional<HttpResponse>(const json& current, json* next)>;

  HttpResponse Authorized(const HttpRequest& req);
  // The aggregator's answer for a request of an APIService's group, if any.
  std::optional<HttpResponse> Aggregated(const HttpRequest& req, const UserInfo& user);
  HttpResponse Route(const HttpRequest& req);
  std::optional<HttpResponse> ParseTarget(const HttpRequest& req,
                                          const std::vector<std::string>& parts, Target* t);
  // discovery.cc: /openapi/v3, with the aggregated APIServices' groups.
  HttpResponse OpenApiRoot();
  // reads.cc
  HttpResponse Get(const HttpRequest& req, const Target& t);
  HttpResponse List(const HttpRequest& req, const Target& t);
  HttpResponse Watch(const HttpRequest& req, const Target& t);
  std::vector<PrinterColumn> Columns(const ResourceInfo& info);
  // scale.cc: GET/PUT/PATCH of the scale subresource (autoscaling/v1 Scale)
  HttpResponse Scale(const HttpRequest& req, const Target& t);
  // writes.cc
  HttpResponse Create(const HttpRequest& req, const Target& t);
  HttpResponse Update(const HttpRequest& req, const Target& t);
  HttpResponse Patch(const HttpRequest& req, const Target& t);
  HttpResponse ServerSideApply(const HttpRequest& req, const Target& t);
  HttpResponse Delete(const HttpRequest& req, const Target& t);
  HttpResponse DeleteCollection(const HttpRequest& req, const Target& t);
  // DeleteOptions of a DELETE's query and body; a 400/422 answer when bad.
  std::optional<HttpResponse> RequestDeleteOptions(const HttpRequest& req, DeleteOptions* options);
  WriteOutcome WriteExisting(const HttpRequest& req, const Target& t, const Transform& transform);
  std::optional<HttpResponse> Admit(const HttpRequest& req, const Target& t, json* obj,
                                    std::vector<std::string>* warnings);
  void AfterWrite(const ResourceInfo& info, const std::string& ns, const MutateResult& r);
  // admission.cc: the plugins' verdict on a create (old null) or an update.
  std::optional<HttpResponse> ValidatingAdmission(const HttpRequest& req, const Target& t,
                                                  const json& obj, const json* old);
  Result<json> DecodeBody(const HttpRequest& req);
  // pod_log.cc, pod_exec.cc
  HttpResponse PodLog(const HttpRequest& req, const Target& t);
  HttpResponse PodExec(const HttpRequest& req, const Target& t);
  // What pods/log and pods/exec both check first: the method (GET, and POST
  // when `post`), the pod, its container and a node that serves it; else
  // the answer that refuses the request. `what` names the use in the refusal
  // when no node serves pods ("the logs of pod").
  struct PodStreamTarget {
    PodStreams* streams = nullptr;
    ContainerRef container;
  };
  std::optional<HttpResponse> ResolvePodStream(const HttpRequest& req, const Target& t, bool post,
                                               const std::string& what, PodStreamTarget* out);
  std::optional<HttpResponse> CheckNamespace(const Target& t, bool for_create);

  Store& store_;
  Registry& registry_;
  Clock& clock_;
  Random& random_;
  Auth& auth_;
  ListPager pager_{clock_};
  std::mutex plugins_mu_;
  AdmissionPlugins plugins_;
  std::atomic<PodStreams*> pod_streams_{nullptr};
  std::atomic<Aggregator*> aggregator_{nullptr};
};

// A boolean query parameter as kube-apiserver reads one (pod_log.cc).
bool BoolParam(const HttpRequest& req, const std::string& name);

// reads.cc, shared with provided.cc: what a read request asks for.
struct Selectors {
  LabelSelector labels;
  FieldSelector fields;
  bool Matches(const json& obj) const { return labels.MatchesObject(obj) && fields.Matches(obj); }
};
bool WantsTable(const HttpRequest& req);
IncludeObject IncludeParam(const HttpRequest& req);
// The object with kind and the apiVersion the request named.
json WithKind(json obj, const ResourceInfo& info);
// Parses labelSelector and fieldSelector; an error response when malformed.
std::optional<HttpResponse> ParseSelectors(const HttpRequest& req, const ResourceInfo& info,
                                           Selectors* s);

// discovery.cc, shared with AggregatedServer: the documents of `registry`'s
// resources. /api (core) or /apis, legacy or aggregated (v2, v2beta1) as the
// request's Accept asks; /apis/<group> (APIGroup); /apis/<group>/<version>
// (APIResourceList). 404 for a group or version with no resources.
// `aggregated`: groups served through APIServices (the embedded
// aggregator), listed instead of the registry's groups of the same name.
HttpResponse ApisDiscovery(const Registry& registry, const HttpRequest& req, bool core,
                           const std::vector<AggregatedGroup>& aggregated = {});
HttpResponse GroupDiscovery(const Registry& registry, const std::string& group);
// An APIGroup's name, versions and preferredVersion (the first).
json ApiGroupJson(const std::string& group, const std::vector<std::string>& versions);
HttpResponse GroupVersionDiscovery(const Registry& registry, const std::string& group,
                                   const std::string& version);

// OpenAPI v3 (discovery.cc, shared with AggregatedServer): the root
// document's `paths` ("apis/<group>/<version>" → serverRelativeURL) and the
// document of one group/version (paths with each resource's operations and
// x-kubernetes-group-version-kind; components.schemas from CRDs' and
// providers' schemas), 404 for one without resources.
json OpenApiRootPaths(const Registry& registry);
HttpResponse OpenApiGroupVersion(const Registry& registry, const std::string& group,
                                 const std::string& version);

// The non-empty segments of a path ("/apis/g/v" → apis, g, v).
std::vector<std::string> SplitPath(const std::string& path);

// The parts of a resource path after /api/<version> or /apis/<group>/<version>:
// [namespaces/<ns>/]<resource>[/<name>[/<subresource>]] (namespaces/<name>/
// status|finalize are the Namespace's subresources). False when malformed.
struct ResourcePath {
  std::string ns, resource, name, sub;
};
bool SplitResourcePath(const std::vector<std::string>& rest, ResourcePath* out);

// provided.cc, shared with AggregatedServer: get, list and delete of a
// resource served by its ResourceProvider (info.provider), with Tables,
// selectors and Status errors as kube-apiserver answers for an aggregated
// server; other verbs 405.
HttpResponse ServeProvided(const HttpRequest& req, const ResourceInfo& info, const std::string& ns,
                           const std::string& name, Clock& clock);

// JSON text of an object as the API server answers it.
HttpResponse ObjectResponse(int code, const json& object,
                            const std::vector<std::string>& warnings = {});

}  // namespace stash::api
