// GcsBackend: Google Cloud Storage through its JSON API. Objects are
// <prefix>/config, <prefix>/data/ab/abcd…, … in one bucket, as restic's gs
// backend lays them out.
//
// Authentication: a service-account JSON key is turned into an RS256-signed
// JWT, exchanged at the key's token_uri for a bearer token, which is cached
// and refreshed five minutes before it expires. With an emulator endpoint
// (STORAGE_EMULATOR_HOST) requests go unauthenticated over plain HTTP.
// Uploads are one media request per object (no resumable chunks: neither
// needed for packs nor supported by the emulator).
//
// Thread-safety: thread-safe; the token cache is guarded by a mutex.
#pragma once

#include <memory>
#include <mutex>

#include "stash/backend/backend.h"
#include "stash/backend/object_store.h"
#include "stash/backend/url.h"
#include "stash/core/clock.h"
#include "stash/http/client.h"

namespace stash::backend {

struct GcsConfig : ObjectStoreOptions {
  std::string bucket;
  std::string project_id;            // needed to create a missing bucket
  std::string service_account_json;  // the key file's contents; empty: anonymous
  std::string endpoint;              // empty: https://storage.googleapis.com
  bool emulator = false;             // no auth, buckets appear on first use
};

// The fields of a service-account key that signing needs.
struct ServiceAccountKey {
  std::string client_email;
  std::string private_key;  // PEM
  std::string token_uri;
};
// Parses the JSON key; errors never quote the key.
Result<ServiceAccountKey> ParseServiceAccountKey(const std::string& json);
// The signed JWT assertion for the token exchange (exposed for tests).
Result<std::string> MakeJwtAssertion(const ServiceAccountKey& key, SystemTime now);

class GcsBackend final : public Backend {
 public:
  static Result<std::unique_ptr<GcsBackend>> Open(GcsConfig config, Clock& clock);

  // "gs:<bucket>:/<prefix>" (plus the endpoint when overridden)
  std::string Location() const override;
  int Connections() const override { return config_.connections; }
  Status Create() override;
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

  std::string ObjectName(const Handle& h) const;

 private:
  GcsBackend(GcsConfig config, Url endpoint, std::optional<ServiceAccountKey> key, Clock& clock);
  // Adds the bearer token (fetching or refreshing it) and sends.
  Result<http::Response> Send(http::Request r, std::vector<uint8_t>* sink = nullptr);
  Result<std::string> Token();
  std::string ObjectUrl(const Handle& h) const;

  GcsConfig config_;
  Url endpoint_;
  std::optional<ServiceAccountKey> key_;
  Clock& clock_;
  std::unique_ptr<http::Client> http_;
  std::mutex token_mu_;
  std::string token_;
  SystemTime token_expiry_{};
};

}  // namespace stash::backend
