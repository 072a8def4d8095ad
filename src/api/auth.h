// Auth: authentication and authorization of every API request, as
// kube-apiserver does them, and the API objects that come with them.
//
// - Authentication: the admin bearer token of the data directory (user
//   "stash-admin", group system:masters), ServiceAccount tokens (RS256 JWTs
//   from TokenSigner: issuer, audience, expiry with kube's 60 s leeway, the
//   account's UID, and a bound Pod/Secret/Node that must still exist with the
//   same UID), anonymous (system:anonymous) only for /healthz, /livez, /readyz
//   and /version; anything else is 401.
// - Impersonation (Impersonate-User/-Group/-Uid/-Extra-*), allowed by RBAC's
//   `impersonate` verb on users, groups, serviceaccounts, uids, userextras.
// - Authorization: RbacAuthorizer on the request's attributes; a denial is
//   kube's 403 (`secrets "x" is forbidden: User "..." cannot get resource
//   "secrets" in API group "" in the namespace "demo"`). Writes of roles and
//   bindings may not grant what the writer does not hold (kube's escalation
//   check: `escalate` and `bind` verbs).
// - Served here: SelfSubjectAccessReview, SubjectAccessReview,
//   LocalSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview,
//   TokenReview, the ServiceAccount `token` subresource (TokenRequest) and the
//   OIDC discovery documents.
// - Controllers (one worker thread): a `default` ServiceAccount in every
//   active namespace, the bootstrap ClusterRoles/Bindings, and the rules of
//   aggregated ClusterRoles.
//
// Thread-safety: Check/Serve/IssueToken are thread-safe; Start/Stop from one
// thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "auth_jwt.h"
#include "auth_types.h"
#include "http_server.h"
#include "rbac.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "store.h"

namespace stash::api {

inline constexpr std::string_view kAdminUser = "stash-admin";
inline constexpr std::string_view kIssuer = "https://kubernetes.default.svc.cluster.local";

// The object a token is bound to (kubectl create token --bound-object-*).
struct BoundObject {
  std::string kind;  // Pod, Secret or Node
  std::string name;
  std::string uid;
};

class Auth {
 public:
  Auth(Store& store, Clock& clock, Random& random, std::unique_ptr<TokenSigner> signer,
       std::string admin_token);
  ~Auth();
  Auth(const Auth&) = delete;
  Auth& operator=(const Auth&) = delete;

  // Follows the store (RBAC index, ServiceAccounts) and starts the worker;
  // `internal` serves the worker's own writes (as the admin).
  using Internal = std::function<HttpResponse(const HttpRequest&)>;
  void Start(Internal internal);
  void Stop();
  // Blocks until the worker has nothing queued (tests, start-up).
  void WaitIdle();

  struct Outcome {
    std::optional<HttpResponse> response;  // 401/403: answer with this
    UserInfo user;
    Attributes attributes;
  };
  Outcome Check(const HttpRequest& req) const;
  // Answers the requests served here; nullopt for every other request.
  std::optional<HttpResponse> Serve(const HttpRequest& req, const Outcome& who);

  // A token of ServiceAccount ns/name valid for `seconds`, optionally bound.
  Result<std::string> IssueToken(const std::string& ns, const std::string& name, int64_t seconds,
                                 const std::optional<BoundObject>& bound,
                                 const std::vector<std::string>& audiences,
                                 SystemTime* expires = nullptr);
  const std::string& admin_token() const { return admin_token_; }

 private:
  Result<UserInfo> Authenticate(const HttpRequest& req) const;
  Result<UserInfo> AuthenticateServiceAccount(const std::string& token,
                                              std::vector<std::string>* audiences) const;
  std::optional<HttpResponse> Impersonate(const HttpRequest& req, UserInfo* user) const;
  // auth_escalation.cc: a Role/binding write that would grant more than the
  // writer holds (without `escalate`/`bind`) is 403.
  std::optional<HttpResponse> PreventEscalation(const HttpRequest& req, const Outcome& who) const;
  HttpResponse AccessReview(const HttpRequest& req, const Outcome& who, const std::string& kind);
  HttpResponse RulesReview(const HttpRequest& req, const Outcome& who);
  HttpResponse SelfSubjectReview(const HttpRequest& req, const Outcome& who);
  HttpResponse TokenReview(const HttpRequest& req);
  HttpResponse TokenRequest(const HttpRequest& req, const Attributes& a);
  void OnWrite(EventType type, const std::string& resource, const std::string& ns,
               const nlohmann::json& object);
  void Work();
  void EnsureDefaultServiceAccount(const std::string& ns);
  void Aggregate();
  void Bootstrap();
  HttpResponse Call(const std::string& method, const std::string& path, const nlohmann::json& body);

  Store& store_;
  Clock& clock_;
  Random& random_;
  std::unique_ptr<TokenSigner> signer_;
  const std::string admin_token_;
  RbacAuthorizer rbac_;
  Internal internal_;

  // Verified token claims by token text (signature checks are the expensive
  // part; the rest is re-checked on every request).
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const nlohmann::json>> claims_cache_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // "ns:<name>" or "aggregate"
  bool busy_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace stash::api
