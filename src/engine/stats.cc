#include "stash/engine/stats.h"

#include <cstdio>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "stash/core/units.h"
#include "stash/crypto/sha256.h"
#include "stash/engine/prune.h"
#include "stash/engine/walker.h"

namespace stash::engine {

namespace {

using format::Node;
using format::NodeType;
using repo::BlobKind;

// restic's makeFileIDByContents: SHA-256 of the content ids in sequence.
Id ContentKey(const Node& node) {
  static const std::vector<Id> kNone;
  const std::vector<Id>& ids = node.content ? *node.content : kNone;
  std::vector<uint8_t> bytes;
  bytes.reserve(ids.size() * Id::kSize);
  for (const Id& id : ids) bytes.insert(bytes.end(), id.data(), id.data() + Id::kSize);
  return crypto::Sha256(std::span<const uint8_t>(bytes));
}

class Collector {
 public:
  Collector(repo::Repository& repo, StatsMode mode) : repo_(repo), mode_(mode) {}

  Status Add(const SnapshotEntry& sn) {
    if (sn.snapshot.tree.IsZero()) {
      return Status(Code::kDataLoss, "snapshot " + sn.id.ShortHex() + " has nil tree");
    }
    ++stats_.snapshots_count;
    const Id& root = sn.snapshot.tree;
    if (mode_ == StatsMode::kRawData) {
      roots_.push_back(root);  // walked together in Finish
      return Status::Ok();
    }
    std::unordered_set<uint64_t> inodes;  // restore-size: per snapshot
    Status s = WalkTree(repo_, root, "/", [&](const std::string& path, const Node& n) {
      if (mode_ == StatsMode::kRestoreSize) return RestoreSize(n, &inodes);
      return ByContents(path, n);
    });
    if (!s.ok()) return Status(s).Prepend("walking tree " + root.Hex());
    return Status::Ok();
  }

  Result<RepoStats> Finish() {
    if (mode_ == StatsMode::kRawData) {
      std::set<BlobKey> blobs;
      if (Status s = FindUsedBlobs(repo_, roots_, &blobs); !s.ok()) {
        return Status(s).Prepend("error walking snapshot");
      }
      for (const BlobKey& b : blobs) {
        auto loc = repo_.Lookup(b.kind, b.id);
        if (!loc) {
          return Status(Code::kDataLoss, std::string("blob <") +
                                             (b.kind == BlobKind::kTree ? "tree" : "data") + "/" +
                                             b.id.ShortHex() + "> not found");
        }
        stats_.total_size += loc->length;
        ++stats_.total_blob_count;
      }
    }
    return stats_;
  }

 private:
  // Every node counts, even directories; a hard link's size only once.
  Result<WalkAction> RestoreSize(const Node& n, std::unordered_set<uint64_t>* inodes) {
    ++stats_.total_file_count;
    if (inodes->insert(n.inode).second || n.inode == 0) stats_.total_size += n.size;
    return WalkAction::kContinue;
  }

  Result<WalkAction> ByContents(const std::string& path, const Node& n) {
    if (unique_files_.insert(ContentKey(n)).second) {
      if (mode_ == StatsMode::kFilesByContents) {
        stats_.total_size += n.size;
        ++stats_.total_file_count;
      } else if (n.content) {
        STASH_RETURN_IF_ERROR(BlobsOfFile(path, *n.content));
      }
    }
    // A subtree seen before (in any snapshot) holds only contents seen
    // before: walking it again could not change a number.
    if (n.type == NodeType::kDir && n.subtree && !seen_trees_.insert(*n.subtree).second) {
      return WalkAction::kSkipSubtree;
    }
    return WalkAction::kContinue;
  }

  // blobs-per-file: a file is its path; each of its blobs counts once.
  Status BlobsOfFile(const std::string& path, const std::vector<Id>& content) {
    for (const Id& id : content) {
      auto [it, new_file] = file_blobs_.try_emplace(path);
      if (new_file) ++stats_.total_file_count;
      if (!it->second.insert(id).second) continue;
      auto loc = repo_.Lookup(BlobKind::kData, id);
      if (!loc) return Status(Code::kDataLoss, "blob " + id.Hex() + " not found");
      stats_.total_size += loc->PlainLength();
      ++stats_.total_blob_count;
    }
    return Status::Ok();
  }

  repo::Repository& repo_;
  const StatsMode mode_;
  RepoStats stats_;
  std::vector<Id> roots_;  // raw-data
  std::unordered_set<Id> unique_files_;
  std::unordered_set<Id> seen_trees_;
  std::unordered_map<std::string, std::unordered_set<Id>> file_blobs_;
};

}  // namespace

Result<StatsMode> ParseStatsMode(std::string_view name) {
  for (StatsMode m : {StatsMode::kRestoreSize, StatsMode::kFilesByContents, StatsMode::kRawData,
                      StatsMode::kBlobsPerFile}) {
    if (StatsModeName(m) == name) return m;
  }
  return InvalidError("unknown counting mode: " + std::string(name) +
                      " (use the -h flag to get a list of supported modes)");
}

std::string_view StatsModeName(StatsMode mode) {
  switch (mode) {
    case StatsMode::kRestoreSize:
      return "restore-size";
    case StatsMode::kFilesByContents:
      return "files-by-contents";
    case StatsMode::kRawData:
      return "raw-data";
    case StatsMode::kBlobsPerFile:
      return "blobs-per-file";
  }
  return "";
}

Result<RepoStats> ComputeStats(repo::Repository& repo, StatsMode mode,
                               const std::vector<SnapshotEntry>& snapshots) {
  Collector c(repo, mode);
  for (const SnapshotEntry& sn : snapshots) {
    Status s = c.Add(sn);
    if (!s.ok()) return Status(s).Prepend("error walking snapshot");
  }
  return c.Finish();
}

std::string StatsJson(const RepoStats& s) {
  std::string out = "{\"total_size\":" + std::to_string(s.total_size) +
                    ",\"total_file_count\":" + std::to_string(s.total_file_count);
  if (s.total_blob_count) out += ",\"total_blob_count\":" + std::to_string(s.total_blob_count);
  return out + ",\"snapshots_count\":" + std::to_string(s.snapshots_count) + "}\n";
}

std::string StatsText(const RepoStats& s, StatsMode mode) {
  std::string out = "Stats in " + std::string(StatsModeName(mode)) + " mode:\n";
  out += "Snapshots processed:   " + std::to_string(s.snapshots_count) + "\n";
  if (s.total_blob_count)
    out += "   Total Blob Count:   " + std::to_string(s.total_blob_count) + "\n";
  if (s.total_file_count)
    out += "   Total File Count:   " + std::to_string(s.total_file_count) + "\n";
  char size[64];
  std::snprintf(size, sizeof size, "%-5s", FormatBytes(s.total_size).c_str());
  return out + "         Total Size:   " + size + "\n";
}

}  // namespace stash::engine
