#include "stash/engine/restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "restore_files.h"
#include "restore_meta.h"
#include "stash/crypto/sha256.h"
#include "stash/engine/walker.h"

namespace stash::engine {

namespace {

Status MkdirAll(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status(Code::kAlreadyExists, "Mkdir " + path + ": not a directory");
  }
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0)
    STASH_RETURN_IF_ERROR(MkdirAll(path.substr(0, slash)));
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status(Code::kInternal, "Mkdir " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

std::string AbsTarget(const std::string& target) {
  if (!target.empty() && target[0] == '/') return GoPathClean(target);
  char buf[4096];
  std::string cwd = getcwd(buf, sizeof buf) ? buf : "/";
  return GoPathClean(cwd + "/" + target);
}

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool ValidName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace

// What the first pass collects: the nodes to create or finish, in tree order,
// with a directory's entry after its children (so its metadata is applied
// bottom-up), and the hardlink groups.
struct Restorer::Collected {
  struct Action {
    bool leave_dir = false;
    format::Node node;  // content moved to the file writer
    std::string target;
    std::string location;
    size_t file = kNoFile;  // index in the file writer, for content files
  };
  static constexpr size_t kNoFile = static_cast<size_t>(-1);
  std::vector<Action> actions;
  std::map<std::pair<uint64_t, uint64_t>, std::string> hardlinks;  // (inode, dev) → first target
  PackFileWriter* writer = nullptr;
};

Restorer::Restorer(repo::Repository& repo, SnapshotEntry snapshot, RestoreOptions opts,
                   RestoreErrorFn on_error)
    : repo_(repo),
      snapshot_(std::move(snapshot)),
      opts_(std::move(opts)),
      on_error_(std::move(on_error)) {}

void Restorer::Report(const std::string& location, const Status& error) {
  ++stats_.errors;
  if (on_error_) on_error_(location, error);
}

Result<bool> Restorer::Traverse(const Id& tree, const std::string& target,
                                const std::string& location, Collected* out) {
  auto nodes = LoadTree(repo_, tree);
  if (!nodes.ok()) {
    Report(location, nodes.status());
    return false;
  }
  bool has_restored = false;
  bool target_made = false;  // every non-dir child shares this parent: make it once
  for (format::Node& node : *nodes) {
    if (!ValidName(node.name)) {
      Report(location, InvalidError("invalid child node name " + node.name));
      continue;
    }
    std::string node_target = target + "/" + node.name;
    std::string node_location = JoinPath(location, node.name);
    if (node.type == format::NodeType::kSocket) continue;

    bool selected = true;
    bool child_may = true;
    if (!opts_.excludes.empty() || !opts_.iexcludes.empty()) {
      selected =
          !opts_.excludes.Match(node_location) && !opts_.iexcludes.Match(AsciiLower(node_location));
      child_may = selected && node.type == format::NodeType::kDir;
    } else if (!opts_.includes.empty() || !opts_.iincludes.empty()) {
      auto [m, c] = opts_.includes.MatchWithChild(node_location);
      auto [im, ic] = opts_.iincludes.MatchWithChild(AsciiLower(node_location));
      selected = m || im;
      child_may = (c || ic) && node.type == format::NodeType::kDir;
    }
    if (!opts_.path_map.empty()) {
      if (!opts_.path_map.Covers(node_location)) {
        STASH_ASSIGN_OR_RETURN(bool below,
                               TraverseUnmapped(node, node_location, selected, child_may, out));
        has_restored = has_restored || below;
        continue;
      }
      node_target = opts_.path_map.ToHost(node_location);
    }
    if (selected) has_restored = true;

    if (node.type == format::NodeType::kDir) {
      if (!node.subtree) {
        Report(node_location,
               Status(Code::kDataLoss, "Dir without subtree in tree " + tree.ShortHex()));
        continue;
      }
      if (selected) {
        if (Status s = MkdirAll(node_target); !s.ok()) {
          Report(node_location, s);
          continue;
        }
      }
      bool child_restored = false;
      if (child_may) {
        STASH_ASSIGN_OR_RETURN(child_restored,
                               Traverse(*node.subtree, node_target, node_location, out));
        if (child_restored) has_restored = true;
      }
      if (selected || child_restored) {
        out->actions.push_back({true, std::move(node), node_target, node_location});
      }
      continue;
    }
    if (!selected) continue;
    if (!target_made) {
      if (Status s = MkdirAll(target); !s.ok()) {
        Report(node_location, s);
        continue;
      }
      target_made = true;
    }
    size_t file = Collected::kNoFile;
    if (node.type == format::NodeType::kFile && node.size > 0) {
      bool write_content = true;
      if (node.links > 1) {
        auto [it, inserted] = out->hardlinks.try_emplace({node.inode, node.device_id}, node_target);
        write_content = inserted;
      }
      if (write_content && node.content) {
        written_.push_back({node_target, *node.content, node.size});
        file =
            out->writer->AddFile(node_target, node_location, std::move(*node.content), node.size);
        node.content.reset();
      }
    }
    out->actions.push_back({false, std::move(node), node_target, node_location, file});
  }
  return has_restored;
}

Result<bool> Restorer::TraverseUnmapped(const format::Node& node, const std::string& location,
                                        bool selected, bool child_may, Collected* out) {
  if (node.type == format::NodeType::kDir && opts_.path_map.HasMountBelow(location)) {
    if (!child_may || !node.subtree) return false;
    return Traverse(*node.subtree, location, location, out);
  }
  if (selected || child_may) {
    Report(location,
           Status(Code::kFailedPrecondition,
                  location + " is not inside any volume mounted into the restore target"));
  }
  return false;
}

Result<RestoreStats> Restorer::Run() {
  stats_ = RestoreStats{};
  written_.clear();
  const std::string dst = AbsTarget(opts_.target);
  STASH_RETURN_IF_ERROR_CTX(MkdirAll(dst), "creating target directory");

  int workers = opts_.workers;
  if (workers <= 0) {
    // Decrypting, decompressing and hashing keep a worker busy, but each
    // also waits for its reads (packs a backup just wrote are not cached):
    // two per core keep the cores busy through those waits, a few MiB each.
    workers = std::max<int>(repo_.backend().Connections(),
                            2 * static_cast<int>(std::thread::hardware_concurrency()));
  }
  PackFileWriter writer(repo_, workers, [&](const std::string& loc, const Status& s) {
    if (on_error_) on_error_(loc, s);
  });
  Collected collected;
  collected.writer = &writer;
  STASH_RETURN_IF_ERROR(Traverse(snapshot_.snapshot.tree, dst, "/", &collected));

  writer.Run(&stats_);

  // Second pass: special files, empty files, hardlinks and all metadata.
  // Nodes outside hardlink groups depend on nothing but their (existing)
  // directory, so all workers finish them: with many small files this pass is
  // a few syscalls per file. Hardlinks then follow in tree order (a link
  // needs its first name), and directories last, children before parents,
  // as creating an entry changes its directory's mtime.
  std::vector<Collected::Action*> independent;
  for (Collected::Action& a : collected.actions) {
    if (a.leave_dir) {
      ++stats_.dirs;
      continue;
    }
    if (a.node.type != format::NodeType::kFile) {
      ++stats_.other;
    } else {
      ++stats_.files;
    }
    if (a.node.type != format::NodeType::kFile || a.node.links < 2) independent.push_back(&a);
  }
  // A file whose content failed was already reported; its metadata is not
  // set and it is not reported twice.
  auto content_written = [&](const Collected::Action& a) {
    if (a.file != Collected::kNoFile) return !writer.Failed(a.file);
    struct stat st {};
    return lstat(a.target.c_str(), &st) == 0;
  };
  auto create_empty = [](const format::Node& node, const std::string& target) {
    int fd = open(target.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status(Code::kInternal, "OpenFile: open " + target + ": " + std::strerror(errno));
    }
    close(fd);
    return RestoreMetadata(node, target);
  };
  std::mutex report_mu;
  std::atomic<size_t> next{0};
  auto finish = [&] {
    for (size_t i; (i = next.fetch_add(1)) < independent.size();) {
      const Collected::Action& a = *independent[i];
      Status s;
      if (a.node.type != format::NodeType::kFile) {
        s = CreateSpecialNode(a.node, a.target);
        if (s.ok()) s = RestoreMetadata(a.node, a.target);
      } else if (a.node.size == 0) {
        s = create_empty(a.node, a.target);
      } else {
        if (!content_written(a)) continue;
        s = RestoreMetadata(a.node, a.target);
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(report_mu);
        Report(a.location, s);
      }
    }
  };
  {
    std::vector<std::thread> threads;
    size_t n = std::min<size_t>(static_cast<size_t>(workers), independent.size() / 256 + 1);
    for (size_t t = 1; t < n; ++t) threads.emplace_back(finish);
    finish();
    for (auto& t : threads) t.join();
  }

  std::map<std::pair<uint64_t, uint64_t>, std::string> empty_links;
  for (Collected::Action& a : collected.actions) {
    const format::Node& node = a.node;
    Status s;
    if (a.leave_dir) {
      s = RestoreMetadata(node, a.target);
    } else if (node.type != format::NodeType::kFile || node.links < 2) {
      continue;  // finished above
    } else {
      auto key = std::make_pair(node.inode, node.device_id);
      auto link = collected.hardlinks.find(key);
      if (node.size == 0 && !empty_links.count(key)) {
        empty_links.emplace(key, a.target);
        s = create_empty(node, a.target);
      } else if ((node.size == 0 && empty_links[key] != a.target) ||
                 (node.size > 0 && link != collected.hardlinks.end() && link->second != a.target)) {
        const std::string& first = node.size == 0 ? empty_links[key] : link->second;
        if (unlink(a.target.c_str()) != 0 && errno != ENOENT) {
          s = Status(Code::kInternal,
                     "RemoveCreateHardlink: " + a.target + ": " + std::strerror(errno));
        } else if (::link(first.c_str(), a.target.c_str()) != 0) {
          s = Status(Code::kInternal, "CreateHardlink: link " + first + " " + a.target + ": " +
                                          std::strerror(errno));
        } else {
          s = RestoreMetadata(node, a.target);
        }
      } else {
        if (!content_written(a)) continue;
        s = RestoreMetadata(node, a.target);
      }
    }
    if (!s.ok()) Report(a.location, s);
  }
  return stats_;
}

Result<uint64_t> Restorer::Verify() {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> verified{0};
  std::mutex mu;
  auto fail = [&](const std::string& target, const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    Report(target, s);
  };
  auto worker = [&] {
    std::vector<uint8_t> buf;
    for (size_t i; (i = next.fetch_add(1)) < written_.size();) {
      const Written& w = written_[i];
      int fd = open(w.target.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        fail(w.target, Status(Code::kNotFound, "open " + w.target + ": " + std::strerror(errno)));
        continue;
      }
      struct stat st {};
      fstat(fd, &st);
      bool ok = true;
      if (static_cast<uint64_t>(st.st_size) != w.size) {
        fail(w.target, Status(Code::kDataLoss, "Invalid file size for " + w.target + ": expected " +
                                                   std::to_string(w.size) + ", got " +
                                                   std::to_string(st.st_size)));
        ok = false;
      }
      uint64_t offset = 0;
      for (size_t b = 0; ok && b < w.content.size(); ++b) {
        auto loc = repo_.Lookup(repo::BlobKind::kData, w.content[b]);
        if (!loc) {
          fail(w.target, Status(Code::kNotFound, "Unable to fetch blob " + w.content[b].Hex()));
          ok = false;
          break;
        }
        buf.resize(loc->PlainLength());
        ssize_t n = pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
        if (n != static_cast<ssize_t>(buf.size()) || crypto::Sha256(buf) != w.content[b]) {
          fail(w.target,
               Status(Code::kDataLoss, "Unexpected content in " + w.target +
                                           ", starting at offset " + std::to_string(offset)));
          ok = false;
        }
        offset += buf.size();
      }
      close(fd);
      if (ok) verified.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  unsigned n = std::max(2u, std::thread::hardware_concurrency());
  for (unsigned t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return verified.load();
}

}  // namespace stash::engine
