// The vocabulary of authentication and authorization in the embedded API
// server, as k8s.io/apiserver names it: who is asking (UserInfo) and what
// they ask for (Attributes, kube's authorizer.Attributes), plus the parsing
// of a request path into those attributes (kube's RequestInfoFactory).
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "http_server.h"

namespace stash::api {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  bool InGroup(std::string_view g) const {
    for (const std::string& x : groups) {
      if (x == g) return true;
    }
    return false;
  }
};

inline constexpr std::string_view kSystemMasters = "system:masters";
inline constexpr std::string_view kAuthenticated = "system:authenticated";
inline constexpr std::string_view kUnauthenticated = "system:unauthenticated";
inline constexpr std::string_view kAnonymousUser = "system:anonymous";
inline constexpr std::string_view kServiceAccountPrefix = "system:serviceaccount:";

// "system:serviceaccount:<ns>:<name>".
std::string ServiceAccountUsername(std::string_view ns, std::string_view name);
// Splits a ServiceAccount username; false for other names.
bool SplitServiceAccountUsername(std::string_view user, std::string* ns, std::string* name);
// The groups of a ServiceAccount user: system:serviceaccounts and
// system:serviceaccounts:<ns> (system:authenticated is added by the caller).
std::vector<std::string> ServiceAccountGroups(std::string_view ns);

struct Attributes {
  std::string verb;
  bool resource_request = false;
  std::string path;  // non-resource requests
  std::string api_group, api_version, resource, subresource, ns, name;
};

// What the request asks for: verb (get/list/watch/create/update/patch/delete/
// deletecollection, or the lower-cased method for non-resource paths), group,
// version, resource, subresource, namespace and name, as kube-apiserver reads
// them from the path and query (a list or watch whose fieldSelector pins
// metadata.name carries that name, so resourceNames rules apply to it).
Attributes RequestAttributes(const HttpRequest& req);

// kube-apiserver's 403 for a denied request (responsewriters.Forbidden):
// `secrets "x" is forbidden: User "..." cannot get resource "secrets" in API
// group "" in the namespace "demo"[: reason]`.
HttpResponse ForbiddenResponse(const UserInfo& user, const Attributes& a,
                               const std::string& reason);

}  // namespace stash::api
