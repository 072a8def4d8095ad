// Repository maintenance for prune: Repack copies the blobs still needed out
// of packs through the ordinary packer, and RebuildIndex replaces every index
// file with one set that leaves out the packs about to be deleted.
#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "repository_impl.h"
#include "stash/crypto/seal.h"

namespace stash::repo {

namespace {

using backend::FileType;

using PackBlobs = std::vector<std::pair<Id, BlobLocation>>;

}  // namespace

Result<uint64_t> RepositoryImpl::Repack(const std::vector<Id>& packs, const RepackFilter& keep) {
  // The index says what each pack holds; the pack header would say the same
  // (check compares them) but costs a read per pack.
  const std::unordered_set<Id, IdHash> wanted(packs.begin(), packs.end());
  std::unordered_map<Id, PackBlobs, IdHash> by_pack;
  ForEachBlob([&](const Id& id, const BlobLocation& loc) {
    if (wanted.count(loc.pack)) by_pack[loc.pack].emplace_back(id, loc);
  });
  uint64_t copied = 0;
  std::vector<uint8_t> bytes;
  for (const Id& pack : packs) {
    auto it = by_pack.find(pack);
    if (it == by_pack.end()) continue;
    PackBlobs& blobs = it->second;
    std::sort(blobs.begin(), blobs.end(),
              [](const auto& a, const auto& b) { return a.second.offset < b.second.offset; });
    STASH_RETURN_IF_ERROR_CTX(backend_->Load({FileType::kPack, pack.Hex()}, 0, 0, &bytes),
                              "reading pack " + pack.ShortHex() + " to repack it");
    for (const auto& [id, loc] : blobs) {
      if (!keep(loc.kind, id)) continue;
      if (uint64_t{loc.offset} + loc.length > bytes.size()) {
        return DataLossError("pack " + pack.ShortHex() + " is shorter than its index says (blob " +
                             id.ShortHex() + "); run `stash check` before pruning");
      }
      const std::span<const uint8_t> sealed(bytes.data() + loc.offset, loc.length);
      // Never copy a damaged blob into a new pack: MAC and id first.
      auto plain = OpenBlob(id, loc, sealed);
      STASH_RETURN_IF_ERROR_CTX(plain.status(),
                                "repacking blob " + id.ShortHex() + " of pack " + pack.ShortHex());
      format::IndexPackBlob entry{id, loc.kind, 0, loc.length, loc.uncompressed_length};
      // restic's packer would compress a blob stored raw (trees in v2, data
      // unless compression is off); so does this copy, even when zstd does
      // not shrink it, so `--repack-uncompressed` converges.
      const Payload payload =
          loc.uncompressed_length == 0 ? Compress(loc.kind, *plain, /*always=*/true) : Payload{};
      if (payload.uncompressed_length != 0) {
        entry.length = static_cast<uint32_t>(payload.bytes.size() + crypto::kSealOverhead);
        entry.uncompressed_length = payload.uncompressed_length;
        STASH_RETURN_IF_ERROR(Place(entry, [&](uint8_t* slot) {
          crypto::Seal(master_, *opts_.random, payload.bytes, slot);
        }));
      } else {
        STASH_RETURN_IF_ERROR(
            Place(entry, [&](uint8_t* slot) { std::memcpy(slot, sealed.data(), sealed.size()); }));
      }
      ++copied;
    }
  }
  STASH_RETURN_IF_ERROR(Flush());
  return copied;
}

Result<std::vector<Id>> RepositoryImpl::RebuildIndex(const std::set<Id>& drop_packs) {
  // Blobs still in open packs belong in the new index too.
  STASH_RETURN_IF_ERROR(Flush());
  std::vector<format::IndexPack> packs;
  std::vector<Id> superseded;
  {
    std::shared_lock lock(index_mu_);
    std::unordered_map<Id, size_t, IdHash> slot;
    index_.ForEach([&](const Id& id, const BlobLocation& loc) {
      if (drop_packs.count(loc.pack)) return;
      auto [it, fresh] = slot.try_emplace(loc.pack, packs.size());
      if (fresh) packs.push_back({loc.pack, {}});
      packs[it->second].blobs.push_back(
          {id, loc.kind, loc.offset, loc.length, loc.uncompressed_length});
    });
    superseded = index_files_;
  }
  // Overlapping index files list some blobs twice; the new index once.
  for (format::IndexPack& p : packs) {
    auto by_place = [](const format::IndexPackBlob& a, const format::IndexPackBlob& b) {
      return std::tie(a.offset, a.id, a.type) < std::tie(b.offset, b.id, b.type);
    };
    std::sort(p.blobs.begin(), p.blobs.end(), by_place);
    p.blobs.erase(std::unique(p.blobs.begin(), p.blobs.end()), p.blobs.end());
  }
  std::vector<Id> written;
  Status st = SaveIndexFiles(std::move(packs), &written);
  std::unique_lock lock(index_mu_);
  if (!st.ok()) {
    // What was saved is a valid index file; the next rebuild supersedes it.
    index_files_.insert(index_files_.end(), written.begin(), written.end());
    return std::move(st).Prepend("saving the new index (nothing was deleted yet)");
  }
  BlobIndex kept;
  index_.ForEach([&](const Id& id, const BlobLocation& loc) {
    if (!drop_packs.count(loc.pack)) {
      kept.Add(id, loc.kind, kept.AddPack(loc.pack), loc.offset, loc.length,
               loc.uncompressed_length);
    }
  });
  index_ = std::move(kept);
  index_files_ = std::move(written);
  return superseded;
}

}  // namespace stash::repo
