// Private to repo: the in-memory index of every blob in a repository.
//
// Memory matters (a repository can hold tens of millions of blobs), so entries
// live in one flat vector (56 bytes each: id, pack number, offset, lengths)
// and lookups go through an open-addressing table of 32-bit slots; packs are
// numbered once in a side vector. All copies of a blob are kept (ForEach,
// check), and Find returns the first one.
//
// Thread-safety: not synchronised; Repository guards it with a shared_mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "stash/core/id.h"
#include "stash/repo/repository.h"

namespace stash::repo {

class BlobIndex {
 public:
  // Registers a pack and returns its number (the same pack twice: same number).
  uint32_t AddPack(const Id& pack);
  void Add(const Id& id, BlobKind kind, uint32_t pack, uint32_t offset, uint32_t length,
           uint32_t uncompressed_length);
  std::optional<BlobLocation> Find(BlobKind kind, const Id& id) const;
  void ForEach(const std::function<void(const Id&, const BlobLocation&)>& fn) const;
  size_t size() const { return entries_.size(); }
  void Clear();

 private:
  struct Entry {
    Id id;
    uint32_t pack;
    uint32_t offset;
    uint32_t length;
    uint32_t uncompressed_length;
    BlobKind kind;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  void Grow();
  BlobLocation Location(const Entry& e) const;

  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // power-of-two size, load <= 1/2
  std::vector<Id> packs_;
  std::unordered_map<Id, uint32_t> pack_numbers_;
};

}  // namespace stash::repo
