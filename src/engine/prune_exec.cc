// Step 4 of prune (see prune.h) in restic's crash-safe order, and the
// statistics text. The repository copies and seals; this file only decides
// the order.
#include <cstdio>

#include "stash/core/units.h"
#include "stash/engine/prune.h"

namespace stash::engine {

namespace {

using backend::FileType;

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

Status ExecutePrune(repo::Repository& repo, PrunePlan plan, const PruneLog& log) {
  if (!plan.remove_packs_first.empty()) {
    log(0, "deleting unreferenced packs");
    STASH_RETURN_IF_ERROR(RemoveAll(repo, FileType::kPack, plan.remove_packs_first));
  }
  if (!plan.repack_packs.empty()) {
    log(0, "repacking packs");
    // Each kept blob once, from the first repacked pack that holds it.
    auto keep = [&](repo::BlobKind kind, const Id& id) {
      return plan.keep_blobs.erase({id, kind}) > 0;
    };
    const std::vector<Id> packs(plan.repack_packs.begin(), plan.repack_packs.end());
    STASH_RETURN_IF_ERROR(repo.Repack(packs, keep));
    if (!plan.keep_blobs.empty()) {
      return InternalError(std::to_string(plan.keep_blobs.size()) + " blobs (e.g. " +
                           plan.keep_blobs.begin()->id.ShortHex() +
                           ") were not repacked; prune stopped before deleting anything");
    }
    plan.remove_packs.insert(plan.repack_packs.begin(), plan.repack_packs.end());
  }
  std::set<Id> drop = plan.ignore_packs;
  drop.insert(plan.remove_packs.begin(), plan.remove_packs.end());
  if (!drop.empty() || !plan.repack_packs.empty()) {
    log(0, "rebuilding index");
    STASH_ASSIGN_OR_RETURN(std::vector<Id> old_index, repo.RebuildIndex(drop));
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
