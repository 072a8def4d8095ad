// Step 4 of prune (see prune.h) in restic's crash-safe order, and the
// statistics text.
#include <zstd.h>

#include <cstdio>
#include <map>
#include <unordered_map>

#include "stash/core/units.h"
#include "stash/crypto/key.h"
#include "stash/crypto/seal.h"
#include "stash/crypto/sha256.h"
#include "stash/engine/prune.h"
#include "stash/format/index.h"
#include "stash/format/keyfile.h"
#include "stash/format/pack.h"

namespace stash::engine {

namespace {

using backend::FileType;
using repo::BlobKind;

constexpr size_t kMaxBlobsPerIndexFile = 50000;

format::BlobType ToFormat(BlobKind k) {
  return k == BlobKind::kData ? format::BlobType::kData : format::BlobType::kTree;
}

// Accumulates already-sealed blobs of one kind into packs of about the
// repository's pack size; seals each header with the master key.
class PackCopier {
 public:
  PackCopier(repo::Repository& repo, const crypto::Key& key, Random& random)
      : repo_(repo), key_(key), random_(random) {}

  Status Add(const Id& id, BlobKind kind, const repo::BlobLocation& loc,
             std::span<const uint8_t> sealed) {
    Open& o = open_[kind == BlobKind::kData ? 0 : 1];
    format::IndexPackBlob ib{id, ToFormat(kind), static_cast<uint32_t>(o.bytes.size()),
                             static_cast<uint32_t>(sealed.size()), loc.uncompressed_length};
    o.bytes.insert(o.bytes.end(), sealed.begin(), sealed.end());
    o.entries.push_back({ToFormat(kind), ib.length, ib.uncompressed_length, id});
    o.index.push_back(ib);
    if (o.bytes.size() >= repo_.options().pack_size) return Finish(o);
    return Status::Ok();
  }

  Status FinishAll() {
    for (Open& o : open_) STASH_RETURN_IF_ERROR(Finish(o));
    return Status::Ok();
  }

  std::vector<format::IndexPack>& written() { return written_; }

 private:
  struct Open {
    std::vector<uint8_t> bytes;
    std::vector<format::PackEntry> entries;
    std::vector<format::IndexPackBlob> index;
  };

  Status Finish(Open& o) {
    if (o.entries.empty()) return Status::Ok();
    const std::vector<uint8_t> header = format::EncodePackHeader(o.entries);
    const std::vector<uint8_t> sealed = crypto::Seal(key_, random_, header);
    o.bytes.insert(o.bytes.end(), sealed.begin(), sealed.end());
    format::AppendPackTrailer(&o.bytes, static_cast<uint32_t>(sealed.size()));
    const Id id = crypto::Sha256(o.bytes);
    STASH_RETURN_IF_ERROR_CTX(repo_.backend().Save({FileType::kPack, id.Hex()}, o.bytes),
                              "saving repacked pack " + id.ShortHex());
    written_.push_back({id, std::move(o.index)});
    o = Open{};
    return Status::Ok();
  }

  repo::Repository& repo_;
  const crypto::Key& key_;
  Random& random_;
  Open open_[2];
  std::vector<format::IndexPack> written_;
};

// restic re-saves repacked blobs through its packer, which compresses them
// as the repository's current setting says (trees always in v2). Returns the
// zstd level, or 0 to copy the blob as it is.
int RecompressLevel(repo::Repository& repo, BlobKind kind, const repo::BlobLocation& loc) {
  if (repo.format_version() < 2 || loc.uncompressed_length != 0) return 0;
  if (loc.length <= format::kSealOverhead) return 0;  // empty blobs are never compressed
  const repo::Compression c = repo.options().compression;
  if (kind == BlobKind::kData && c == repo::Compression::kOff) return 0;
  return c == repo::Compression::kMax ? 11 : 3;
}

Status RemoveAll(repo::Repository& repo, FileType type, const std::set<Id>& ids) {
  for (const Id& id : ids) {
    Status s = repo.backend().Remove({type, id.Hex()});
    if (!s.ok() && s.code() != Code::kNotFound) {
      return std::move(s).Prepend("unable to remove " + std::string(backend::FileTypeDir(type)) +
                                  "/" + id.ShortHex() + " (run prune again to finish)");
    }
  }
  return Status::Ok();
}

std::string Line(const char* label, uint64_t blobs, const std::string& size) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s%10llu blobs / %s\n", label,
                static_cast<unsigned long long>(blobs), size.c_str());
  return buf;
}

std::string Percent(uint64_t num, uint64_t den) {
  if (den == 0) return "";
  double p = 100.0 * static_cast<double>(num) / static_cast<double>(den);
  if (p > 100) p = 100;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%3.2f%%", p);
  return buf;
}

std::string PackLine(const char* label, uint64_t n, const char* suffix) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s%10llu%s\n", label, static_cast<unsigned long long>(n), suffix);
  return buf;
}

}  // namespace

Status ExecutePrune(repo::Repository& repo, PrunePlan plan, Random& random, const PruneLog& log) {
  if (!plan.remove_packs_first.empty()) {
    log(0, "deleting unreferenced packs");
    STASH_RETURN_IF_ERROR(RemoveAll(repo, FileType::kPack, plan.remove_packs_first));
  }
  // Group the index by pack once: what to copy and what the new index holds.
  std::unordered_map<Id, std::vector<std::pair<Id, repo::BlobLocation>>, IdHash> by_pack;
  repo.ForEachBlob([&](const Id& id, const repo::BlobLocation& loc) {
    by_pack[loc.pack].emplace_back(id, loc);
  });
  std::vector<format::IndexPack> new_packs;
  if (!plan.repack_packs.empty()) {
    log(0, "repacking packs");
    STASH_ASSIGN_OR_RETURN(format::MasterKey mk, format::DecodeMasterKey(repo.MasterKeyJson()));
    crypto::Key key;
    key.encrypt = mk.encrypt;
    key.mac_k = mk.mac_k;
    key.mac_r = mk.mac_r;
    PackCopier copier(repo, key, random);
    for (const Id& pack : plan.repack_packs) {
      std::vector<uint8_t> bytes;
      STASH_RETURN_IF_ERROR_CTX(repo.backend().Load({FileType::kPack, pack.Hex()}, 0, 0, &bytes),
                                "reading pack " + pack.ShortHex() + " to repack it");
      for (const auto& [id, loc] : by_pack[pack]) {
        auto it = plan.keep_blobs.find({id, loc.kind});
        if (it == plan.keep_blobs.end()) continue;
        if (uint64_t{loc.offset} + loc.length > bytes.size()) {
          return DataLossError("pack " + pack.ShortHex() +
                               " is shorter than its index says (blob " + id.ShortHex() +
                               "); run `stash check` before pruning");
        }
        std::span<const uint8_t> sealed(bytes.data() + loc.offset, loc.length);
        // Never copy a damaged blob into a new pack: verify MAC and hash first.
        auto plain = repo.OpenBlob(id, loc, sealed);
        STASH_RETURN_IF_ERROR_CTX(
            plain.status(), "repacking blob " + id.ShortHex() + " of pack " + pack.ShortHex());
        if (const int level = RecompressLevel(repo, loc.kind, loc); level > 0) {
          std::vector<uint8_t> z(ZSTD_compressBound(plain->size()));
          const size_t n = ZSTD_compress(z.data(), z.size(), plain->data(), plain->size(), level);
          if (ZSTD_isError(n)) {
            return InternalError(std::string("compressing blob ") + id.ShortHex() + ": " +
                                 ZSTD_getErrorName(n));
          }
          z.resize(n);
          const std::vector<uint8_t> resealed = crypto::Seal(key, random, z);
          repo::BlobLocation packed = loc;
          packed.uncompressed_length = static_cast<uint32_t>(plain->size());
          STASH_RETURN_IF_ERROR(copier.Add(id, loc.kind, packed, resealed));
        } else {
          STASH_RETURN_IF_ERROR(copier.Add(id, loc.kind, loc, sealed));
        }
        plan.keep_blobs.erase(it);
      }
    }
    STASH_RETURN_IF_ERROR(copier.FinishAll());
    if (!plan.keep_blobs.empty()) {
      return InternalError(std::to_string(plan.keep_blobs.size()) + " blobs (e.g. " +
                           plan.keep_blobs.begin()->id.ShortHex() +
                           ") were not repacked; prune stopped before deleting anything");
    }
    new_packs = std::move(copier.written());
    plan.remove_packs.insert(plan.repack_packs.begin(), plan.repack_packs.end());
  }
  std::set<Id> ignore = plan.ignore_packs;
  ignore.insert(plan.remove_packs.begin(), plan.remove_packs.end());
  if (!ignore.empty() || !new_packs.empty()) {
    log(0, "rebuilding index");
    const std::vector<Id> old_index = repo.LoadedIndexFiles();
    std::vector<format::IndexPack> all = std::move(new_packs);
    for (auto& [pack, blobs] : by_pack) {
      if (ignore.count(pack)) continue;
      format::IndexPack ip{pack, {}};
      for (const auto& [id, loc] : blobs) {
        ip.blobs.push_back(
            {id, ToFormat(loc.kind), loc.offset, loc.length, loc.uncompressed_length});
      }
      all.push_back(std::move(ip));
    }
    format::IndexFile file;
    size_t count = 0;
    auto flush = [&]() -> Status {
      if (file.packs.empty()) return Status::Ok();
      STASH_RETURN_IF_ERROR_CTX(
          repo.SaveUnpacked(FileType::kIndex, format::EncodeIndex(file)).status(),
          "saving the new index (nothing was deleted yet)");
      file = {};
      count = 0;
      return Status::Ok();
    };
    for (format::IndexPack& ip : all) {
      count += ip.blobs.size();
      file.packs.push_back(std::move(ip));
      if (count >= kMaxBlobsPerIndexFile) STASH_RETURN_IF_ERROR(flush());
    }
    STASH_RETURN_IF_ERROR(flush());
    log(0, "deleting obsolete index files");
    STASH_RETURN_IF_ERROR(
        RemoveAll(repo, FileType::kIndex, std::set<Id>(old_index.begin(), old_index.end())));
  }
  if (!plan.remove_packs.empty()) {
    log(0, "removing " + std::to_string(plan.remove_packs.size()) + " old packs");
    STASH_RETURN_IF_ERROR(RemoveAll(repo, FileType::kPack, plan.remove_packs));
  }
  // Temporary files of uploads a crash stopped (stores that write them):
  // under prune's exclusive lock no upload runs, so every one is garbage.
  STASH_ASSIGN_OR_RETURN(int leftovers, repo.backend().RemoveTemporaryFiles());
  if (leftovers > 0) {
    log(0, "removed " + std::to_string(leftovers) + " temporary files left by stopped uploads");
  }
  log(0, "done");
  return Status::Ok();
}

std::string PruneStatsText(const PruneStats& s, int verbose) {
  std::string out;
  const bool v = verbose >= 1;
  const uint64_t total_blobs = s.blobs.used + s.blobs.unused + s.blobs.duplicate;
  const uint64_t total_size = s.size.used + s.size.duplicate + s.size.unused + s.size.unref;
  const uint64_t unused_size = s.size.duplicate + s.size.unused;
  if (v) {
    out += "\n" + Line("used:         ", s.blobs.used, FormatBytes(s.size.used));
    if (s.blobs.duplicate > 0) {
      out += Line("duplicates:   ", s.blobs.duplicate, FormatBytes(s.size.duplicate));
    }
    out += Line("unused:       ", s.blobs.unused, FormatBytes(s.size.unused));
    if (s.size.unref > 0)
      out += "unreferenced:                    " + FormatBytes(s.size.unref) + "\n";
    out += Line("total:        ", total_blobs, FormatBytes(total_size));
    out += "unused size: " + Percent(unused_size, total_size) + " of total size\n";
  }
  const uint64_t prune_size = s.size.remove + s.size.repackrm + s.size.unref;
  out += "\n" + Line("to repack:    ", s.blobs.repack, FormatBytes(s.size.repack));
  out += Line("this removes: ", s.blobs.repackrm, FormatBytes(s.size.repackrm));
  out += Line("to delete:    ", s.blobs.remove, FormatBytes(s.size.remove + s.size.unref));
  out += Line("total prune:  ", s.blobs.remove + s.blobs.repackrm, FormatBytes(prune_size));
  out += Line("remaining:    ", total_blobs - (s.blobs.remove + s.blobs.repackrm),
              FormatBytes(total_size - prune_size));
  const uint64_t unused_after = unused_size - s.size.remove - s.size.repackrm;
  out += "unused size after prune: " + FormatBytes(unused_after) + " (" +
         Percent(unused_after, total_size - prune_size) + " of remaining size)\n\n";
  if (v) {
    out += PackLine("totally used packs: ", s.packs.used, "");
    out += PackLine("partly used packs:  ", s.packs.partly_used, "");
    out += PackLine("unused packs:       ", s.packs.unused, "\n");
    out += PackLine("to keep:      ", s.packs.keep, " packs");
    out += PackLine("to repack:    ", s.packs.repack, " packs");
    out += PackLine("to delete:    ", s.packs.remove, " packs");
    if (s.packs.unref > 0)
      out += PackLine("to delete:    ", s.packs.unref, " unreferenced packs\n");
  }
  return out;
}

}  // namespace stash::engine
