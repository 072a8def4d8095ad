// S3Backend: Amazon S3 and S3-compatible stores (MinIO, Ceph RGW, moto),
// signed with AWS Signature V4. Objects are <prefix>/config,
// <prefix>/data/ab/abcd…, <prefix>/keys/<id>, …, as restic's s3 backend.
//
// Uploads are single PUTs with the payload's SHA-256 in x-amz-content-sha256
// (never aws-chunked), streamed from the caller's buffer. Buckets are
// addressed path-style for IP and custom endpoints, virtual-host style for
// AWS or when asked. Create() makes the bucket when it is missing.
//
// Thread-safety: thread-safe (the http::Client is; the clock must be).
#pragma once

#include <memory>

#include "stash/backend/backend.h"
#include "stash/backend/object_store.h"
#include "stash/backend/url.h"
#include "stash/core/clock.h"
#include "stash/http/client.h"

namespace stash::backend {

enum class BucketLookup { kAuto, kPath, kDns };

struct S3Config : ObjectStoreOptions {
  Url endpoint;  // scheme://host[:port]; path ignored
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (AWS_SESSION_TOKEN)
  BucketLookup lookup = BucketLookup::kAuto;
};

class S3Backend final : public Backend {
 public:
  S3Backend(S3Config config, Clock& clock);

  // "s3:<host[:port]>/<bucket>/<prefix>"
  std::string Location() const override;
  // If-None-Match is sent, but not every S3-compatible store honours it.
  bool CreatesAtomically() const override { return false; }
  int Connections() const override { return config_.connections; }
  Status Create() override;
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

  // The object key for a handle ("<prefix>/data/ab/ab…").
  std::string Key(const Handle& h) const;
  bool virtual_host() const { return virtual_host_; }
  // The URL a request for `key` goes to (exposed for tests of addressing).
  std::string UrlFor(const std::string& key) const;

 private:
  // Builds, signs and sends one request; `key` empty addresses the bucket.
  Result<http::Response> Send(const std::string& method, const std::string& key,
                              std::vector<std::pair<std::string, std::string>> query,
                              std::vector<std::pair<std::string, std::string>> headers,
                              std::optional<std::span<const uint8_t>> body, const std::string& what,
                              std::vector<uint8_t>* sink = nullptr);

  S3Config config_;
  Clock& clock_;
  bool virtual_host_;
  std::unique_ptr<http::Client> http_;
};

}  // namespace stash::backend
