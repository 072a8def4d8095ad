// Private to cli: what the read-side verbs (snapshots, ls, cat, dump, restore,
// check) share — opening the repository named by the global restic flags with
// restic's messages, and the --host/--tag/--path snapshot filter flags.
//
// Thread-safety: main thread only, like the rest of the CLI.
#pragma once

#include <iostream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "restic_options.h"
#include "stash/cli/app.h"
#include "stash/engine/lock.h"
#include "stash/engine/snapshots.h"

namespace stash::cli {

// The open repository, the context (clock, random) it points into, and the
// repository lock held while the verb runs. Members are destroyed bottom-up:
// the lock goes before the repository it lives in.
struct OpenedRepo {
  ResticContext ctx;
  std::unique_ptr<repo::Repository> repo;
  engine::ScopedLock lock;
};

// As restic 0.14: restore, cat, dump and snapshots take a shared lock; check
// an exclusive one (it must not see a concurrent backup's snapshot before
// that backup's index, nor a prune half done); ls takes none.
enum class VerbLock { kNone, kShared, kExclusive };

// Opens the repository (and, with a VerbLock other than kNone and without
// --no-lock, takes restic's lock of that kind so forget/prune cannot delete
// what the verb reads); on failure prints restic's message on stderr and returns the exit
// code instead. `cache` false reads everything from the store (check without
// --with-cache must see the store's files, not this machine's copies).
inline std::variant<OpenedRepo, int> OpenForVerb(const ResticOptions& ro,
                                                 VerbLock lock = VerbLock::kNone,
                                                 bool cache = true) {
  auto ctx_or = ResolveResticContext(ro);
  if (auto* e = std::get_if<CliError>(&ctx_or)) {
    std::cerr << e->message << "\n";
    return e->exit_code;
  }
  OpenedRepo out{std::move(std::get<ResticContext>(ctx_or)), nullptr, {}};
  if (!cache) out.ctx.no_cache = true;
  auto repo = OpenRepository(out.ctx);
  if (auto* e = std::get_if<CliError>(&repo)) {
    std::cerr << e->message << "\n";
    return e->exit_code;
  }
  out.repo = std::move(std::get<std::unique_ptr<repo::Repository>>(repo));
  if (lock != VerbLock::kNone && !ro.no_lock) {
    const auto mode =
        lock == VerbLock::kExclusive ? engine::LockMode::kExclusive : engine::LockMode::kShared;
    auto l = engine::ScopedLock::Acquire(*out.repo, mode, *out.ctx.clock,
                                         engine::LockOwner::Current(), out.ctx.lock_timing);
    if (!l.ok()) {
      std::cerr << l.status().message() << "\n";  // as restic: no "Fatal: "
      return kExitError;
    }
    out.lock = std::move(l).value();
  }
  return out;
}

// --host/-H, --tag (a,b lists), --path as restic's snapshot-selecting verbs.
struct FilterFlags {
  std::vector<std::string> hosts;
  std::vector<std::string> tags;
  std::vector<std::string> paths;

  void Add(CLI::App* cmd, const std::string& when) {
    cmd->add_option("-H,--host", hosts,
                    "only consider snapshots for this host" + when + " (can be repeated)")
        ->allow_extra_args(false);
    cmd->add_option("--tag", tags,
                    "only consider snapshots which include this taglist in the format "
                    "tag[,tag,...]" +
                        when + " (can be repeated)")
        ->allow_extra_args(false);
    cmd->add_option("--path", paths,
                    "only consider snapshots which include this (absolute) path" + when +
                        " (can be repeated)")
        ->allow_extra_args(false);
  }

  engine::SnapshotFilter ToFilter() const {
    engine::SnapshotFilter f;
    f.hosts = hosts;
    f.paths = paths;
    for (const std::string& t : tags) f.tags.push_back(engine::ParseTagList(t));
    return f;
  }
};

// restic's "[a b]" rendering of a string list (Go's %v).
inline std::string GoList(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
  return s + "]";
}

// restic prints a tag list filter as [[a b] [c]].
inline std::string GoTagLists(const std::vector<std::string>& tags) {
  std::string s = "[";
  for (size_t i = 0; i < tags.size(); ++i)
    s += (i ? " " : "") + GoList(engine::ParseTagList(tags[i]));
  return s + "]";
}

// The one snapshot dump and restore read (`name`: an id prefix, or "latest"
// under the filter), with the repository's index loaded; on failure prints
// restic's message on stderr and returns the exit code instead.
inline std::variant<engine::SnapshotEntry, int> SnapshotToRead(repo::Repository& repo,
                                                               const std::string& name,
                                                               const FilterFlags& filter) {
  auto entry = engine::FindSnapshot(repo, name, filter.ToFilter());
  if (!entry.ok()) {
    if (name == "latest") {
      std::cerr << "latest snapshot for criteria not found: " << entry.status().message()
                << " Paths:" << GoList(filter.paths) << " Hosts:" << GoList(filter.hosts) << "\n";
    } else {
      std::cerr << "invalid id \"" << name << "\": " << entry.status().message() << "\n";
    }
    return kExitError;
  }
  if (Status s = repo.LoadIndex(); !s.ok()) {
    std::cerr << "Fatal: " << s.message() << "\n";
    return kExitError;
  }
  return std::move(*entry);
}

// restic 0.14's FindFilteredSnapshots: the snapshots named by `ids` (an id
// prefix, or "latest" under the filter; a name that resolves to nothing is
// reported on stderr and skipped; duplicates once), else every snapshot the
// filter matches, oldest first. Fails only when the list cannot be loaded.
inline Result<std::vector<engine::SnapshotEntry>> SelectSnapshots(
    repo::Repository& repo, const std::vector<std::string>& ids, const FilterFlags& filter) {
  if (ids.empty()) {
    return engine::LoadSnapshots(repo, filter.ToFilter(),
                                 [](const std::string& w) { std::cerr << w << "\n"; });
  }
  std::vector<engine::SnapshotEntry> list;
  bool used_filter = false;
  for (const std::string& id : ids) {
    if (id == "latest") used_filter = true;
    auto entry = engine::FindSnapshot(repo, id, filter.ToFilter());
    if (!entry.ok()) {
      if (id == "latest") {
        std::cerr << "Ignoring \"latest\", no snapshot matched given filter (Paths:"
                  << GoList(filter.paths) << " Tags:" << GoTagLists(filter.tags)
                  << " Hosts:" << GoList(filter.hosts) << ")\n";
      } else {
        std::cerr << "Ignoring \"" << id << "\": " << entry.status().message() << "\n";
      }
      continue;
    }
    bool dup = false;
    for (const auto& e : list) dup = dup || e.id == entry->id;
    if (!dup) list.push_back(std::move(*entry));
  }
  if (!used_filter && !filter.ToFilter().empty()) {
    std::cerr << "Ignoring filters as there are explicit snapshot ids given\n";
  }
  return list;
}

}  // namespace stash::cli
