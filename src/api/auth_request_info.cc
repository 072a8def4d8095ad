// kube-apiserver's RequestInfoFactory: the authorizer's view of a request.
#include <algorithm>
#include <regex>

#include "auth_types.h"

namespace stash::api {

namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// The name a field selector requires with `metadata.name=X` (or ==), else "".
std::string ExactName(const std::string& selector) {
  size_t i = 0;
  while (i <= selector.size()) {
    size_t j = selector.find(',', i);
    if (j == std::string::npos) j = selector.size();
    std::string term = selector.substr(i, j - i);
    term.erase(std::remove(term.begin(), term.end(), ' '), term.end());
    for (const char* prefix : {"metadata.name==", "metadata.name="}) {
      if (term.rfind(prefix, 0) == 0) {
        std::string name = term.substr(std::char_traits<char>::length(prefix));
        if (name.find('/') != std::string::npos || name == "." || name == ".." ||
            name.find('%') != std::string::npos) {
          return "";
        }
        return name;
      }
    }
    i = j + 1;
  }
  return "";
}

}  // namespace

std::string ServiceAccountUsername(std::string_view ns, std::string_view name) {
  return std::string(kServiceAccountPrefix) + std::string(ns) + ":" + std::string(name);
}

bool SplitServiceAccountUsername(std::string_view user, std::string* ns, std::string* name) {
  if (user.substr(0, kServiceAccountPrefix.size()) != kServiceAccountPrefix) return false;
  std::string_view rest = user.substr(kServiceAccountPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find(':', colon + 1) != std::string_view::npos) {
    return false;
  }
  *ns = std::string(rest.substr(0, colon));
  *name = std::string(rest.substr(colon + 1));
  return true;
}

std::vector<std::string> ServiceAccountGroups(std::string_view ns) {
  return {"system:serviceaccounts", "system:serviceaccounts:" + std::string(ns)};
}

Attributes RequestAttributes(const HttpRequest& req) {
  Attributes a;
  a.path = req.path;
  std::string method = req.method;
  std::transform(method.begin(), method.end(), method.begin(), ::tolower);
  a.verb = method;
  std::vector<std::string> parts = Split(req.path);
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return a;
  size_t i = 1;
  if (parts[0] == "apis") {
    if (parts.size() < 4) return a;
    a.api_group = parts[i++];
  }
  a.resource_request = true;
  a.api_version = parts[i++];
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  if (rest[0] == "watch" || rest[0] == "proxy") {
    a.verb = rest[0];
    rest.erase(rest.begin());
    if (rest.empty()) {
      a.resource_request = false;
      a.verb = method;
      return a;
    }
  } else if (req.method == "POST") {
    a.verb = "create";
  } else if (req.method == "GET" || req.method == "HEAD") {
    a.verb = "get";
  } else if (req.method == "PUT") {
    a.verb = "update";
  } else if (req.method == "PATCH") {
    a.verb = "patch";
  } else if (req.method == "DELETE") {
    a.verb = "delete";
  } else {
    a.verb = "";
  }
  if (rest[0] == "namespaces" && rest.size() > 1) {
    a.ns = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  if (rest.size() >= 3 && a.verb != "proxy") a.subresource = rest[2];
  if (rest.size() >= 2) a.name = rest[1];
  a.resource = rest[0];
  if (a.name.empty() && a.verb == "get") {
    std::string watch = req.Query("watch");
    std::transform(watch.begin(), watch.end(), watch.begin(), ::tolower);
    bool has_watch = req.query.count("watch") > 0;
    a.verb = has_watch && watch != "false" && watch != "0" ? "watch" : "list";
    a.name = ExactName(req.Query("fieldSelector"));
  }
  if (a.name.empty() && a.verb == "delete") a.verb = "deletecollection";
  return a;
}

}  // namespace stash::api
