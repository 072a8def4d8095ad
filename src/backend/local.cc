#include "stash/backend/local.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "stash/core/id.h"

namespace stash::backend {
namespace {

constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;
// restic's rule: a group-readable config makes the whole repository group
// accessible (shared repositories), with the same read-only finish.
constexpr mode_t kGroupDirMode = 0770;
constexpr mode_t kGroupFileMode = 0660;

std::string DirName(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos ? "." : path.substr(0, pos == 0 ? 1 : pos);
}

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status MkdirIfMissing(const std::string& path, mode_t mode = kDirMode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return Status::Ok();
  return ErrnoError(errno, "creating directory " + path);
}

Status MkdirAll(const std::string& path, mode_t mode = kDirMode) {
  if (path.empty()) return Status::Ok();
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos == path.size() || path[pos] == '/') {
      STASH_RETURN_IF_ERROR(MkdirIfMissing(path.substr(0, pos), mode));
    }
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd < 0) return ErrnoError(errno, "opening directory " + dir);
  // Some file systems (e.g. certain FUSE mounts) refuse fsync on directories;
  // restic ignores EINVAL/ENOTSUP there too.
  if (::fsync(d.fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    return ErrnoError(errno, "syncing directory " + dir);
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::span<const uint8_t> data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "writing " + path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Direct writes need offsets, lengths and memory aligned to the device's
// logical block; 4 KiB covers 512-byte and 4Kn devices alike. Below the
// minimum a direct write saves less than it costs.
constexpr uint64_t kDirectAlign = 4096;
constexpr uint64_t kDirectMin = 1 << 20;

// Writes `data` at offset 0 of the new file `fd`. A large pack whose memory is
// page-aligned goes to the disk past the page cache (O_DIRECT) but for its
// unaligned tail: copying it into the cache was a fifth of a backup's CPU, and
// the fsync that follows waits for the same disk writes either way. File
// systems without direct I/O refuse the flag or the first write; then, and
// for everything else, the ordinary write.
Status WriteMaybeDirect(int fd, bool pack, std::span<const uint8_t> data, const std::string& path) {
  const int flags = ::fcntl(fd, F_GETFL);
  const bool direct = pack && data.size() >= kDirectMin &&
                      reinterpret_cast<uintptr_t>(data.data()) % kDirectAlign == 0 &&
                      ::fcntl(fd, F_SETFL, flags | O_DIRECT) == 0;
  size_t done = 0;
  if (direct) {
    const size_t head = data.size() & ~(kDirectAlign - 1);
    while (done < head) {
      ssize_t n = ::pwrite(fd, data.data() + done, head - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL && done == 0) break;  // no direct I/O here after all
      if (n < 0) return ErrnoError(errno, "writing " + path);
      // A short direct write may end off the block grid: the rest goes buffered.
      done += static_cast<size_t>(n);
      if (done % kDirectAlign != 0) break;
    }
    ::fcntl(fd, F_SETFL, flags);
  }
  if (done > 0 && ::lseek(fd, static_cast<off_t>(done), SEEK_SET) < 0) {
    return ErrnoError(errno, "seeking in " + path);
  }
  return WriteAll(fd, data.subspan(done), path);
}

// Renames without replacing an existing target. renameat2(RENAME_NOREPLACE)
// where the file system supports it; otherwise link+unlink, which gives the
// same guarantee.
Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  int err = errno;
  if (err == EINVAL || err == ENOSYS || err == ENOTSUP) {
    if (::link(from.c_str(), to.c_str()) == 0) {
      ::unlink(from.c_str());
      return Status::Ok();
    }
    err = errno;
  }
  if (err == EEXIST)
    return AlreadyExistsError(to + " already exists; repository files are never overwritten");
  return ErrnoError(err, "renaming " + from + " to " + to);
}

// Writes `data` into an unnamed file in `dir` (O_TMPFILE) and links it in as
// `path`, so a process killed before the link leaves nothing behind. kUnsupported
// when the file system cannot (the caller then writes a named temporary file).
Status SaveUnnamed(const std::string& dir, const std::string& path, mode_t mode, FileType type,
                   std::span<const uint8_t> data) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
      return UnsupportedError("O_TMPFILE in " + dir);
    }
    return ErrnoError(errno, "creating a file in " + dir);
  }
  Fd file(fd);
  STASH_RETURN_IF_ERROR(WriteMaybeDirect(fd, type == FileType::kPack, data, path));
  if (::fsync(fd) != 0) return ErrnoError(errno, "syncing " + path);
  if (type == FileType::kPack) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (::fchmod(fd, mode & ~0222) != 0) return ErrnoError(errno, "chmod " + path);
  // linkat of /proc/self/fd/N needs no privilege (AT_EMPTY_PATH would) and
  // never replaces an existing file.
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    if (errno == EEXIST) {
      return AlreadyExistsError(path + " already exists; repository files are never overwritten");
    }
    if (errno == ENOENT && ::access("/proc/self/fd", F_OK) != 0) {
      return UnsupportedError("linking an O_TMPFILE file without /proc");
    }
    return ErrnoError(errno, "linking " + path);
  }
  return FsyncDir(dir);
}

}  // namespace

LocalBackend::LocalBackend(std::string root, int connections)
    : root_(std::move(root)), connections_(connections > 0 ? connections : 2) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status LocalBackend::Create() {
  STASH_RETURN_IF_ERROR(MkdirAll(root_));
  for (FileType t :
       {FileType::kKey, FileType::kSnapshot, FileType::kIndex, FileType::kLock, FileType::kPack}) {
    STASH_RETURN_IF_ERROR(MkdirIfMissing(root_ + "/" + std::string(FileTypeDir(t))));
  }
  const std::string data = root_ + "/data/";
  for (int i = 0; i < 256; ++i) {
    uint8_t b = static_cast<uint8_t>(i);
    STASH_RETURN_IF_ERROR(MkdirIfMissing(data + HexEncode(&b, 1)));
  }
  return Status::Ok();
}

bool LocalBackend::GroupAccessible() const {
  struct stat st;
  return ::stat((root_ + "/config").c_str(), &st) == 0 && (st.st_mode & S_IRGRP);
}

Status LocalBackend::Save(const Handle& h, std::span<const uint8_t> data) {
  const std::string path = PathOf(h);
  const bool group = h.type != FileType::kConfig && GroupAccessible();
  const mode_t file_mode = group ? kGroupFileMode : kFileMode;
  const std::string dir = DirName(path);
  Status unnamed = SaveUnnamed(dir, path, file_mode, h.type, data);
  if (!unnamed.ok() && unnamed.code() == Code::kNotFound) {
    // A repository created by another tool may lack data/xx directories.
    STASH_RETURN_IF_ERROR(MkdirAll(dir, group ? kGroupDirMode : kDirMode));
    unnamed = SaveUnnamed(dir, path, file_mode, h.type, data);
  }
  if (unnamed.code() != Code::kUnsupported) return unnamed;
  std::string tmpl = path + "-tmp-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0 && errno == ENOENT) {
    // A repository created by another tool may lack data/xx directories.
    STASH_RETURN_IF_ERROR(MkdirAll(dir, group ? kGroupDirMode : kDirMode));
    tmpl = path + "-tmp-XXXXXX";
    fd = ::mkstemp(tmpl.data());
  }
  if (fd < 0) return ErrnoError(errno, "creating temporary file for " + path);
  Fd file(fd);
  auto fail = [&](Status s) {
    ::unlink(tmpl.c_str());
    return s;
  };
  if (::fchmod(fd, file_mode) != 0) return fail(ErrnoError(errno, "chmod " + tmpl));
  if (Status s = WriteMaybeDirect(fd, h.type == FileType::kPack, data, tmpl); !s.ok()) {
    return fail(s);
  }
  if (::fsync(fd) != 0) return fail(ErrnoError(errno, "syncing " + tmpl));
  // A pack is not read again soon, and keeping it cached makes the kernel
  // take fresh pages for every pack (the dominant cost of a backup on VMs);
  // dropping the clean pages lets the next pack reuse them.
  if (h.type == FileType::kPack) ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  // Read-only like restic: a stray write to a finished file is a bug.
  if (::fchmod(fd, file_mode & ~0222) != 0) return fail(ErrnoError(errno, "chmod " + tmpl));
  if (Status s = RenameNoReplace(tmpl, path); !s.ok()) return fail(s);
  return FsyncDir(dir);
}

namespace {

// Direct reads use kDirectAlign and kDirectMin too: below the minimum, small
// neighbouring ranges profit from the kernel's read-ahead.

// Opens `path` for reading [offset, offset + *length) and checks that the
// range lies in the file; a *length of 0 becomes "to the end".
Status OpenRange(const std::string& path, uint64_t offset, uint64_t* length, Fd* f) {
  f->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd < 0) return ErrnoError(errno, "opening " + path);
  struct stat st;
  if (::fstat(f->fd, &st) != 0) return ErrnoError(errno, "stat " + path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size || (*length > 0 && offset + *length > size)) {
    return InvalidError("range " + std::to_string(offset) + "+" + std::to_string(*length) +
                        " lies outside " + path + " (" + std::to_string(size) + " bytes)");
  }
  if (*length == 0) *length = size - offset;
  return Status::Ok();
}

// Reads exactly `length` bytes at `offset` into `dst` with ordinary reads.
Status PreadFully(int fd, const std::string& path, uint8_t* dst, uint64_t length, uint64_t offset) {
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, dst + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "reading " + path);
    }
    if (n == 0) return DataLossError(path + " shrank while being read");
    done += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// Whether the page holding `offset` is in the page cache: then a buffered
// read is a memory copy, while a direct one would go to the disk. mincore()
// asks without starting any I/O.
bool PageCached(int fd, uint64_t offset) {
  const long page = ::sysconf(_SC_PAGESIZE);
  const off_t at = static_cast<off_t>(offset) & ~static_cast<off_t>(page - 1);
  void* map = ::mmap(nullptr, static_cast<size_t>(page), PROT_READ, MAP_SHARED, fd, at);
  if (map == MAP_FAILED) return true;  // cannot tell: the ordinary read is always right
  unsigned char resident = 0;
  bool cached = ::mincore(map, static_cast<size_t>(page), &resident) != 0 || (resident & 1) != 0;
  ::munmap(map, static_cast<size_t>(page));
  return cached;
}

}  // namespace

Status LocalBackend::Load(const Handle& h, uint64_t offset, uint64_t length,
                          std::vector<uint8_t>* out) {
  const std::string path = PathOf(h);
  Fd f(-1);
  STASH_RETURN_IF_ERROR(OpenRange(path, offset, &length, &f));
  out->resize(length);
  return PreadFully(f.fd, path, out->data(), length, offset);
}

Result<std::span<uint8_t>> LocalBackend::LoadUncached(const Handle& h, uint64_t offset,
                                                      uint64_t length, std::vector<uint8_t>* buf) {
  const std::string path = PathOf(h);
  Fd f(-1);
  STASH_RETURN_IF_ERROR(OpenRange(path, offset, &length, &f));
  // File systems without direct I/O (some FUSE and network ones) refuse the flag.
  const int flags = ::fcntl(f.fd, F_GETFL);
  const bool direct = length >= kDirectMin && !PageCached(f.fd, offset) &&
                      ::fcntl(f.fd, F_SETFL, flags | O_DIRECT) == 0;
  auto buffered = [&]() -> Result<std::span<uint8_t>> {
    if (direct) ::fcntl(f.fd, F_SETFL, flags);  // a direct read was refused after all
    buf->resize(length);
    STASH_RETURN_IF_ERROR(PreadFully(f.fd, path, buf->data(), length, offset));
    return std::span<uint8_t>(buf->data(), length);
  };
  if (!direct) return buffered();
  const uint64_t start = offset & ~(kDirectAlign - 1);
  const uint64_t want = offset + length - start;  // bytes needed from `start`
  const uint64_t span_len = (want + kDirectAlign - 1) & ~(kDirectAlign - 1);
  if (buf->size() < span_len + kDirectAlign) buf->resize(span_len + kDirectAlign);
  const auto base = reinterpret_cast<uintptr_t>(buf->data());
  uint8_t* at = buf->data() + ((kDirectAlign - base % kDirectAlign) % kDirectAlign);
  uint64_t done = 0;
  while (done < want) {
    ssize_t n = ::pread(f.fd, at + done, span_len - done, static_cast<off_t>(start + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      // A device with blocks larger than kDirectAlign: read it the ordinary way.
      if (errno == EINVAL && done == 0) return buffered();
      return ErrnoError(errno, "reading " + path);
    }
    if (n == 0) return DataLossError(path + " shrank while being read");
    done += static_cast<uint64_t>(n);
  }
  return std::span<uint8_t>(at + (offset - start), length);
}

void LocalBackend::Prefetch(const Handle& h, uint64_t offset, uint64_t length) {
  Fd f(::open(PathOf(h).c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return;  // the Load reports it
  ::posix_fadvise(f.fd, static_cast<off_t>(offset), static_cast<off_t>(length),
                  POSIX_FADV_WILLNEED);
}

Result<FileInfo> LocalBackend::Stat(const Handle& h) {
  const std::string path = PathOf(h);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(errno, "stat " + path);
  return FileInfo{h.name, static_cast<uint64_t>(st.st_size)};
}

Status LocalBackend::ListDir(const std::string& dir,
                             const std::function<Status(const FileInfo&)>& fn) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) return Status::Ok();  // nothing of this type yet
    return ErrnoError(errno, "listing " + dir);
  }
  // Collect first so fn may remove files while we iterate.
  std::vector<FileInfo> files;
  errno = 0;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name.find("-tmp-") != std::string::npos) continue;
    struct stat st;
    if (::fstatat(::dirfd(d.get()), e->d_name, &st, 0) != 0) {
      if (errno == ENOENT) continue;  // removed concurrently
      return ErrnoError(errno, "stat " + dir + "/" + name);
    }
    if (!S_ISREG(st.st_mode)) continue;
    files.push_back(FileInfo{std::move(name), static_cast<uint64_t>(st.st_size)});
  }
  for (const FileInfo& fi : files) STASH_RETURN_IF_ERROR(fn(fi));
  return Status::Ok();
}

Status LocalBackend::List(FileType t, const std::function<Status(const FileInfo&)>& fn) {
  if (t == FileType::kConfig) {
    auto st = Stat(Handle{FileType::kConfig, "config"});
    if (!st.ok()) return st.status().code() == Code::kNotFound ? Status::Ok() : st.status();
    return fn(*st);
  }
  const std::string dir = root_ + "/" + std::string(FileTypeDir(t));
  if (t != FileType::kPack) return ListDir(dir, fn);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return errno == ENOENT ? Status::Ok() : ErrnoError(errno, "listing " + dir);
  std::vector<std::string> subdirs;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name.size() == 2 && name != "..") subdirs.push_back(std::move(name));
  }
  for (const std::string& sub : subdirs) STASH_RETURN_IF_ERROR(ListDir(dir + "/" + sub, fn));
  return Status::Ok();
}

Result<int> LocalBackend::RemoveTemporaryFiles() {
  std::vector<std::string> dirs = {root_};
  for (FileType t : {FileType::kKey, FileType::kSnapshot, FileType::kIndex, FileType::kLock}) {
    dirs.push_back(root_ + "/" + std::string(FileTypeDir(t)));
  }
  for (int i = 0; i < 256; ++i) {
    uint8_t b = static_cast<uint8_t>(i);
    dirs.push_back(root_ + "/data/" + HexEncode(&b, 1));
  }
  int removed = 0;
  for (const std::string& dir : dirs) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) continue;
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d.get())) {
      std::string name = e->d_name;
      if (name.find("-tmp-") != std::string::npos) names.push_back(std::move(name));
    }
    for (const std::string& name : names) {
      const std::string path = dir + "/" + name;
      if (::unlink(path.c_str()) == 0) {
        ++removed;
      } else if (errno != ENOENT) {
        return ErrnoError(errno, "removing temporary file " + path);
      }
    }
  }
  return removed;
}

Status LocalBackend::Remove(const Handle& h) {
  const std::string path = PathOf(h);
  if (::unlink(path.c_str()) != 0) return ErrnoError(errno, "removing " + path);
  return Status::Ok();
}

}  // namespace stash::backend
