#include "stash/engine/path_map.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "backup_fs.h"
#include "stash/engine/filter.h"

namespace stash::engine {

Result<PathMap> PathMap::Parse(const std::string& text) {
  PathMap m;
  if (text.empty()) return m;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) {
    return InvalidError(std::string(kPathMapEnv) +
                        " is not a JSON object of container path → host directory");
  }
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string() || v.get<std::string>().empty()) {
      return InvalidError(std::string(kPathMapEnv) + ": \"" + k + "\" does not map to a host path");
    }
    if (k.empty() || k[0] != '/') {
      return InvalidError(std::string(kPathMapEnv) + ": container path \"" + k +
                          "\" is not absolute");
    }
    m.Add(k, v.get<std::string>());
  }
  return m;
}

Result<PathMap> PathMap::FromEnvironment() {
  const char* v = std::getenv(kPathMapEnv);
  return Parse(v ? v : "");
}

void PathMap::Add(std::string container_path, std::string host_path) {
  mounts_.emplace_back(GoPathClean(container_path), std::move(host_path));
}

const std::pair<std::string, std::string>* PathMap::Longest(const std::string& path) const {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& m : mounts_) {
    const std::string& c = m.first;
    bool under = path == c || (path.size() > c.size() && path.compare(0, c.size(), c) == 0 &&
                               (c == "/" || path[c.size()] == '/'));
    if (under && (!best || c.size() > best->first.size())) best = &m;
  }
  return best;
}

std::string PathMap::ToHost(const std::string& path) const {
  const auto* best = Longest(path);
  if (!best) return path;
  std::string rest = path.substr(best->first == "/" ? 0 : best->first.size());
  std::string host = best->second;
  if (rest.empty() || rest == "/") return host;
  while (!host.empty() && host.back() == '/') host.pop_back();
  return host + (rest[0] == '/' ? "" : "/") + rest;
}

std::string PathMap::TargetOnHost(const std::string& path) const {
  return empty() ? path : ToHost(AbsolutePath(path));
}

bool PathMap::Covers(const std::string& path) const { return Longest(path) != nullptr; }

bool PathMap::HasMountBelow(const std::string& dir) const {
  std::string prefix = dir == "/" ? "/" : dir + "/";
  return std::any_of(mounts_.begin(), mounts_.end(), [&](const auto& m) {
    return m.first.size() > prefix.size() && m.first.compare(0, prefix.size(), prefix) == 0;
  });
}

std::vector<std::pair<std::string, std::string>> PathMap::MountsIn(const std::string& dir) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string prefix = dir == "/" ? "/" : dir + "/";
  for (const auto& [c, h] : mounts_) {
    if (c.size() <= prefix.size() || c.compare(0, prefix.size(), prefix) != 0) continue;
    std::string name = c.substr(prefix.size());
    if (name.find('/') == std::string::npos) out.emplace_back(std::move(name), h);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string PathMap::Serialize() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [c, h] : mounts_) j[c] = h;
  return j.dump();
}

}  // namespace stash::engine
