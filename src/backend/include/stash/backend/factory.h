// Opening a backend from what users write: restic's repository URLs with
// restic's environment variables (the CLI), or a Stash Repository's
// spec.backend with its storage Secret (the operator). Both produce a
// BackendSpec; OpenBackend turns a spec into Retry(Limit(concrete backend)).
//
// Credentials live only inside BackendSpec and the backends; Describe(),
// Location() and every error message leave them out.
//
// Thread-safety: pure functions; the returned backend is thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "stash/backend/azure.h"
#include "stash/backend/backend.h"
#include "stash/backend/gcs.h"
#include "stash/backend/rate.h"
#include "stash/backend/rest.h"
#include "stash/backend/retry.h"
#include "stash/backend/s3.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"

namespace stash::backend {

using Env = std::map<std::string, std::string>;

enum class BackendKind { kLocal, kRest, kS3, kGcs, kAzure };

struct BackendSpec {
  BackendKind kind = BackendKind::kLocal;
  std::string local_path;
  RestConfig rest;
  S3Config s3;
  GcsConfig gcs;
  AzureConfig azure;
  int max_connections = 0;  // 0: the backend's default (local 2, others 5)
  // restic's --limit-upload / --limit-download in bytes per second; 0: none.
  uint64_t limit_upload = 0;
  uint64_t limit_download = 0;
  // When it becomes true, the remote store's transfers in flight stop with
  // kCancelled (a stopped backup's uploads); local files are not affected.
  const std::atomic<bool>* cancel = nullptr;
  // The repository password (RESTIC_PASSWORD), carried for the engine; the
  // backend itself never uses it.
  std::string repository_password;

  // A restic-style URL without credentials, for messages: "s3:host/bucket/p".
  std::string Describe() const;
};

// Parses a restic repository string: "/path", "local:/path",
// "rest:http(s)://[user:pass@]host:port/path/", "s3:host/bucket/prefix",
// "s3:http(s)://host:port/bucket/prefix", "gs:bucket:/prefix",
// "azure:container:/prefix", reading restic's variables from `env`:
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
//   AWS_DEFAULT_REGION; GOOGLE_PROJECT_ID, GOOGLE_APPLICATION_CREDENTIALS
//   (a key file) or GOOGLE_SERVICE_ACCOUNT_JSON_KEY (the key itself);
//   AZURE_ACCOUNT_NAME, AZURE_ACCOUNT_KEY; RESTIC_PASSWORD;
// and our extensions: AZURE_ENDPOINT, STORAGE_EMULATOR_HOST,
//   STASH_CACERT (CA bundle files, one path per line), STASH_TLS_CLIENT_CERT
//   (client certificate and key, one PEM file), STASH_INSECURE_TLS=true,
//   STASH_S3_BUCKET_LOOKUP=auto|path|dns, STASH_MAX_CONNECTIONS.
Result<BackendSpec> ParseRepository(const std::string& repository, const Env& env);

// Maps a Stash Repository's spec.backend ({local|s3|gcs|azure|rest: …,
// storageSecretName}) and the storage Secret's data (already base64-decoded:
// RESTIC_PASSWORD, AWS_*, GOOGLE_*, AZURE_*, REST_SERVER_USERNAME/PASSWORD,
// CA_CERT_DATA; plus STORAGE_EMULATOR_HOST / AZURE_ENDPOINT as extensions).
Result<BackendSpec> FromStashRepository(const nlohmann::json& spec_backend,
                                        const std::map<std::string, std::string>& secret_data);

// The concrete backend for a spec, wrapped Retry(RateLimit(Limit(backend)))
// (RateLimit only when a limit is set, so retried transfers count too).
Result<BackendPtr> OpenBackend(const BackendSpec& spec, Clock& clock, Random& random,
                               RetryOptions retry = {});

// ParseRepository + OpenBackend.
Result<BackendPtr> OpenBackend(const std::string& repository, const Env& env, Clock& clock,
                               Random& random, RetryOptions retry = {});

}  // namespace stash::backend
