// AzureBackend: Azure Blob Storage with Shared Key authorization. Blobs are
// <prefix>/config, <prefix>/data/ab/abcd…, … in one container, as restic's
// azure backend lays them out.
//
// Uploads up to `single_put_max` bytes are one Put Blob; larger ones are cut
// into Put Block calls (each a slice of the caller's buffer, never a copy)
// committed with Put Block List. The endpoint is
// https://<account>.blob.core.windows.net unless overridden (Azurite:
// http://127.0.0.1:10000/devstoreaccount1, path-style with the account in
// the path; an emulator endpoint given without a path, e.g.
// http://azurite:10000, gets the account appended). As restic 0.14, the
// emulator account devstoreaccount1 without an endpoint means Azurite at
// http://127.0.0.1:10000 (and the emulator's well-known key when none is
// given).
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

struct AzureConfig : ObjectStoreOptions {
  std::string account_name;
  std::string account_key;  // base64, as the portal shows it
  std::string container;
  std::string endpoint;                     // empty: https://<account>.blob.core.windows.net
  uint64_t single_put_max = 256ull << 20;   // Put Blob limit we use
  uint64_t block_size = 64ull << 20;        // Put Block size above it
  AzureConfig() { list_page_size = 5000; }  // Azure's own page maximum
};

class AzureBackend final : public Backend {
 public:
  // Fails with kInvalid when the account key is not base64 or the endpoint
  // is not a URL.
  static Result<std::unique_ptr<AzureBackend>> Open(AzureConfig config, Clock& clock);

  // "azure:<container>:/<prefix>" (plus the endpoint when overridden)
  std::string Location() const override;
  int Connections() const override { return config_.connections; }
  Status Create() override;
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

  std::string BlobName(const Handle& h) const;

 private:
  AzureBackend(AzureConfig config, Url endpoint, std::string key, Clock& clock);
  Result<http::Response> Send(const std::string& method, const std::string& blob,
                              std::vector<std::pair<std::string, std::string>> query,
                              std::vector<std::pair<std::string, std::string>> headers,
                              std::optional<std::span<const uint8_t>> body, const std::string& what,
                              std::vector<uint8_t>* sink = nullptr);
  Status SaveBlocks(const Handle& h, std::span<const uint8_t> data);

  AzureConfig config_;
  Url endpoint_;
  std::string key_;  // decoded account key
  Clock& clock_;
  std::unique_ptr<http::Client> http_;
};

}  // namespace stash::backend
