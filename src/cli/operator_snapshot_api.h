// The operator's Snapshot API for cluster mode (`stash operator
// --snapshot-api-listen`): Stash's `repositories.stash.appscode.com/v1alpha1`
// Snapshots (agent::SnapshotApi reading Repositories and Secrets through the
// operator's client) served as an aggregated API by api::AggregatedServer,
// with the webhook's certificate. Requests are authenticated and authorized
// by the cluster's API server (TokenReview, SubjectAccessReview); the front
// proxy is recognised by the ConfigMap kube-system/
// extension-apiserver-authentication, read at start. The APIService's
// caBundle is set to the certificate's CA.
//
// Thread-safety: Start from one thread; the server answers concurrently.
#pragma once

#include <memory>
#include <string>

#include "stash/api/aggregated_server.h"
#include "stash/api/webhook_server.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/core/result.h"
#include "stash/kube/client.h"

namespace stash::cli {

// api::Delegate through the API server's TokenReview and
// SubjectAccessReview.
class KubeDelegate final : public api::Delegate {
 public:
  explicit KubeDelegate(const kube::Client& client) : client_(client) {}
  Result<api::RemoteUser> ReviewToken(const std::string& token) override;
  Result<api::AccessDecision> ReviewAccess(const api::RemoteUser& user,
                                           const api::AccessRequest& request) override;

 private:
  const kube::Client& client_;
};

class OperatorSnapshotApi {
 public:
  // `listen` is HOST:PORT; `apiservice` the APIService whose caBundle to set
  // ("" leaves it alone).
  static Result<std::unique_ptr<OperatorSnapshotApi>> Start(const std::string& listen,
                                                            const std::string& apiservice,
                                                            const kube::Client& client,
                                                            const api::WebhookCertificate& cert,
                                                            Clock& clock, Random& random);
  ~OperatorSnapshotApi();
  int port() const { return server_->port(); }

 private:
  explicit OperatorSnapshotApi(const kube::Client& client) : delegate_(client) {}
  KubeDelegate delegate_;
  std::unique_ptr<api::AggregatedServer> server_;
};

}  // namespace stash::cli
