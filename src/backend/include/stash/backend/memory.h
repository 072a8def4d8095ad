// InMemoryBackend: a repository held in a map, for unit tests of the layers
// above (repo, engine) that need a fast, isolated store with the same
// semantics as the real ones (no overwrite, ranged loads, kNotFound).
//
// Thread-safety: all methods are thread-safe (one mutex); loads copy the
// requested range out under the lock.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "stash/backend/backend.h"

namespace stash::backend {

class InMemoryBackend final : public Backend {
 public:
  explicit InMemoryBackend(std::string name = "memory", int connections = 5)
      : name_(std::move(name)), connections_(connections) {}

  std::string Location() const override { return "mem:" + name_; }
  int Connections() const override { return connections_; }
  Status Create() override { return Status::Ok(); }
  Status Save(const Handle& h, std::span<const uint8_t> data) override;
  Status Load(const Handle& h, uint64_t offset, uint64_t length,
              std::vector<uint8_t>* out) override;
  Result<FileInfo> Stat(const Handle& h) override;
  Status List(FileType t, const std::function<Status(const FileInfo&)>& fn) override;
  Status Remove(const Handle& h) override;

  // Number of stored files, all types together.
  size_t size() const;

 private:
  std::string name_;
  int connections_;
  mutable std::mutex mu_;
  // Keyed by Handle::Path(); shared_ptr so List can snapshot cheaply.
  std::map<std::string, std::shared_ptr<const std::vector<uint8_t>>> files_;
};

}  // namespace stash::backend
