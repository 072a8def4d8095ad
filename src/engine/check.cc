#include "stash/engine/check.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "stash/crypto/sha256.h"
#include "stash/engine/snapshots.h"
#include "stash/engine/walker.h"
#include "stash/format/goquote.h"
#include "stash/format/index.h"
#include "stash/format/pack.h"

namespace stash::engine {

struct Checker::PackInfo {
  std::vector<format::IndexPackBlob> blobs;  // sorted by offset, duplicates removed
  std::set<Id> index_files;
  bool has_data = false;
  bool has_tree = false;
  uint64_t expected_size = 0;
};

struct Checker::State {
  std::map<Id, PackInfo> packs;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::unordered_set<Id, IdHash> used_blobs;
};

namespace {

std::string Elapsed(std::chrono::steady_clock::time_point start) {
  auto sec =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  char buf[32];
  if (sec >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(sec / 3600),
                  static_cast<long long>(sec / 60 % 60), static_cast<long long>(sec % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(sec / 60),
                  static_cast<long long>(sec % 60));
  }
  return buf;
}

std::string ProgressLine(std::chrono::steady_clock::time_point start, uint64_t n,
                         const char* what) {
  if (n == 0) return "[" + Elapsed(start) + "]          0 " + what;
  return "[" + Elapsed(start) + "] 100.00%  " + std::to_string(n) + " / " + std::to_string(n) +
         " " + what;
}

// Go's fmt %v of a []error: "[e1 e2]".
std::string GoErrorList(const std::vector<std::string>& errs) {
  std::string s = "[";
  for (size_t i = 0; i < errs.size(); ++i) s += (i ? " " : "") + errs[i];
  return s + "]";
}

uint64_t EntrySize(const format::IndexPackBlob& b) {
  return b.compressed() ? format::kCompressedPackEntrySize : format::kPackEntrySize;
}

}  // namespace

Checker::Checker(repo::Repository& repo, CheckOptions opts, CheckOutput out, Random& random)
    : repo_(repo),
      opts_(std::move(opts)),
      out_(std::move(out)),
      random_(random),
      state_(std::make_shared<State>()) {}

void Checker::Info(const std::string& s) {
  if (out_.info) out_.info(s);
}

void Checker::Error(const std::string& s) {
  errors_found_ = true;
  if (out_.error) out_.error(s);
}

bool Checker::LoadIndexes() {
  Info("load indexes");
  auto ids = repo_.ListIds(backend::FileType::kIndex);
  if (!ids.ok()) {
    Error("error: " + ids.status().message());
    return false;
  }
  bool load_errors = false;
  for (const Id& index_id : *ids) {
    auto json = repo_.LoadUnpacked(backend::FileType::kIndex, index_id);
    Result<format::IndexFile> index =
        json.ok() ? format::DecodeIndex(*json) : Result<format::IndexFile>(json.status());
    if (!index.ok()) {
      Error("error: error loading index " + index_id.Hex() + ": " + index.status().message());
      load_errors = true;
      continue;
    }
    for (format::IndexPack& p : index->packs) {
      PackInfo& info = state_->packs[p.id];
      info.index_files.insert(index_id);
      for (format::IndexPackBlob& b : p.blobs) {
        (b.type == format::BlobType::kData ? info.has_data : info.has_tree) = true;
        info.blobs.push_back(b);
      }
    }
  }
  if (load_errors) return false;
  bool rebuild_hint = false;
  bool mixed_hint = false;
  for (auto& [pack_id, info] : state_->packs) {
    std::sort(info.blobs.begin(), info.blobs.end(),
              [](const auto& a, const auto& b) { return a.offset < b.offset; });
    info.blobs.erase(std::unique(info.blobs.begin(), info.blobs.end()), info.blobs.end());
    uint64_t size = format::kSealOverhead + format::kPackTrailerSize;
    for (const auto& b : info.blobs) size += b.length + EntrySize(b);
    info.expected_size = size;
    if (info.index_files.size() > 1) {
      std::string list;
      for (const Id& id : info.index_files) list += (list.empty() ? "" : " ") + id.Hex();
      Info("pack " + pack_id.Hex() + " contained in several indexes: {" + list + "}");
      rebuild_hint = true;
    }
    if (info.has_data && info.has_tree) {
      Info("pack " + pack_id.ShortHex() + " contains a mix of tree and data blobs");
      mixed_hint = true;
    }
  }
  if (rebuild_hint) {
    Info("This is non-critical, you can run `restic rebuild-index' to correct this");
  }
  if (mixed_hint) {
    Info(
        "Mixed packs with tree and data blobs are non-critical, you can run `restic prune` to "
        "correct this.");
  }
  if (Status s = repo_.LoadIndex(); !s.ok()) {
    Error("error: " + s.message());
    return false;
  }
  return true;
}

void Checker::CheckPacks() {
  Info("check all packs");
  std::map<Id, uint64_t> on_disk;
  Status s = repo_.backend().List(backend::FileType::kPack, [&](const backend::FileInfo& fi) {
    auto id = Id::FromHex(fi.name);
    if (id.ok()) on_disk[*id] = fi.size;
    return Status::Ok();
  });
  if (!s.ok()) Error(s.message());
  for (const auto& [pack_id, info] : state_->packs) {
    auto it = on_disk.find(pack_id);
    if (it == on_disk.end()) {
      Error("pack " + pack_id.Hex() + ": does not exist");
      continue;
    }
    if (it->second != info.expected_size) {
      Error("pack " + pack_id.Hex() + ": unexpected file size: got " + std::to_string(it->second) +
            ", expected " + std::to_string(info.expected_size));
    }
    uint64_t end = 0;
    for (const auto& b : info.blobs) {
      if (b.offset != end) {
        Error("pack " + pack_id.Hex() + ": Index for pack contains gaps / overlapping blobs");
        break;
      }
      end = b.offset + b.length;
    }
    on_disk.erase(it);
  }
  for (const auto& [orphan, size] : on_disk) {
    Info("pack " + orphan.Hex() + ": not referenced in any index");
  }
  if (!on_disk.empty()) {
    Info(std::to_string(on_disk.size()) +
         " additional files were found in the repo, which likely contain duplicate data.\n"
         "This is non-critical, you can run `restic prune` to correct this.");
  }
}

void Checker::CheckStructure() {
  Info("check snapshots, trees and blobs");
  std::vector<Id> roots;
  auto snapshots =
      LoadSnapshots(repo_, SnapshotFilter{}, [&](const std::string& w) { Error("error: " + w); });
  if (!snapshots.ok()) {
    Error("error: " + snapshots.status().message());
  } else {
    for (const SnapshotEntry& e : *snapshots) {
      if (e.snapshot.tree.IsZero()) {
        Error("error: snapshot " + e.id.ShortHex() + " has no tree");
        continue;
      }
      roots.push_back(e.snapshot.tree);
    }
  }
  // Breadth-first over unique trees, loaded in parallel a level at a time.
  std::unordered_set<Id, IdHash> seen;
  std::vector<Id> level;
  for (const Id& r : roots) {
    if (seen.insert(r).second) level.push_back(r);
  }
  unsigned nthreads = std::max(2u, std::thread::hardware_concurrency());
  while (!level.empty()) {
    std::vector<std::vector<std::string>> errs(level.size());
    std::vector<std::vector<Id>> subtrees(level.size());
    std::vector<std::vector<Id>> used(level.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i; (i = next.fetch_add(1)) < level.size();) {
        const Id& tree = level[i];
        if (!repo_.Has(repo::BlobKind::kTree, tree)) {
          errs[i].push_back("tree " + tree.Hex() + " not found in index");
          continue;
        }
        auto nodes = LoadTree(repo_, tree);
        if (!nodes.ok()) {
          errs[i].push_back(nodes.status().message());
          continue;
        }
        std::string prefix = "tree " + tree.Hex() + ": ";
        for (const format::Node& node : *nodes) {
          auto quoted = [&node] { return "\"" + format::GoQuote(node.name) + "\""; };
          switch (node.type) {
            case format::NodeType::kFile:
              if (!node.content) {
                errs[i].push_back(prefix + "file " + quoted() + " has nil blob list");
                break;
              }
              for (size_t b = 0; b < node.content->size(); ++b) {
                const Id& blob = (*node.content)[b];
                if (blob.IsZero()) {
                  errs[i].push_back(prefix + "file " + quoted() + " blob " + std::to_string(b) +
                                    " has null ID");
                  continue;
                }
                if (!repo_.Has(repo::BlobKind::kData, blob)) {
                  errs[i].push_back(prefix + "file " + quoted() + " blob " + blob.Hex() +
                                    " not found in index");
                }
                if (opts_.check_unused) used[i].push_back(blob);
              }
              break;
            case format::NodeType::kDir:
              if (!node.subtree) {
                errs[i].push_back(prefix + "dir node " + quoted() + " has no subtree");
              } else if (node.subtree->IsZero()) {
                errs[i].push_back(prefix + "dir node " + quoted() + " subtree id is null");
              } else {
                subtrees[i].push_back(*node.subtree);
              }
              break;
            case format::NodeType::kIrregular:
              errs[i].push_back(prefix + "node " + quoted() + " with invalid type \"irregular\"");
              break;
            default:
              break;
          }
          if (node.name.empty()) errs[i].push_back(prefix + "node with empty name");
        }
      }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < std::min<size_t>(nthreads, level.size()); ++t) {
      threads.emplace_back(worker);
    }
    worker();
    for (auto& t : threads) t.join();
    std::vector<Id> next_level;
    for (size_t i = 0; i < level.size(); ++i) {
      if (!errs[i].empty()) {
        Error("error for tree " + level[i].ShortHex() + ":");
        for (const std::string& e : errs[i]) Error("  " + e);
      }
      for (const Id& sub : subtrees[i]) {
        if (seen.insert(sub).second) next_level.push_back(sub);
      }
      for (const Id& b : used[i]) state_->used_blobs.insert(b);
    }
    level = std::move(next_level);
  }
  if (opts_.show_progress) {
    Info(ProgressLine(state_->start, roots.size(), "snapshots"));
    Info("");
  }
  if (opts_.check_unused) {
    for (const Id& t : seen) state_->used_blobs.insert(t);
    std::set<Id> unused;
    repo_.ForEachBlob([&](const Id& id, const repo::BlobLocation&) {
      if (!state_->used_blobs.count(id)) unused.insert(id);
    });
    for (const Id& id : unused) Error("unused blob " + id.Hex());
  }
}

std::string Checker::CheckPack(const Id& pack, const PackInfo& info) {
  const std::string name = "pack " + pack.Hex();
  if (info.blobs.empty()) return name + " is empty or not indexed";
  std::vector<uint8_t> data;
  Status s = repo_.backend().Load({backend::FileType::kPack, pack.Hex()}, 0, 0, &data);
  if (!s.ok()) return name + " failed to download: " + s.message();
  std::vector<std::string> errs;
  Id hash = crypto::Sha256(data);
  if (hash != pack)
    errs.push_back("Pack ID does not match, want " + pack.Hex() + ", got " + hash.Hex());
  uint64_t end = 0;
  bool contiguous = true;
  for (const auto& b : info.blobs) {
    if (b.offset != end) contiguous = false;
    end = b.offset + b.length;
  }
  if (!contiguous) errs.push_back("Index for pack contains gaps / overlapping blobs");
  for (const auto& b : info.blobs) {
    if (static_cast<uint64_t>(b.offset) + b.length > data.size()) {
      errs.push_back("blob " + b.id.Hex() + ": lies beyond the end of the pack");
      continue;
    }
    repo::BlobLocation loc{pack, b.type, b.offset, b.length, b.uncompressed_length};
    auto plain = repo_.OpenBlob(b.id, loc, std::span(data.data() + b.offset, b.length));
    if (!plain.ok()) errs.push_back("blob " + b.id.Hex() + ": " + plain.status().message());
  }
  auto header = repo_.ListPack(pack, data.size());
  if (!header.ok()) {
    errs.push_back(header.status().message());
  } else {
    uint64_t idx_hdr = 0;
    for (const auto& b : info.blobs) idx_hdr += EntrySize(b);
    uint64_t hdr = 0;
    for (const auto& pb : *header) {
      hdr += pb.location.uncompressed_length ? format::kCompressedPackEntrySize
                                             : format::kPackEntrySize;
    }
    if (hdr != idx_hdr) {
      errs.push_back("Pack header size does not match, want " + std::to_string(idx_hdr) + ", got " +
                     std::to_string(hdr));
    }
    for (const auto& pb : *header) {
      bool found = false;
      for (const auto& b : info.blobs) {
        if (b.id == pb.id && b.type == pb.location.kind && b.offset == pb.location.offset &&
            b.length == pb.location.length &&
            b.uncompressed_length == pb.location.uncompressed_length) {
          found = true;
          break;
        }
      }
      if (!found) {
        errs.push_back("Blob " + pb.id.Hex() +
                       " is not contained in index or position is incorrect");
      }
    }
  }
  if (errs.empty()) return "";
  return name + " contains " + std::to_string(errs.size()) + " errors: " + GoErrorList(errs);
}

Status Checker::ReadData() {
  std::vector<const std::pair<const Id, PackInfo>*> selected;
  const std::string& subset = opts_.read_data_subset;
  if (subset.empty()) {
    Info("read all data");
    for (const auto& entry : state_->packs) selected.push_back(&entry);
  } else if (subset.back() == '%') {
    double pct = 0;
    if (std::sscanf(subset.c_str(), "%lf%%", &pct) != 1 || pct <= 0 || pct > 100) {
      return InvalidError("invalid --read-data-subset \"" + subset +
                          "\": a percentage must be > 0 and <= 100");
    }
    std::vector<const std::pair<const Id, PackInfo>*> all;
    for (const auto& entry : state_->packs) all.push_back(&entry);
    size_t n = static_cast<size_t>(static_cast<double>(all.size()) * pct / 100.0);
    if (!all.empty() && n < 1) n = 1;
    for (size_t i = 0; i < n; ++i) {
      size_t j = i + static_cast<size_t>(random_.Uniform(all.size() - i));
      std::swap(all[i], all[j]);
      selected.push_back(all[i]);
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "read %.1f%% of data packs", pct);
    Info(buf);
  } else {
    unsigned n = 0, t = 0;
    char slash = 0;
    if (std::sscanf(subset.c_str(), "%u%c%u", &n, &slash, &t) != 3 || slash != '/' || t == 0 ||
        n == 0 || n > t) {
      return InvalidError("invalid --read-data-subset \"" + subset +
                          "\": use n/t (1 <= n <= t) or a percentage such as 10%");
    }
    for (const auto& entry : state_->packs) {
      if (entry.first.data()[0] % t == n - 1) selected.push_back(&entry);
    }
    Info("read group #" + std::to_string(n) + " of " + std::to_string(selected.size()) +
         " data packs (out of total " + std::to_string(state_->packs.size()) + " packs in " +
         std::to_string(t) + " groups)");
  }
  int workers = opts_.workers;
  if (workers <= 0) {
    workers = std::max<int>(repo_.backend().Connections(),
                            static_cast<int>(std::thread::hardware_concurrency()));
  }
  std::vector<std::string> results(selected.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < selected.size();) {
      results[i] = CheckPack(selected[i]->first, selected[i]->second);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::min<int>(workers, static_cast<int>(selected.size())); ++t) {
    threads.emplace_back(worker);
  }
  worker();
  for (auto& t : threads) t.join();
  for (const std::string& r : results) {
    if (!r.empty()) Error(r);
  }
  if (opts_.show_progress) {
    Info(ProgressLine(state_->start, selected.size(), "packs"));
    Info("");
  }
  return Status::Ok();
}

Result<bool> Checker::Run() {
  errors_found_ = false;
  if (!LoadIndexes()) return InvalidError("LoadIndex returned errors");
  CheckPacks();
  CheckStructure();
  if (opts_.read_data || !opts_.read_data_subset.empty()) STASH_RETURN_IF_ERROR(ReadData());
  return errors_found_;
}

}  // namespace stash::engine
