// RestBackend: restic's REST protocol (v2, with v1 listings understood), as
// served by rest-server and `rclone serve restic`. Files live at
// {url}config and {url}{type}/{name} (no data/xx level on the wire).
//
// Credentials come separately from the URL and go to the HTTP client as
// basic auth; Location() shows the URL without them.
//
// Thread-safety: thread-safe (the http::Client is).
#pragma once

#include <memory>

#include "stash/backend/backend.h"
#include "stash/backend/url.h"
#include "stash/http/client.h"

namespace stash::backend {

struct RestConfig {
  Url url;  // the repository; user/password, if any, used for basic auth
  http::Options http;
  int connections = 5;
};

class RestBackend final : public Backend {
 public:
  explicit RestBackend(RestConfig config);

  std::string Location() const override { return "rest:" + base_.Redacted(); }
  // It looks before it posts; what the server does with a racing POST varies.
  bool CreatesAtomically() const override { return false; }
  int Connections() const override { return connections_; }
  Status Create() override;
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

 private:
  http::Request Request(std::string method, const std::string& rel, const Handle* h) const;

  Url base_;  // path ends in '/'
  std::string user_, password_;
  int connections_;
  std::unique_ptr<http::Client> http_;
};

}  // namespace stash::backend
