// Lock: the document in locks/<id> that marks a repository as in use.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stash/core/result.h"
#include "stash/format/time.h"

namespace stash::format {

struct Lock {
  Timestamp time;  // refreshed every 5 minutes; stale after 30
  bool exclusive = false;
  std::string hostname;
  std::string username;
  int64_t pid = 0;
  uint32_t uid = 0;  // omitted when 0
  uint32_t gid = 0;
  friend bool operator==(const Lock&, const Lock&) = default;
};

// {"time":..,"exclusive":..,"hostname":..,"username":..,"pid":..,"uid"?,"gid"?}
std::string EncodeLock(const Lock& lock);
Result<Lock> DecodeLock(std::string_view json);

}  // namespace stash::format
