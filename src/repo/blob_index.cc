#include "blob_index.h"

#include "stash/core/id.h"

namespace stash::repo {

uint32_t BlobIndex::AddPack(const Id& pack) {
  auto [it, inserted] = pack_numbers_.try_emplace(pack, static_cast<uint32_t>(packs_.size()));
  if (inserted) packs_.push_back(pack);
  return it->second;
}

void BlobIndex::Add(const Id& id, BlobKind kind, uint32_t pack, uint32_t offset, uint32_t length,
                    uint32_t uncompressed_length) {
  if ((entries_.size() + 1) * 2 > slots_.size()) Grow();
  uint32_t n = static_cast<uint32_t>(entries_.size());
  entries_.push_back(Entry{id, pack, offset, length, uncompressed_length, kind});
  size_t mask = slots_.size() - 1;
  // Duplicates get their own slot further along the probe chain, so Find
  // still returns the first copy added.
  for (size_t i = IdHash{}(id)&mask;; i = (i + 1) & mask) {
    if (slots_[i] == kEmpty) {
      slots_[i] = n;
      return;
    }
  }
}

std::optional<BlobLocation> BlobIndex::Find(BlobKind kind, const Id& id) const {
  if (slots_.empty()) return std::nullopt;
  size_t mask = slots_.size() - 1;
  for (size_t i = IdHash{}(id)&mask;; i = (i + 1) & mask) {
    uint32_t n = slots_[i];
    if (n == kEmpty) return std::nullopt;
    const Entry& e = entries_[n];
    if (e.kind == kind && e.id == id) return Location(e);
  }
}

void BlobIndex::ForEach(const std::function<void(const Id&, const BlobLocation&)>& fn) const {
  for (const Entry& e : entries_) fn(e.id, Location(e));
}

void BlobIndex::Clear() {
  entries_.clear();
  slots_.clear();
  packs_.clear();
  pack_numbers_.clear();
}

void BlobIndex::Grow() {
  size_t size = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(size, kEmpty);
  size_t mask = size - 1;
  for (uint32_t n = 0; n < entries_.size(); ++n) {
    for (size_t i = IdHash{}(entries_[n].id) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == kEmpty) {
        slots_[i] = n;
        break;
      }
    }
  }
}

BlobLocation BlobIndex::Location(const Entry& e) const {
  BlobLocation loc;
  loc.pack = packs_[e.pack];
  loc.kind = e.kind;
  loc.offset = e.offset;
  loc.length = e.length;
  loc.uncompressed_length = e.uncompressed_length;
  return loc;
}

}  // namespace stash::repo
