#include "util.h"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace stash::kube {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return ErrnoError(errno, "reading " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace stash::kube
