// Private to engine: reading restic's `--json` messages (the backup's
// "status" lines and its "summary"), shared by ParseStatusJson (progress.cc)
// and ParseBackupSummaryJson (backup_summary.cc), which read a restic binary's
// output.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

namespace stash::engine {

// `line` as the JSON object of restic message type `type`; nullopt for any
// other line (another type, text, a broken line).
inline std::optional<nlohmann::json> ResticMessage(std::string_view line, std::string_view type) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto t = j.find("message_type");
  if (t == j.end() || !t->is_string() || t->get<std::string>() != type) return std::nullopt;
  return j;
}

// Each field of `m` named in `fields` that holds an unsigned number into its
// target; a missing or mistyped field leaves its target as it was (restic
// omits zero counters).
inline void ReadCounters(const nlohmann::json& m,
                         std::initializer_list<std::pair<const char*, uint64_t*>> fields) {
  for (const auto& [key, out] : fields) {
    auto it = m.find(key);
    if (it != m.end() && it->is_number_unsigned()) *out = it->get<uint64_t>();
  }
}

}  // namespace stash::engine
