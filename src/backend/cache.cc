#include "stash/backend/cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "digest.h"

namespace stash::backend {

namespace {

constexpr const char* kCacheVersion = "1";
constexpr const char* kCachedirTag = "Signature: 8a477f597d28d172789f06886806bc55\n";

// Closes a descriptor at scope end.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return Status::Ok();
  return ErrnoError(errno, "cache: mkdir " + path);
}

Status MakeDirs(const std::string& path) {
  for (size_t at = path.find('/', 1); at != std::string::npos; at = path.find('/', at + 1)) {
    STASH_RETURN_IF_ERROR(MakeDir(path.substr(0, at)));
  }
  return MakeDir(path);
}

Status WriteAll(int fd, std::span<const uint8_t> data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "cache: write " + path);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Creates `path` with `text` unless it exists (restic's CACHEDIR.TAG).
Status WriteIfAbsent(const std::string& path, std::string_view text) {
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (f.fd < 0) return errno == EEXIST ? Status::Ok() : ErrnoError(errno, "cache: create " + path);
  return WriteAll(f.fd, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, path);
}

bool IsCacheDirName(std::string_view n) {
  if (n.size() == 64) {
    for (char c : n) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }
  constexpr std::string_view kCheck = "restic-check-cache-";
  if (n.substr(0, kCheck.size()) != kCheck || n.size() == kCheck.size()) return false;
  for (char c : n.substr(kCheck.size())) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Calls fn(name) for each entry of a directory but "." and "..".
void ForEachEntry(const std::string& dir, const std::function<void(const std::string&)>& fn) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") fn(name);
  }
  ::closedir(d);
}

}  // namespace

Result<std::string> DefaultCacheDir(const std::map<std::string, std::string>& env) {
  auto get = [&](const char* k) -> std::string {
    auto it = env.find(k);
    return it == env.end() ? "" : it->second;
  };
  if (std::string d = get("RESTIC_CACHE_DIR"); !d.empty()) return d;
  if (std::string x = get("XDG_CACHE_HOME"); !x.empty()) return x + "/restic";
  if (std::string h = get("HOME"); !h.empty()) return h + "/.cache/restic";
  return NotFoundError(
      "unable to locate cache directory: neither $XDG_CACHE_HOME nor $HOME are defined (set "
      "--cache-dir or RESTIC_CACHE_DIR, or use --no-cache)");
}

Result<std::vector<std::string>> OldCacheDirs(const std::string& base, SystemTime now,
                                              Duration max_age) {
  std::vector<std::string> old;
  const auto oldest =
      std::chrono::duration_cast<std::chrono::seconds>((now - max_age).time_since_epoch()).count();
  ForEachEntry(base, [&](const std::string& name) {
    struct stat st {};
    if (!IsCacheDirName(name) || ::stat((base + "/" + name).c_str(), &st) != 0) return;
    if (S_ISDIR(st.st_mode) && st.st_mtime < oldest) old.push_back(name);
  });
  return old;
}

Status RemoveTree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::Ok() : ErrnoError(errno, "remove " + path);
  }
  if (S_ISDIR(st.st_mode)) {
    Status first;
    ForEachEntry(path, [&](const std::string& name) {
      Status s = RemoveTree(path + "/" + name);
      if (first.ok() && !s.ok()) first = s;
    });
    STASH_RETURN_IF_ERROR(first);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "remove " + path);
    return Status::Ok();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, "remove " + path);
  return Status::Ok();
}

CacheBackend::CacheBackend(BackendPtr inner) : ForwardingBackend(std::move(inner)) {}

Result<bool> CacheBackend::Attach(const std::string& base, const std::string& repository_id,
                                  SystemTime now) {
  if (repository_id.empty() || repository_id.find('/') != std::string::npos ||
      repository_id.find("..") != std::string::npos) {
    return InvalidError("cache: repository id \"" + repository_id + "\" cannot name a directory");
  }
  STASH_RETURN_IF_ERROR(MakeDirs(base));
  STASH_RETURN_IF_ERROR(WriteIfAbsent(base + "/CACHEDIR.TAG", kCachedirTag));
  const std::string dir = base + "/" + repository_id;
  struct stat st {};
  const bool created = ::lstat(dir.c_str(), &st) != 0;
  STASH_RETURN_IF_ERROR(MakeDir(dir));
  {
    std::string version;
    Fd f{::open((dir + "/version").c_str(), O_RDONLY | O_CLOEXEC)};
    char buf[32];
    ssize_t n = f.fd >= 0 ? ::read(f.fd, buf, sizeof buf) : 0;
    if (n > 0) version.assign(buf, static_cast<size_t>(n));
    if (!version.empty() && std::strtoull(version.c_str(), nullptr, 10) > 1) {
      return FailedPreconditionError("cache " + dir + " has version " + version +
                                     ", newer than this program's 1; use another --cache-dir "
                                     "or --no-cache");
    }
    if (version.empty()) {
      STASH_RETURN_IF_ERROR(WriteIfAbsent(dir + "/version", kCacheVersion));
    }
  }
  for (const char* sub : {"/snapshots", "/index", "/data"}) {
    STASH_RETURN_IF_ERROR(MakeDir(dir + sub));
  }
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(ns / 1000000000);
  times[0].tv_nsec = times[1].tv_nsec = static_cast<long>(ns % 1000000000);
  if (::utimensat(AT_FDCWD, dir.c_str(), times, 0) != 0) {
    return ErrnoError(errno, "cache: touch " + dir);
  }
  dir_ = dir;
  return created;
}

bool CacheBackend::Cacheable(const Handle& h) {
  return h.type == FileType::kSnapshot || h.type == FileType::kIndex ||
         (h.type == FileType::kPack && h.tree_pack);
}

std::string CacheBackend::PathOf(const Handle& h) const { return dir_ + "/" + h.Path(); }

bool CacheBackend::ReadCached(const Handle& h, uint64_t offset, uint64_t length,
                              std::vector<uint8_t>* out) {
  if (dir_.empty() ||
      (h.type != FileType::kSnapshot && h.type != FileType::kIndex && h.type != FileType::kPack)) {
    return false;
  }
  const std::string path = PathOf(h);
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return false;
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return false;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size) return false;
  if (length == 0) length = size - offset;
  if (offset + length > size) return false;
  out->resize(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(f.fd, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  // A whole small file is cheap to check: a copy damaged on this machine
  // (a crash, a full disk) is dropped and read from the store instead.
  if (offset == 0 && length == size && h.type != FileType::kPack &&
      Hex(Sha256(std::span<const uint8_t>(*out))) != h.name) {
    ::unlink(path.c_str());
    return false;
  }
  ++hits_;
  return true;
}

void CacheBackend::WriteCached(const Handle& h, std::span<const uint8_t> data) {
  if (dir_.empty() || Hex(Sha256(data)) != h.name) return;  // only verified copies
  const std::string path = PathOf(h);
  if (h.type == FileType::kPack) MakeDir(path.substr(0, path.rfind('/'))).IgnoreError();
  const std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(tmp_seq_.fetch_add(1));
  Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (f.fd < 0) return;
  // fsync before rename: after a crash the name holds the whole file or
  // nothing, never an empty or short one.
  if (!WriteAll(f.fd, data, tmp).ok() || ::fsync(f.fd) != 0 ||
      ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
  }
}

void CacheBackend::DropCached(const Handle& h) {
  if (!dir_.empty()) ::unlink(PathOf(h).c_str());
}

Status CacheBackend::Fill(const Handle& h, std::vector<uint8_t>* whole, bool* downloaded) {
  const std::string key = h.Path();
  *downloaded = false;
  {
    std::unique_lock lock(mu_);
    if (downloading_.count(key)) {
      cv_.wait(lock, [&] { return !downloading_.count(key); });
      return Status::Ok();  // the other caller's copy is in the cache (or not: caller falls back)
    }
    downloading_.insert(key);
  }
  Status s = inner_->Load(h, 0, 0, whole);
  if (s.ok()) {
    *downloaded = true;
    ++fills_;
    WriteCached(h, *whole);
  }
  {
    std::lock_guard lock(mu_);
    downloading_.erase(key);
  }
  cv_.notify_all();
  return s;
}

Status CacheBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                          std::vector<uint8_t>* out) {
  if (dir_.empty()) return inner_->Load(h, offset, length, out);
  if (ReadCached(h, offset, length, out)) return Status::Ok();
  if (!Cacheable(h)) return inner_->Load(h, offset, length, out);
  std::vector<uint8_t> whole;
  bool downloaded = false;
  STASH_RETURN_IF_ERROR(Fill(h, &whole, &downloaded));
  if (!downloaded) {
    if (ReadCached(h, offset, length, out)) return Status::Ok();
    return inner_->Load(h, offset, length, out);
  }
  if (offset > whole.size() || (length && offset + length > whole.size())) {
    return InvalidError("range " + std::to_string(offset) + "+" + std::to_string(length) +
                        " lies outside " + h.ToString() + " of " + std::to_string(whole.size()) +
                        " bytes");
  }
  if (offset == 0 && (length == 0 || length == whole.size())) {
    *out = std::move(whole);
  } else {
    const uint64_t n = length ? length : whole.size() - offset;
    out->assign(whole.begin() + static_cast<ptrdiff_t>(offset),
                whole.begin() + static_cast<ptrdiff_t>(offset + n));
  }
  return Status::Ok();
}

Result<std::span<uint8_t>> CacheBackend::LoadUncached(const Handle& h, uint64_t offset,
                                                      uint64_t length, std::vector<uint8_t>* buf) {
  if (dir_.empty() || (!Cacheable(h) && h.type != FileType::kPack)) {
    return inner_->LoadUncached(h, offset, length, buf);
  }
  if (!Cacheable(h)) {
    if (ReadCached(h, offset, length, buf)) return std::span<uint8_t>(buf->data(), buf->size());
    return inner_->LoadUncached(h, offset, length, buf);
  }
  STASH_RETURN_IF_ERROR(Load(h, offset, length, buf));
  return std::span<uint8_t>(buf->data(), buf->size());
}

void CacheBackend::Prefetch(const Handle& h, uint64_t offset, uint64_t length) {
  if (!Cacheable(h)) inner_->Prefetch(h, offset, length);
}

Status CacheBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  STASH_RETURN_IF_ERROR(inner_->Save(h, data));
  if (Cacheable(h)) WriteCached(h, data);
  return Status::Ok();
}

Result<FileInfo> CacheBackend::Stat(const Handle& h) {
  auto fi = inner_->Stat(h);
  if (!fi.ok() && fi.status().code() == Code::kNotFound) DropCached(h);
  return fi;
}

Status CacheBackend::Remove(const Handle& h) {
  Status s = inner_->Remove(h);
  if (s.ok() || s.code() == Code::kNotFound) DropCached(h);
  return s;
}

Status CacheBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  if (dir_.empty() || (t != FileType::kSnapshot && t != FileType::kIndex)) {
    return inner_->List(t, fn);
  }
  std::unordered_set<std::string> listed;
  STASH_RETURN_IF_ERROR(inner_->List(t, [&](const FileInfo& fi) {
    listed.insert(fi.name);
    return fn(fi);
  }));
  DropUnlisted(t, listed);
  return Status::Ok();
}

void CacheBackend::DropUnlisted(FileType t, const std::unordered_set<std::string>& listed) {
  const std::string sub = dir_ + "/" + std::string(FileTypeDir(t));
  ForEachEntry(sub, [&](const std::string& name) {
    // Temporary files of a concurrent writer are left to it.
    if (name.size() == 64 && !listed.count(name)) ::unlink((sub + "/" + name).c_str());
  });
}

void CacheBackend::KeepOnlyPacks(const std::unordered_set<std::string>& tree_packs) {
  if (dir_.empty()) return;
  const std::string data = dir_ + "/data";
  ForEachEntry(data, [&](const std::string& prefix) {
    const std::string sub = data + "/" + prefix;
    ForEachEntry(sub, [&](const std::string& name) {
      if (name.size() == 64 && !tree_packs.count(name)) ::unlink((sub + "/" + name).c_str());
    });
  });
}

}  // namespace stash::backend
