// Steps 1–3 of prune (see prune.h): used blobs, per-pack accounting, and the
// decision per pack, following restic 0.14's planPrune.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "stash/engine/prune.h"
#include "stash/engine/snapshots.h"
#include "stash/engine/walker.h"
#include "stash/format/pack.h"

namespace stash::engine {

namespace {

using backend::FileType;
using repo::BlobKind;

struct PackInfo {
  uint64_t used_blobs = 0, unused_blobs = 0, used_size = 0, unused_size = 0;
  int type = -1;  // -1 unset, 0 data, 1 tree, 2 mixed
  bool uncompressed = false;
};

// Every blob reachable from the trees of all snapshots except `ignore`.
Result<std::set<BlobKey>> UsedBlobs(repo::Repository& repo, const std::set<Id>& ignore,
                                    const PruneLog& log) {
  std::vector<Id> roots;
  STASH_ASSIGN_OR_RETURN(std::vector<Id> ids, repo.ListIds(FileType::kSnapshot));
  log(0, "loading all snapshots...");
  for (const Id& id : ids) {
    if (ignore.count(id)) continue;
    auto json = repo.LoadUnpacked(FileType::kSnapshot, id);
    if (!json.ok()) {
      return Status(json.status())
          .Prepend("failed loading snapshot " + id.ShortHex() +
                   " (prune needs every snapshot; run `stash check`)");
    }
    STASH_ASSIGN_OR_RETURN(format::Snapshot sn, format::DecodeSnapshot(*json));
    roots.push_back(sn.tree);
  }
  log(0, "finding data that is still in use for " + std::to_string(roots.size()) + " snapshots");
  std::set<BlobKey> used;
  if (Status s = FindUsedBlobs(repo, roots, &used); !s.ok()) {
    return Status(Code::kDataLoss, "unable to load a tree from the repository: " + s.message() +
                                       " (prune stopped before changing anything)");
  }
  return used;
}

}  // namespace

uint64_t MaxUnused::Limit(uint64_t used) const {
  if (unlimited) return std::numeric_limits<uint64_t>::max();
  if (percent)
    return static_cast<uint64_t>(*percent / (100 - *percent) * static_cast<double>(used));
  return bytes;
}

Result<uint64_t> ParseSize(std::string_view text) {
  if (text.empty()) return InvalidError("expected a size, got an empty string");
  // restic's suffixes, either case: b, k, m, g, t for powers of 1024.
  constexpr std::string_view kSuffixes = "bkmgt";
  uint64_t unit = 1;
  std::string_view num = text;
  const char last = char(std::tolower(static_cast<unsigned char>(text.back())));
  if (size_t i = kSuffixes.find(last); i != std::string_view::npos) {
    unit = 1ull << (10 * i);
    num.remove_suffix(1);
  }
  if (num.empty() || num.size() > 18 ||
      !std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidError("invalid size \"" + std::string(text) +
                        "\" (use a number with an optional k, m, g or t suffix)");
  }
  return std::stoull(std::string(num)) * unit;
}

Result<MaxUnused> ParseMaxUnused(std::string_view text) {
  std::string t(text);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  while (!t.empty() && t.front() == ' ') t.erase(0, 1);
  MaxUnused m;
  if (t.empty())
    return InvalidError("invalid value for --max-unused: \"" + std::string(text) + "\"");
  if (t == "unlimited") {
    m.unlimited = true;
    return m;
  }
  if (t.back() == '%') {
    t.pop_back();
    char* end = nullptr;
    double p = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || std::isnan(p)) {
      return InvalidError("invalid percentage \"" + std::string(text) +
                          "\" passed for --max-unused");
    }
    if (p < 0) return InvalidError("percentage for --max-unused must be positive");
    if (p >= 100) return InvalidError("percentage for --max-unused must be below 100%");
    m.percent = p;
    return m;
  }
  auto size = ParseSize(t);
  if (!size.ok()) {
    return InvalidError("invalid number of bytes \"" + std::string(text) +
                        "\" for --max-unused: " + size.status().message());
  }
  m.bytes = *size;
  return m;
}

Result<PrunePlan> PlanPrune(repo::Repository& repo, const PruneOptions& opts,
                            const std::set<Id>& ignore_snapshots, const PruneLog& log) {
  PrunePlan plan;
  PruneStats& stats = plan.stats;
  STASH_ASSIGN_OR_RETURN(std::set<BlobKey> used, UsedBlobs(repo, ignore_snapshots, log));

  log(0, "searching used packs...");
  // Pass 1: used, duplicate and unused blobs (the index in a fixed order).
  struct Entry {
    BlobKey key;
    repo::BlobLocation loc;
  };
  std::vector<Entry> entries;
  // Two index files may list the same pack (a prune stopped after writing
  // the new index and before deleting the old ones): the same blob at the
  // same place is one blob, not a duplicate, and counts once in its pack.
  std::unordered_map<Id, std::unordered_set<uint32_t>, IdHash> listed_at;
  repo.ForEachBlob([&](const Id& id, const repo::BlobLocation& loc) {
    if (!listed_at[loc.pack].insert(loc.offset).second) return;
    entries.push_back({{id, loc.kind}, loc});
  });
  std::set<BlobKey>& keep = plan.keep_blobs;
  std::map<BlobKey, int> duplicates;
  for (const Entry& e : entries) {
    const uint64_t size = e.loc.length;
    if (used.erase(e.key)) {
      keep.insert(e.key);
      stats.size.used += size;
      ++stats.blobs.used;
    } else if (keep.count(e.key)) {
      auto [it, fresh] = duplicates.try_emplace(e.key, 2);
      if (!fresh && it->second < 255) ++it->second;
      stats.size.duplicate += size;
      ++stats.blobs.duplicate;
    } else {
      stats.size.unused += size;
      ++stats.blobs.unused;
    }
  }
  if (!used.empty()) {
    return Status(Code::kDataLoss,
                  std::to_string(used.size()) + " used blobs (e.g. " + used.begin()->id.ShortHex() +
                      ") are not in the index: data seems to be missing. Prune stopped to prevent "
                      "further data loss; run `stash check` (or `restic rebuild-index`) first");
  }

  // Pass 2: per-pack accounting, starting from the pack's header overhead.
  std::unordered_map<Id, PackInfo, IdHash> packs;
  for (const Entry& e : entries) {
    auto [it, fresh] = packs.try_emplace(e.loc.pack);
    PackInfo& p = it->second;
    if (fresh) p.used_size = format::kSealOverhead + format::kPackTrailerSize;
    p.used_size +=
        e.loc.uncompressed_length ? format::kCompressedPackEntrySize : format::kPackEntrySize;
  }
  for (const Entry& e : entries) {
    PackInfo& p = packs[e.loc.pack];
    const int t = e.key.kind == BlobKind::kData ? 0 : 1;
    if (p.type == -1) p.type = t;
    if (p.type != t) p.type = 2;
    if (!duplicates.count(e.key)) {
      if (keep.count(e.key)) {
        p.used_size += e.loc.length;
        ++p.used_blobs;
      } else {
        p.unused_size += e.loc.length;
        ++p.unused_blobs;
      }
    }
    if (e.loc.uncompressed_length == 0) p.uncompressed = true;
  }
  // Pass 3: one copy of each duplicate counts as used, preferably in a pack
  // that already holds used blobs, else the last copy seen.
  for (const Entry& e : entries) {
    auto d = duplicates.find(e.key);
    if (d == duplicates.end()) continue;
    PackInfo& p = packs[e.loc.pack];
    if (d->second == 0) {
      p.unused_size += e.loc.length;
      ++p.unused_blobs;
    } else if (p.used_blobs > 0 || d->second == 1) {
      p.used_size += e.loc.length;
      ++p.used_blobs;
      d->second = 0;
    } else {
      p.unused_size += e.loc.length;
      ++p.unused_blobs;
      --d->second;
    }
  }

  log(0, "collecting packs for deletion and repacking");
  const uint64_t pack_size = repo.options().pack_size;
  const uint64_t target = opts.repack_small ? pack_size / 5 * 4 : pack_size / 25;
  struct Candidate {
    Id id;
    PackInfo info;
  };
  std::vector<Candidate> candidates, small;
  std::vector<std::pair<Id, uint64_t>> listed;
  STASH_RETURN_IF_ERROR(repo.backend().List(FileType::kPack, [&](const backend::FileInfo& fi) {
    if (auto id = Id::FromHex(fi.name); id.ok()) listed.emplace_back(*id, fi.size);
    return Status::Ok();
  }));
  for (const auto& [id, size] : listed) {
    auto it = packs.find(id);
    if (it == packs.end()) {
      log(1, "will remove pack " + id.ShortHex() + " as it is unused and not indexed");
      plan.remove_packs_first.insert(id);
      stats.size.unref += size;
      continue;
    }
    PackInfo p = it->second;
    if (p.unused_size + p.used_size != size && p.used_blobs != 0) {
      return Status(Code::kDataLoss, "pack " + id.ShortHex() + ": calculated size " +
                                         std::to_string(p.unused_size + p.used_size) +
                                         " does not match real size " + std::to_string(size) +
                                         "; run `restic rebuild-index` and retry");
    }
    if (p.used_blobs == 0) {
      ++stats.packs.unused;
    } else if (p.unused_blobs == 0) {
      ++stats.packs.used;
    } else {
      ++stats.packs.partly_used;
    }
    const bool must_compress =
        repo.format_version() >= 2 && (p.type == 1 || opts.repack_uncompressed) && p.uncompressed;
    p.uncompressed = must_compress;
    if (p.used_blobs == 0) {
      plan.remove_packs.insert(id);
      stats.blobs.remove += p.unused_blobs;
      stats.size.remove += p.unused_size;
    } else if (opts.repack_cacheable_only && p.type == 0) {
      ++stats.packs.keep;
    } else if (p.unused_blobs == 0 && p.type != 2 && !must_compress) {
      if (size >= target) {
        ++stats.packs.keep;
      } else {
        small.push_back({id, p});
      }
    } else {
      candidates.push_back({id, p});
    }
    packs.erase(it);
  }
  // What is left in `packs` is indexed but missing from storage.
  for (auto it = packs.begin(); it != packs.end();) {
    if (it->second.used_blobs == 0) {
      plan.ignore_packs.insert(it->first);
      stats.blobs.remove += it->second.unused_blobs;
      stats.size.remove += it->second.unused_size;
      log(0, "will forget missing pack file " + it->first.Hex());
      it = packs.erase(it);
    } else {
      ++it;
    }
  }
  if (!packs.empty()) {
    return Status(Code::kDataLoss, "the index references " + std::to_string(packs.size()) +
                                       " needed pack files which are missing from the repository "
                                       "(e.g. " +
                                       packs.begin()->first.Hex() + ")");
  }
  if (small.size() < 10) {
    stats.packs.keep += small.size();
  } else {
    candidates.insert(candidates.end(), small.begin(), small.end());
  }
  // Trees and mixed packs first, then too small packs, then by unused/used.
  std::stable_sort(
      candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
        const PackInfo& pi = a.info;
        const PackInfo& pj = b.info;
        if (pi.type != 0 && pj.type == 0) return true;
        if (pj.type != 0 && pi.type == 0) return false;
        const uint64_t si = pi.unused_size + pi.used_size, sj = pj.unused_size + pj.used_size;
        if (si < target && sj >= target) return true;
        if (sj < target && si >= target) return false;
        return static_cast<__int128>(pi.unused_size) * pj.used_size >
               static_cast<__int128>(pj.unused_size) * pi.used_size;
      });
  const uint64_t max_unused_after = opts.max_unused.Limit(stats.size.used);
  for (const Candidate& c : candidates) {
    const PackInfo& p = c.info;
    const bool reached_unused =
        stats.size.unused - stats.size.remove - stats.size.repackrm < max_unused_after;
    const bool reached_repack =
        stats.size.repack + p.unused_size + p.used_size >= opts.max_repack_bytes;
    const bool large_enough = p.unused_size + p.used_size >= target;
    if (reached_repack) {
      ++stats.packs.keep;
    } else if (p.type != 0 || p.uncompressed || !(reached_unused && large_enough)) {
      plan.repack_packs.insert(c.id);
      stats.blobs.repack += p.unused_blobs + p.used_blobs;
      stats.size.repack += p.unused_size + p.used_size;
      stats.blobs.repackrm += p.unused_blobs;
      stats.size.repackrm += p.unused_size;
    } else {
      ++stats.packs.keep;
    }
  }
  stats.packs.unref = plan.remove_packs_first.size();
  stats.packs.repack = plan.repack_packs.size();
  stats.packs.remove = plan.remove_packs.size();

  // Blobs that also live in a kept pack need no copy.
  if (plan.repack_packs.empty()) {
    keep.clear();
  } else {
    for (const Entry& e : entries) {
      if (plan.remove_packs.count(e.loc.pack) || plan.repack_packs.count(e.loc.pack)) continue;
      keep.erase(e.key);
    }
  }
  return plan;
}

}  // namespace stash::engine
