// The archiver: walks the targets, decides per file whether the parent
// snapshot's content can be reused, feeds changed files to the chunk
// pipeline, and assembles tree blobs bottom-up as directories complete.
#include "stash/engine/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "backup_fs.h"
#include "backup_pipeline.h"
#include "backup_select.h"
#include "backup_stdin.h"
#include "stash/crypto/sha256.h"
#include "stash/engine/filter.h"
#include "stash/engine/snapshots.h"
#include "stash/format/snapshot.h"
#include "stash/format/tree.h"

namespace stash::engine {

namespace {

using format::Node;
using format::NodeType;
using repo::BlobKind;

// A directory being assembled. Its nodes are complete once `pending` drops
// to zero: one count for the walker while it lists, one per file being read
// and one per subdirectory not yet saved.
struct DirState {
  DirState* parent = nullptr;
  size_t slot = 0;  // index of this dir's node in parent->nodes
  std::vector<Node> nodes;
  std::vector<char> drop;            // nodes left out (unreadable)
  std::optional<Id> parent_subtree;  // the same directory in the parent snapshot
  std::vector<Node> parent_nodes;    // its nodes, until this directory is saved
  std::atomic<int> pending{1};
  // --one-file-system: the device of the target this directory is under,
  // and the directory's own (they differ below a mount point).
  uint64_t target_dev = 0;
  uint64_t own_dev = 0;
};

// A target path component trie: restic's root tree follows the targets as given.
struct Target {
  std::map<std::string, Target> children;
  std::string fs_path;  // path to lstat for this component (on this host)
  std::string cpath;    // the path as recorded (the container's), when not fs_path
  bool is_target = false;
  bool mapped = false;  // under a mount of the path map
};

class Archiver {
 public:
  Archiver(repo::Repository& repo, const BackupOptions& opts, BackupProgress* progress,
           const BackupErrorFn& on_error, Selector select)
      : repo_(repo),
        opts_(opts),
        progress_(progress ? progress : &own_progress_),
        on_error_(on_error),
        select_(std::move(select)),
        cwd_(AbsolutePath(".")) {}

  Result<Id> Run(const Target& root, std::optional<Id> parent_tree);
  BackupStats& stats() { return stats_; }

 private:
  struct Entry {
    Node node;
    std::string path;                // to read on this host
    std::string cpath;               // as recorded, when a path map makes it differ from path
    const Target* virtual_children;  // intermediate target component
    bool target = false;             // a backup target (not below one)
  };
  struct Scan;
  // Lists `dir_path` (a real directory) into d and starts its children.
  // `cdir` is its path as recorded when that differs (a path map is set).
  // `pre`, when set, is that listing already made (or being made) ahead.
  void WalkDir(DirState* d, const std::string& dir_path, const std::string& cdir,
               const std::shared_ptr<Scan>& pre = nullptr);
  // The walker's costly part for one directory: its parent tree, listing,
  // lstat and node of every entry. Errors and warnings go to `events` when
  // set (a scan ahead, replayed in walk order), else out at once.
  struct Event {
    std::string path;     // error: the entry; warning: empty
    Status status;        // error
    std::string message;  // warning
  };
  struct ScanResult {
    bool listed = false;
    std::vector<Node> parent_nodes;
    std::vector<Entry> entries;
  };
  void ScanDir(const DirState* d, const std::string& dir_path, const std::string& cdir,
               ScanResult* out, std::vector<Event>* events);
  // Starts scans of the next subdirectories of `subdirs` (slots of d) on the
  // helper threads, while the shared budget of scans ahead lasts.
  void ScanAhead(const std::vector<Entry>& entries, const std::vector<size_t>& subdirs,
                 const std::vector<DirState*>& states, size_t* next,
                 std::vector<std::shared_ptr<Scan>>* scans);
  void ScanLoop();
  // Builds d from the virtual target trie node t.
  void WalkTarget(DirState* d, const Target& t);

  // The absolute form of a shown (recorded) path, as restic's rules see it.
  std::string Abs(const std::string& shown) const {
    return !shown.empty() && shown[0] == '/' ? shown : GoPathClean(cwd_ + "/" + shown);
  }
  // Installs d's nodes, then starts each child: subdirectories are walked
  // (depth first), changed files go to the pipeline.
  void Dispatch(DirState* d, std::vector<Entry> entries, std::vector<Node> parent_nodes);
  void AddFile(DirState* d, size_t slot, const std::string& path, const std::string& cpath,
               const Node* prev);
  void Release(DirState* d);
  void FinishDir(DirState* d);
  void FinishedTree(DirState* d, const Id& id, bool added);
  void Error(const std::string& path, const Status& s);
  void Fail(const Status& s);
  std::vector<Node> LoadParentTree(const std::optional<Id>& tree);

  repo::Repository& repo_;
  const BackupOptions& opts_;
  BackupProgress own_progress_;
  BackupProgress* progress_;
  const BackupErrorFn& on_error_;
  Selector select_;
  std::string cwd_;
  NameCache names_;
  std::unique_ptr<ChunkPipeline> pipeline_;

  // Directories listed ahead of the walk on helper threads, so lstat and
  // xattr calls (most of a no-change backup) and parent-tree loads (round
  // trips on a remote store) run in parallel while the walk keeps restic's
  // order for files, errors and warnings. Off with tag rules, whose
  // warnings are printed as the rules run.
  std::mutex scan_mu_;
  std::condition_variable scan_cv_;
  std::deque<std::shared_ptr<Scan>> scan_queue_;
  size_t scans_ahead_ = 0;  // submitted and not yet consumed by the walk
  bool scan_stop_ = false;
  std::vector<std::thread> scanners_;

  std::mutex mu_;  // stats, errors, completion
  std::condition_variable cv_;
  BackupStats stats_;
  Status fatal_;
  std::optional<Id> root_id_;
  bool root_done_ = false;
  std::vector<std::unique_ptr<DirState>> dirs_;  // owned until the end
};

// A directory scan handed to a helper thread. The walk takes it over itself
// when no helper has started it yet.
struct Archiver::Scan {
  const DirState* dir;
  std::string path;
  std::string cpath;
  enum State { kQueued, kRunning, kDone } state = kQueued;
  ScanResult result;
  std::vector<Event> events;
};

// Scans ahead of the walk at most: bounds the listings held in memory.
constexpr size_t kMaxScansAhead = 64;

const Node* FindNode(const std::vector<Node>* nodes, const std::string& name) {
  if (!nodes) return nullptr;
  auto it = std::lower_bound(nodes->begin(), nodes->end(), name,
                             [](const Node& n, const std::string& s) { return n.name < s; });
  if (it == nodes->end() || it->name != name) return nullptr;
  return &*it;
}

// restic 0.14's fileChanged: type, mtime, ctime, inode and size must match
// (ctime and inode unless ignored).
bool Unchanged(const Node& prev, const Node& now, const BackupOptions& o) {
  bool ignore_ctime = o.ignore_ctime || o.ignore_inode;
  return prev.type == NodeType::kFile && prev.mtime.SameInstant(now.mtime) &&
         (ignore_ctime || prev.ctime.SameInstant(now.ctime)) &&
         (o.ignore_inode || prev.inode == now.inode) && prev.size == now.size &&
         prev.content.has_value();
}

void Archiver::Error(const std::string& path, const Status& s) {
  ++progress_->errors;
  std::lock_guard lock(mu_);
  ++stats_.errors;
  if (on_error_) on_error_(path, s);
}

void Archiver::Fail(const Status& s) {
  std::lock_guard lock(mu_);
  if (fatal_.ok()) fatal_ = s;
  cv_.notify_all();
}

std::vector<Node> Archiver::LoadParentTree(const std::optional<Id>& tree) {
  if (!tree) return {};
  auto blob = repo_.LoadBlob(BlobKind::kTree, *tree);
  if (!blob.ok()) return {};  // a broken parent only costs re-reading
  auto nodes = format::DecodeTree(
      std::string_view(reinterpret_cast<const char*>(blob->data()), blob->size()));
  if (!nodes.ok()) return {};
  format::SortNodes(&*nodes);
  return std::move(*nodes);
}

Result<Id> Archiver::Run(const Target& root, std::optional<Id> parent_tree) {
  int hashers = opts_.hash_threads > 0 ? opts_.hash_threads
                                       : static_cast<int>(std::thread::hardware_concurrency());
  pipeline_ = std::make_unique<ChunkPipeline>(repo_, opts_.read_concurrency, hashers, progress_,
                                              opts_.content_opens, opts_.cancel);
  if (!select_.has_tag_rules()) {
    // Enough helpers to use the cores and, on a remote store, to keep
    // parent-tree loads in flight.
    const int n = std::clamp(repo_.backend().Connections(), 2, 8);
    for (int i = 0; i < n; ++i) scanners_.emplace_back([this] { ScanLoop(); });
  }
  auto d = std::make_unique<DirState>();
  DirState* rd = d.get();
  dirs_.push_back(std::move(d));
  rd->parent_subtree = parent_tree;
  WalkTarget(rd, root);
  {
    std::lock_guard lock(scan_mu_);
    scan_stop_ = true;
  }
  scan_cv_.notify_all();
  for (auto& t : scanners_) t.join();
  progress_->scan_finished = true;
  Status ps = pipeline_->Finish();
  if (!ps.ok()) Fail(ps);
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return root_done_ || !fatal_.ok(); });
  stats_.data_blobs = pipeline_->data_blobs();
  if (!fatal_.ok()) return fatal_;
  return *root_id_;
}

void Archiver::WalkTarget(DirState* d, const Target& t) {
  std::vector<Node> parent_nodes = LoadParentTree(d->parent_subtree);
  std::vector<Entry> entries;
  std::map<std::string, Selector::TagMemo> parent_memos;  // targets' directories
  for (const auto& [name, child] : t.children) {
    const std::string& shown = child.cpath.empty() ? child.fs_path : child.cpath;
    if (child.is_target && select_.has_name_rules() && select_.RejectByName(Abs(shown))) continue;
    if (child.is_target && select_.has_tag_rules()) {
      // restic looks for tag files beside each target, in its parent.
      std::string host = AbsolutePath(child.fs_path);
      std::string abs = Abs(shown);
      auto dir_of = [](const std::string& p) {
        return p.substr(0, std::max<size_t>(p.rfind('/'), 1));
      };
      std::string_view base = std::string_view(abs).substr(abs.rfind('/') + 1);
      if (select_.RejectByTag(dir_of(host), dir_of(abs), base, &parent_memos[dir_of(abs)])) {
        continue;
      }
    }
    struct stat st {};
    if (lstat(child.fs_path.c_str(), &st) != 0) {
      Error(shown, ErrnoError(errno, "lstat " + shown));
      continue;
    }
    if (child.is_target && select_.RejectBySize(st)) continue;
    auto node =
        NodeForPath(child.fs_path, shown, name, st, opts_.with_atime, names_, opts_.on_warning);
    if (!node.ok()) {
      Error(shown, node.status());
      continue;
    }
    if (!child.is_target && node->type != NodeType::kDir) {
      // A directory above a mount that is a single file: the container has a
      // directory there.
      node->type = NodeType::kDir;
      node->mode = format::kGoModeDir | 0755;
      node->size = 0;
      node->links = 0;
      node->content.reset();
    }
    entries.push_back(Entry{std::move(*node), child.fs_path, child.cpath,
                            child.is_target ? nullptr : &child, child.is_target});
  }
  Dispatch(d, std::move(entries), std::move(parent_nodes));
}

void Archiver::ScanLoop() {
  while (true) {
    std::shared_ptr<Scan> scan;
    {
      std::unique_lock lock(scan_mu_);
      scan_cv_.wait(lock, [&] { return scan_stop_ || !scan_queue_.empty(); });
      if (scan_queue_.empty()) return;
      scan = std::move(scan_queue_.front());
      scan_queue_.pop_front();
      if (scan->state != Scan::kQueued) continue;  // the walk took it over
      scan->state = Scan::kRunning;
    }
    ScanDir(scan->dir, scan->path, scan->cpath, &scan->result, &scan->events);
    {
      std::lock_guard lock(scan_mu_);
      scan->state = Scan::kDone;
    }
    scan_cv_.notify_all();
  }
}

void Archiver::ScanAhead(const std::vector<Entry>& entries, const std::vector<size_t>& subdirs,
                         const std::vector<DirState*>& states, size_t* next,
                         std::vector<std::shared_ptr<Scan>>* scans) {
  if (scanners_.empty()) return;
  std::lock_guard lock(scan_mu_);
  for (; *next < subdirs.size() && scans_ahead_ < kMaxScansAhead; ++*next) {
    const size_t slot = subdirs[*next];
    auto scan = std::make_shared<Scan>();
    scan->dir = states[slot];
    scan->path = entries[slot].path;
    scan->cpath = entries[slot].cpath;
    (*scans)[slot] = scan;
    scan_queue_.push_back(std::move(scan));
    ++scans_ahead_;
    scan_cv_.notify_one();
  }
}

void Archiver::WalkDir(DirState* d, const std::string& dir_path, const std::string& cdir,
                       const std::shared_ptr<Scan>& pre) {
  if (opts_.cancel && opts_.cancel->load()) {  // stopped: walk no further
    Fail(CancelledError("backup stopped before it completed"));
    if (pre) {
      std::unique_lock lock(scan_mu_);
      if (pre->state == Scan::kQueued) pre->state = Scan::kDone;
      scan_cv_.wait(lock, [&] { return pre->state == Scan::kDone; });
      --scans_ahead_;
    }
    Release(d);
    return;
  }
  ScanResult scanned;
  if (pre) {
    bool mine = false;
    {
      std::unique_lock lock(scan_mu_);
      if (pre->state == Scan::kQueued) {
        pre->state = Scan::kRunning;  // no helper got to it: scan it here
        mine = true;
      } else {
        scan_cv_.wait(lock, [&] { return pre->state == Scan::kDone; });
      }
      --scans_ahead_;
    }
    if (mine) ScanDir(d, dir_path, cdir, &pre->result, &pre->events);
    for (Event& e : pre->events) {
      if (e.path.empty()) {
        if (opts_.on_warning) opts_.on_warning(e.message);
      } else {
        Error(e.path, e.status);
      }
    }
    scanned = std::move(pre->result);
  } else {
    ScanDir(d, dir_path, cdir, &scanned, nullptr);
  }
  if (!scanned.listed) {
    Release(d);
    return;
  }
  Dispatch(d, std::move(scanned.entries), std::move(scanned.parent_nodes));
}

void Archiver::ScanDir(const DirState* d, const std::string& dir_path, const std::string& cdir,
                       ScanResult* out, std::vector<Event>* events) {
  auto error = [&](const std::string& path, const Status& st) {
    if (events) {
      events->push_back(Event{path, st, {}});
    } else {
      Error(path, st);
    }
  };
  WarnFn warn = opts_.on_warning;
  if (events && warn) {
    warn = [events](const std::string& message) {
      events->push_back(Event{{}, Status::Ok(), message});
    };
  }
  out->parent_nodes = LoadParentTree(d->parent_subtree);
  auto names = ListDirSorted(dir_path);
  if (!names.ok()) {
    error(cdir.empty() ? dir_path : cdir, names.status());
    return;
  }
  out->listed = true;
  // Mounts nested in this directory hide (or add) the entry of that name.
  std::vector<std::pair<std::string, std::string>> mounts;
  if (!cdir.empty() && cdir[0] == '/') mounts = opts_.path_map.MountsIn(cdir);
  for (const auto& m : mounts) {
    if (!std::binary_search(names->begin(), names->end(), m.first)) names->push_back(m.first);
  }
  if (!mounts.empty()) std::sort(names->begin(), names->end());
  std::string abs_dir;
  if (select_.has_name_rules() || select_.has_tag_rules()) {
    abs_dir = Abs(cdir.empty() ? dir_path : cdir);
  }
  Selector::TagMemo tag_memo;
  // -x: entries on another device go, except directories that are mount
  // points of an allowed directory (kept, and empty below).
  const bool dir_allowed = d->own_dev == d->target_dev;
  std::vector<Entry>& entries = out->entries;
  entries.reserve(names->size());
  for (std::string& name : *names) {
    // restic's order: patterns first, then tag files.
    if (select_.has_name_rules() && select_.RejectByName(JoinPath(abs_dir, name))) continue;
    if (select_.has_tag_rules() && select_.RejectByTag(dir_path, abs_dir, name, &tag_memo)) {
      continue;
    }
    std::string path = JoinPath(dir_path, name);
    std::string cpath = cdir.empty() ? std::string() : JoinPath(cdir, name);
    const std::string& shown = cdir.empty() ? path : cpath;
    auto mount = std::lower_bound(mounts.begin(), mounts.end(), name,
                                  [](const auto& m, const std::string& n) { return m.first < n; });
    if (mount != mounts.end() && mount->first == name) path = mount->second;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
      error(shown, ErrnoError(errno, "lstat " + shown));
      continue;
    }
    if (select_.RejectBySize(st)) continue;
    if (opts_.one_file_system && static_cast<uint64_t>(st.st_dev) != d->target_dev &&
        !(S_ISDIR(st.st_mode) && dir_allowed)) {
      continue;
    }
    auto node = NodeForPath(path, shown, std::move(name), st, opts_.with_atime, names_, warn);
    if (!node.ok()) {
      error(shown, node.status());
      continue;
    }
    entries.push_back(Entry{std::move(*node), std::move(path), std::move(cpath), nullptr, false});
  }
}

void Archiver::Dispatch(DirState* d, std::vector<Entry> entries, std::vector<Node> parent_nodes) {
  // Kept for FinishDir (and the prev pointers below point into it).
  d->parent_nodes = std::move(parent_nodes);
  // The node list is complete before any child starts, so completion
  // callbacks on other threads never see it reallocate.
  d->nodes.reserve(entries.size());
  for (Entry& e : entries) d->nodes.push_back(std::move(e.node));
  d->drop.assign(d->nodes.size(), 0);
  // Subdirectories get their state first, so their scans can start ahead.
  std::vector<DirState*> states(d->nodes.size(), nullptr);
  std::vector<const Node*> prevs(d->nodes.size(), nullptr);
  std::vector<size_t> subdirs;  // slots of real subdirectories, to scan ahead
  for (size_t slot = 0; slot < d->nodes.size(); ++slot) {
    const Node& n = d->nodes[slot];
    const Node* prev = prevs[slot] = FindNode(&d->parent_nodes, n.name);
    if (n.type != NodeType::kDir) continue;
    auto sub = std::make_unique<DirState>();
    DirState* sd = states[slot] = sub.get();
    sd->parent = d;
    sd->slot = slot;
    sd->own_dev = n.device_id;
    sd->target_dev = entries[slot].target ? n.device_id : d->target_dev;
    if (prev && prev->type == NodeType::kDir) sd->parent_subtree = prev->subtree;
    {
      std::lock_guard lock(mu_);
      dirs_.push_back(std::move(sub));
    }
    if (!entries[slot].virtual_children) subdirs.push_back(slot);
  }
  std::vector<std::shared_ptr<Scan>> scans(d->nodes.size());
  size_t next_scan = 0;
  for (size_t slot = 0; slot < d->nodes.size(); ++slot) {
    Node& n = d->nodes[slot];
    const std::string& path = entries[slot].path;
    if (n.type == NodeType::kDir) {
      // Keep the scans ahead topped up as the walk frees the budget.
      ScanAhead(entries, subdirs, states, &next_scan, &scans);
      d->pending.fetch_add(1);
      if (entries[slot].virtual_children) {
        WalkTarget(states[slot], *entries[slot].virtual_children);
      } else {
        WalkDir(states[slot], path, entries[slot].cpath, scans[slot]);
        scans[slot].reset();
      }
      continue;
    }
    if (n.type == NodeType::kFile) AddFile(d, slot, path, entries[slot].cpath, prevs[slot]);
  }
  Release(d);
}

void Archiver::AddFile(DirState* d, size_t slot, const std::string& path, const std::string& cpath,
                       const Node* prev) {
  Node& n = d->nodes[slot];
  ++progress_->total_files;
  progress_->total_bytes += n.size;
  if (!opts_.force && prev && Unchanged(*prev, n, opts_)) {
    n.content = prev->content;
    ++progress_->files_done;
    progress_->bytes_done += n.size;
    std::lock_guard lock(mu_);
    ++stats_.files_unmodified;
    ++stats_.total_files_processed;
    stats_.total_bytes_processed += n.size;
    return;
  }
  bool changed = prev != nullptr;
  d->pending.fetch_add(1);
  std::string shown = cpath.empty() ? path : cpath;
  progress_->StartFile(shown);
  pipeline_->AddFile(path, [this, d, slot, shown, changed](Result<FileContent> r) {
    progress_->FinishFile(shown);
    Node& fn = d->nodes[slot];
    if (!r.ok()) {
      if (r.status().code() != Code::kCancelled) Error(shown, r.status());
      d->drop[slot] = 1;
    } else {
      fn.content = std::move(r->content);
      fn.size = r->size;
      ++progress_->files_done;
      std::lock_guard lock(mu_);
      ++(changed ? stats_.files_changed : stats_.files_new);
      ++stats_.total_files_processed;
      stats_.total_bytes_processed += r->size;
    }
    Release(d);
  });
}

void Archiver::Release(DirState* d) {
  if (d->pending.fetch_sub(1) == 1) FinishDir(d);
}

void Archiver::FinishDir(DirState* d) {
  std::vector<Node> nodes;
  nodes.reserve(d->nodes.size());
  for (size_t i = 0; i < d->nodes.size(); ++i) {
    if (!d->drop[i]) nodes.push_back(std::move(d->nodes[i]));
  }
  d->nodes.clear();
  d->nodes.shrink_to_fit();
  // A directory whose nodes are all as in the parent's tree has that tree
  // (trees are content-addressed): most of a no-change backup's work is
  // then comparing nodes, not encoding and hashing every tree again.
  const bool same = d->parent_subtree && nodes == d->parent_nodes &&
                    repo_.Has(BlobKind::kTree, *d->parent_subtree);
  d->parent_nodes = {};
  if (same) {
    FinishedTree(d, *d->parent_subtree, /*added=*/false);
    return;
  }
  auto tree = format::EncodeTree(nodes);
  if (!tree.ok()) {
    Fail(Status(tree.status()).Prepend("encoding tree"));
    return;
  }
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(tree->data()), tree->size());
  Id id = crypto::Sha256(bytes);
  auto added = repo_.SaveBlob(BlobKind::kTree, id, bytes);
  if (!added.ok()) {
    Fail(added.status());
    return;
  }
  FinishedTree(d, id, *added);
}

// Counts a saved directory's tree and hands its id to the directory above
// (or, for the root, to the walk).
void Archiver::FinishedTree(DirState* d, const Id& id, bool added) {
  {
    std::lock_guard lock(mu_);
    if (added) ++stats_.tree_blobs;
    if (d->parent) {  // the root tree is not counted as a directory
      if (!d->parent_subtree) {
        ++stats_.dirs_new;
      } else if (*d->parent_subtree == id) {
        ++stats_.dirs_unmodified;
      } else {
        ++stats_.dirs_changed;
      }
    }
  }
  if (d->parent) {
    d->parent->nodes[d->slot].subtree = id;
    Release(d->parent);
    return;
  }
  std::lock_guard lock(mu_);
  root_id_ = id;
  root_done_ = true;
  cv_.notify_all();
}

// The first mapped target below t (in name order), or nullptr.
const Target* FirstMappedTarget(const Target& t) {
  for (const auto& [name, c] : t.children) {
    if (c.is_target && c.mapped) return &c;
    if (c.is_target) continue;
    if (const Target* m = FirstMappedTarget(c)) return m;
  }
  return nullptr;
}

// Directories above a mount that no mount covers do not exist on this host
// (the container runtime makes them): they take the metadata of the first
// mount directory below them, so the tree is deterministic and the mode and
// owner are the volume's.
void AdoptMountDirs(Target& t) {
  for (auto& [name, c] : t.children) {
    if (c.is_target) continue;
    AdoptMountDirs(c);
    if (c.mapped) continue;
    if (const Target* m = FirstMappedTarget(c)) c.fs_path = m->fs_path;
  }
}

// Splits the targets into the trie restic's root tree follows. With a path
// map the components are container paths and fs_path is where they are here.
Result<Target> BuildTargets(const std::vector<std::string>& paths, const PathMap& map) {
  Target root;
  auto locate = [&map](Target& c, const std::string& cpath) {
    if (map.empty()) {
      c.fs_path = cpath;
      return;
    }
    std::string abs = AbsolutePath(cpath);
    c.mapped = map.Covers(abs);
    c.fs_path = map.ToHost(abs);
    c.cpath = cpath;
  };
  for (const std::string& p : paths) {
    std::string clean = GoPathClean(p);
    bool abs = !clean.empty() && clean[0] == '/';
    std::vector<std::string> parts;
    size_t start = abs ? 1 : 0;
    while (start < clean.size()) {
      size_t end = clean.find('/', start);
      if (end == std::string::npos) end = clean.size();
      parts.push_back(clean.substr(start, end - start));
      start = end + 1;
    }
    if (!parts.empty() && parts[0] == ".") parts.clear();
    Target* t = &root;
    std::string prefix = abs ? "/" : "";
    for (const std::string& part : parts) {
      if (part == "..") return InvalidError("target " + p + " leaves the working directory");
      prefix = prefix.empty() ? part : JoinPath(prefix, part);
      Target& c = t->children[part];
      locate(c, prefix);
      t = &c;
    }
    if (parts.empty()) {
      // "." or "/": the directory's entries form the root tree.
      std::string dir = clean.empty() ? "." : clean;
      auto names = ListDirSorted(map.empty() ? dir : map.ToHost(AbsolutePath(dir)));
      if (!names.ok()) return names.status();
      for (const std::string& n : *names) {
        Target& c = root.children[n];
        locate(c, JoinPath(dir, n));
        c.is_target = true;
      }
      continue;
    }
    t->is_target = true;
    t->children.clear();
  }
  if (!map.empty()) AdoptMountDirs(root);
  return root;
}

}  // namespace

Result<std::optional<Id>> FindParentSnapshot(repo::Repository& repo, const std::string& hostname,
                                             const std::vector<std::string>& abs_paths,
                                             std::optional<SystemTime> not_after) {
  std::optional<format::Timestamp> limit;
  if (not_after) limit = format::LocalTimestamp(*not_after);
  SnapshotFilter filter;
  filter.hosts = {hostname};
  filter.paths = abs_paths;
  STASH_ASSIGN_OR_RETURN(std::optional<SnapshotEntry> latest,
                         FindLatestSnapshot(repo, filter, limit));
  if (!latest) return std::optional<Id>();
  return std::optional<Id>(latest->id);
}

BackupPreload PreloadBackup(repo::Repository& repo, const BackupOptions& opts, SystemTime now) {
  BackupPreload out;
  // The parent first, then the index (as Backup: the index then covers it).
  if (opts.stdin_fd < 0 && !opts.parent && !opts.force) {
    std::vector<std::string> abs_paths;
    for (const std::string& p : opts.paths) {
      if (!p.empty()) abs_paths.push_back(AbsolutePath(p));
    }
    auto parent = FindParentSnapshot(repo, opts.hostname, abs_paths, opts.time ? *opts.time : now);
    if (parent.ok()) out.parent = *parent;
  }
  if (!repo.LoadIndex().ok()) return out;
  out.index_loaded = true;
  out.index_files = repo.LoadedIndexFiles();
  return out;
}

Status ConfirmPreload(repo::Repository& repo, const BackupPreload& preload, BackupOptions* opts) {
  if (!preload.index_loaded) return Status::Ok();
  STASH_ASSIGN_OR_RETURN(std::vector<Id> now, repo.ListIds(backend::FileType::kIndex));
  std::vector<Id> then = preload.index_files;
  std::sort(now.begin(), now.end());
  std::sort(then.begin(), then.end());
  if (now != then) return Status::Ok();
  opts->index_loaded = true;
  if (preload.parent && !opts->parent) opts->parent = preload.parent;
  return Status::Ok();
}

Result<BackupStats> Backup(repo::Repository& repo, const BackupOptions& opts, Clock& clock,
                           BackupProgress* progress, const BackupErrorFn& on_error) {
  SystemTime start = clock.Now();
  const bool from_stdin = opts.stdin_fd >= 0;
  if (from_stdin && !opts.paths.empty()) {
    return InvalidError("--stdin was specified and files/dirs were listed as arguments");
  }
  if (!from_stdin && opts.paths.empty()) {
    return InvalidError("nothing to back up: no source paths given");
  }
  STASH_ASSIGN_OR_RETURN(Selector select, Selector::Make(opts));
  // In the order given, as restic records them.
  std::vector<std::string> abs_paths;
  for (const std::string& p : opts.paths) {
    if (p.empty()) continue;
    abs_paths.push_back(AbsolutePath(p));
  }
  Target targets;
  if (!from_stdin) {
    STASH_ASSIGN_OR_RETURN(targets, BuildTargets(opts.paths, opts.path_map));
  }

  // restic reads stdin without a parent (there is nothing to compare with).
  std::optional<Id> parent = from_stdin ? std::nullopt : opts.parent;
  if (!from_stdin && !parent && !opts.force) {
    STASH_ASSIGN_OR_RETURN(
        parent, FindParentSnapshot(repo, opts.hostname, abs_paths, opts.time ? *opts.time : start));
  }
  // The index after the parent: a snapshot is saved after its index, so an
  // index read now covers the parent's trees even when a concurrent backup
  // saved that snapshot a moment ago.
  if (!opts.index_loaded) STASH_RETURN_IF_ERROR(repo.LoadIndex());
  if (opts.on_parent) opts.on_parent(parent);
  std::optional<Id> parent_tree;
  if (parent) {
    STASH_ASSIGN_OR_RETURN(std::string json,
                           repo.LoadUnpacked(backend::FileType::kSnapshot, *parent));
    STASH_ASSIGN_OR_RETURN(format::Snapshot psn, format::DecodeSnapshot(json));
    if (!opts.force) parent_tree = psn.tree;
  }

  format::Snapshot sn;
  sn.time = format::LocalTimestamp(opts.time ? *opts.time : start);
  uint64_t added_before = repo.bytes_added();
  uint64_t packed_before = repo.bytes_added_packed();
  BackupStats stats;
  Id root;
  if (from_stdin) {
    STASH_ASSIGN_OR_RETURN(StdinResult r,
                           BackupStdin(repo, opts.stdin_fd, opts.stdin_filename, sn.time,
                                       format::LocalTimestamp(start), progress));
    root = r.tree;
    abs_paths = {r.path};
    stats.files_new = 1;
    stats.total_files_processed = 1;
    stats.total_bytes_processed = r.size;
    stats.data_blobs = r.data_blobs;
    stats.tree_blobs = r.tree_blobs;
    stats.dirs_new = r.dirs_new;
  } else {
    Archiver archiver(repo, opts, progress, on_error, std::move(select));
    STASH_ASSIGN_OR_RETURN(root, archiver.Run(targets, parent_tree));
    stats = archiver.stats();
  }
  STASH_RETURN_IF_ERROR(repo.Flush());

  sn.parent = parent;
  sn.tree = root;
  sn.paths = abs_paths;
  sn.hostname = opts.hostname;
  sn.username = opts.username;
  sn.uid = getuid();
  sn.gid = getgid();
  sn.excludes = opts.excludes;
  sn.tags = opts.tags;
  STASH_ASSIGN_OR_RETURN(
      Id snap_id, repo.SaveUnpacked(backend::FileType::kSnapshot, format::EncodeSnapshot(sn)));
  stats.data_added = repo.bytes_added() - added_before;
  stats.data_added_packed = repo.bytes_added_packed() - packed_before;
  stats.snapshot_id = snap_id;
  stats.parent = parent;
  stats.seconds = std::chrono::duration<double>(clock.Now() - start).count();
  return stats;
}

}  // namespace stash::engine
