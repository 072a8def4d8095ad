#include "cmd_backup_sources.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <sstream>

#include "stash/engine/filter.h"

namespace stash::cli {

namespace {

Result<std::string> ReadAll(const std::string& file) {
  if (file == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return ErrnoError(errno, "open " + file);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // textfile.Read drops a UTF-8 byte order mark.
  if (data.rfind("\xEF\xBB\xBF", 0) == 0) data.erase(0, 3);
  return data;
}

// bufio.Scanner's lines: split on \n, a trailing \r dropped, no last empty line.
std::vector<std::string> Lines(const std::string& data) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    std::string line = data.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    pos = end + 1;
  }
  return out;
}

std::string TrimSpace(std::string_view s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

bool HasMeta(std::string_view p) { return p.find_first_of("*?[\\") != std::string_view::npos; }

bool IsShellSpecial(char c) {
  return std::strchr("*#$@!?-", c) != nullptr || (c >= '0' && c <= '9');
}

bool IsAlnum(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Go's getShellName: the variable name after '$' and how many bytes it took.
std::pair<std::string, size_t> ShellName(std::string_view s) {
  if (s.empty()) return {"", 0};
  if (s[0] == '{') {
    if (s.size() > 2 && IsShellSpecial(s[1]) && s[2] == '}')
      return {std::string(s.substr(1, 1)), 3};
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '}') {
        if (i == 1) return {"", 2};
        return {std::string(s.substr(1, i - 1)), i + 1};
      }
    }
    return {"", 1};
  }
  if (IsShellSpecial(s[0])) return {std::string(s.substr(0, 1)), 1};
  size_t i = 0;
  while (i < s.size() && IsAlnum(s[i])) ++i;
  return {std::string(s.substr(0, i)), i};
}

// glob(dir, pattern) of Go's filepath: the matching names of one directory.
Status GlobDir(const std::string& dir, const std::string& pattern, std::vector<std::string>* out) {
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Status::Ok();
  auto bad = engine::GoPathMatch(pattern, "");
  if (!bad.ok()) return bad.status();
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    auto m = engine::GoPathMatch(pattern, n);
    if (!m.ok()) return m.status();
    if (*m) out->push_back(engine::GoPathClean(dir + "/" + n));
  }
  return Status::Ok();
}

}  // namespace

std::string ExpandEnv(std::string_view s) {
  std::string buf;
  size_t i = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    if (s[j] != '$' || j + 1 >= s.size()) continue;
    buf.append(s.substr(i, j - i));
    auto [name, w] = ShellName(s.substr(j + 1));
    if (name.empty() && w > 0) {
      // Invalid syntax: Go eats it.
    } else if (name.empty()) {
      buf += s[j];
    } else if (name == "$") {
      buf += '$';
    } else if (const char* v = std::getenv(name.c_str())) {
      buf += v;
    }
    j += w;
    i = j + 1;
  }
  buf.append(s.substr(std::min(i, s.size())));
  return buf;
}

Result<std::vector<std::string>> GoGlob(const std::string& pattern) {
  std::vector<std::string> out;
  if (!HasMeta(pattern)) {
    struct stat st {};
    if (lstat(pattern.c_str(), &st) == 0) out.push_back(pattern);
    return out;
  }
  size_t slash = pattern.rfind('/');
  std::string dir = slash == std::string::npos ? "" : pattern.substr(0, slash + 1);
  std::string file = slash == std::string::npos ? pattern : pattern.substr(slash + 1);
  if (dir.empty()) {
    dir = ".";
  } else if (dir != "/") {
    dir.pop_back();
  }
  if (!HasMeta(dir)) {
    STASH_RETURN_IF_ERROR(GlobDir(dir, file, &out));
    if (dir == ".") {
      for (std::string& m : out) m = engine::GoPathClean(m);
    }
    return out;
  }
  STASH_ASSIGN_OR_RETURN(std::vector<std::string> dirs, GoGlob(dir));
  for (const std::string& d : dirs) STASH_RETURN_IF_ERROR(GlobDir(d, file, &out));
  return out;
}

Result<std::vector<std::string>> CollectTargets(
    const TargetSources& src, const std::vector<std::string>& args,
    const std::function<void(const std::string&)>& warn) {
  std::vector<std::string> targets;
  for (const std::string& file : src.files_from) {
    STASH_ASSIGN_OR_RETURN(std::string data, ReadAll(file));
    for (const std::string& raw : Lines(data)) {
      std::string line = TrimSpace(raw);
      if (line.empty() || line[0] == '#') continue;
      auto expanded = GoGlob(line);
      if (!expanded.ok()) return InvalidError("pattern: " + line + ": syntax error in pattern");
      if (expanded->empty()) warn("pattern \"" + line + "\" does not match any files, skipping");
      targets.insert(targets.end(), expanded->begin(), expanded->end());
    }
  }
  for (const std::string& file : src.files_from_verbatim) {
    STASH_ASSIGN_OR_RETURN(std::string data, ReadAll(file));
    for (std::string& line : Lines(data)) {
      if (!line.empty()) targets.push_back(std::move(line));
    }
  }
  for (const std::string& file : src.files_from_raw) {
    STASH_ASSIGN_OR_RETURN(std::string data, ReadAll(file));
    size_t pos = 0;
    while (pos < data.size()) {
      size_t end = data.find('\0', pos);
      if (end == std::string::npos) {
        return InvalidError("--files-from-raw: trailing zero byte missing");
      }
      if (end == pos) return InvalidError("--files-from-raw: empty filename in listing");
      targets.push_back(data.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  targets.insert(targets.end(), args.begin(), args.end());
  return targets;
}

Result<std::vector<std::string>> ReadExcludeFiles(const std::vector<std::string>& files) {
  std::vector<std::string> out;
  for (const std::string& file : files) {
    STASH_ASSIGN_OR_RETURN(std::string data, ReadAll(file));
    for (const std::string& raw : Lines(data)) {
      std::string line = TrimSpace(raw);
      if (line.empty() || line[0] == '#') continue;
      out.push_back(ExpandEnv(line));
    }
  }
  return out;
}

}  // namespace stash::cli
