// MarkAllCloseOnExec: sets FD_CLOEXEC on every open descriptor above stderr.
//
// For descriptors a library opens without O_CLOEXEC and offers no hook for
// (libcurl 7.88's per-handle wake-up socket pairs): a program that runs
// child processes calls it after such a library opened them, so its
// connections and files never leak into a child. (The embedded node's
// children also close every inherited descriptor above 2 before exec.)
//
// Thread-safety: safe from any thread; setting the flag on a descriptor
// another thread is using changes nothing for that thread.
#pragma once

#include <dirent.h>
#include <fcntl.h>

#include <cstdlib>

namespace stash {

inline void MarkAllCloseOnExec() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  const int own = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    if (fd <= 2 || fd == own) continue;
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  ::closedir(dir);
}

}  // namespace stash
