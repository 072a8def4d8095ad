// Kubernetes strategic merge patch for the built-in kinds.
//
// The apiserver reads each list's patch strategy from Go struct tags
// (patchStrategy/patchMergeKey); we keep the table of the lists that matter
// for the kinds this server stores (pods and the workload templates, services,
// metadata, status conditions).
#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "stash/api/patch.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

struct ListStrategy {
  std::string merge_key;  // empty: a list of scalars merged as a set
};

std::optional<ListStrategy> StrategyFor(std::string_view kind,
                                        const std::vector<std::string>& parents,
                                        std::string_view field) {
  const std::string_view parent = parents.empty() ? std::string_view() : parents.back();
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "volumes" || field == "env" || field == "imagePullSecrets" ||
      field == "resourceClaims" || field == "schedulingGates") {
    return ListStrategy{"name"};
  }
  if (field == "volumeMounts") return ListStrategy{"mountPath"};
  if (field == "volumeDevices") return ListStrategy{"devicePath"};
  if (field == "hostAliases") return ListStrategy{"ip"};
  if (field == "topologySpreadConstraints") return ListStrategy{"topologyKey"};
  if (field == "ports") {
    if (kind == "Service" && parents.size() == 1 && parent == "spec") return ListStrategy{"port"};
    return ListStrategy{"containerPort"};
  }
  if (field == "conditions" && parent == "status") return ListStrategy{"type"};
  if (field == "addresses" && kind == "Node") return ListStrategy{"type"};
  if (field == "secrets" && kind == "ServiceAccount") return ListStrategy{"name"};
  if (parent == "metadata" && parents.size() == 1) {
    if (field == "ownerReferences") return ListStrategy{"uid"};
    if (field == "finalizers") return ListStrategy{""};
  }
  return std::nullopt;
}

constexpr std::string_view kPatchDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetElementOrder = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

class Merger {
 public:
  explicit Merger(std::string_view kind) : kind_(kind) {}

  // Merges patch map into target; nullopt means "$patch: delete".
  Result<std::optional<json>> MergeMap(const json& target, const json& patch,
                                       std::vector<std::string>& parents) {
    if (auto it = patch.find(kPatchDirective); it != patch.end()) {
      std::string directive = it->is_string() ? it->get<std::string>() : "";
      if (directive == "delete") return std::optional<json>();
      if (directive == "replace") {
        json stripped = patch;
        stripped.erase(std::string(kPatchDirective));
        STASH_ASSIGN_OR_RETURN(auto clean, MergeMap(json::object(), stripped, parents));
        return clean;
      }
      if (directive != "merge") {
        return InvalidError("strategic merge patch: unknown $patch directive \"" + it->dump() +
                            "\" (want replace, delete or merge)");
      }
    }
    json result = target.is_object() ? target : json::object();
    std::vector<std::pair<std::string, json>> orders;
    for (const auto& [key, value] : patch.items()) {
      if (key == kPatchDirective || key == kRetainKeys) continue;
      if (key.rfind(kSetElementOrder, 0) == 0) {
        orders.emplace_back(key.substr(kSetElementOrder.size()), value);
        continue;
      }
      if (key.rfind(kDeleteFromPrimitiveList, 0) == 0) {
        std::string field = key.substr(kDeleteFromPrimitiveList.size());
        auto it = result.find(field);
        if (it != result.end() && it->is_array() && value.is_array()) {
          // Hashed: a patch and a list of 100,000 entries each must not
          // cost 10^10 comparisons.
          const std::unordered_set<json> drop(value.begin(), value.end());
          json kept = json::array();
          for (const auto& item : *it) {
            if (!drop.count(item)) kept.push_back(item);
          }
          *it = std::move(kept);
        }
        continue;
      }
      if (value.is_null()) {
        result.erase(key);
        continue;
      }
      auto existing = result.find(key);
      const json& current = existing == result.end() ? json() : *existing;
      parents.push_back(key);
      Result<std::optional<json>> merged = MergeField(current, value, parents, key);
      parents.pop_back();
      if (!merged.ok()) return merged.status();
      if (merged->has_value()) {
        result[key] = std::move(**merged);
      } else {
        result.erase(key);
      }
    }
    for (const auto& [field, order] : orders) ApplyOrder(result, field, order, parents);
    if (auto it = patch.find(kRetainKeys); it != patch.end() && it->is_array()) {
      const std::unordered_set<json> retain(it->begin(), it->end());
      for (auto item = result.begin(); item != result.end();) {
        if (!retain.count(json(item.key()))) {
          item = result.erase(item);
        } else {
          ++item;
        }
      }
    }
    return std::optional<json>(std::move(result));
  }

 private:
  Result<std::optional<json>> MergeField(const json& current, const json& value,
                                         std::vector<std::string>& parents,
                                         const std::string& key) {
    if (value.is_object()) return MergeMap(current, value, parents);
    if (!value.is_array()) return std::optional<json>(value);
    std::vector<std::string> outer(parents.begin(), parents.end() - 1);
    std::optional<ListStrategy> strategy = StrategyFor(kind_, outer, key);
    const json base = current.is_array() ? current : json::array();
    if (!strategy) return ReplaceList(value, parents);
    if (strategy->merge_key.empty()) return std::optional<json>(MergeScalars(base, value));
    return MergeKeyedList(base, value, strategy->merge_key, parents);
  }

  // A list without a merge strategy is replaced; its maps may still carry
  // directives that must not be stored.
  Result<std::optional<json>> ReplaceList(const json& value, std::vector<std::string>& parents) {
    json out = json::array();
    for (const auto& item : value) {
      if (!item.is_object()) {
        out.push_back(item);
        continue;
      }
      if (item.size() == 1 && item.contains(kPatchDirective)) continue;
      STASH_ASSIGN_OR_RETURN(auto clean, MergeMap(json::object(), item, parents));
      if (clean) out.push_back(std::move(*clean));
    }
    return std::optional<json>(std::move(out));
  }

  static json MergeScalars(const json& base, const json& value) {
    json out = base;
    std::unordered_set<json> seen(out.begin(), out.end());
    for (const auto& item : value) {
      if (item.is_object()) continue;  // a stray directive
      if (seen.insert(item).second) out.push_back(item);
    }
    return out;
  }

  Result<std::optional<json>> MergeKeyedList(const json& base, const json& value,
                                             const std::string& merge_key,
                                             std::vector<std::string>& parents) {
    for (const auto& item : value) {
      if (item.is_object() && item.value(std::string(kPatchDirective), json()) == "replace") {
        json rest = json::array();
        for (const auto& other : value) {
          if (&other != &item) rest.push_back(other);
        }
        return ReplaceList(rest, parents);
      }
    }
    // The base's elements by merge key (the first of duplicates), so each
    // patch element finds its match without a scan.
    std::vector<json> items(base.begin(), base.end());
    std::vector<bool> alive(items.size(), true);
    std::unordered_map<json, size_t> index;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].is_object() && items[i].contains(merge_key)) {
        index.emplace(items[i].at(merge_key), i);
      }
    }
    for (const auto& item : value) {
      if (!item.is_object()) {
        return InvalidError("strategic merge patch: list \"" + parents.back() + "\" merges by \"" +
                            merge_key + "\", but an element is a " + item.type_name() + ": " +
                            item.dump());
      }
      auto key_it = item.find(merge_key);
      if (key_it == item.end()) {
        return InvalidError("strategic merge patch: map " + item.dump() +
                            " does not contain declared merge key: " + merge_key);
      }
      auto match = index.find(*key_it);
      STASH_ASSIGN_OR_RETURN(
          auto merged,
          MergeMap(match == index.end() ? json::object() : items[match->second], item, parents));
      if (match == index.end()) {
        if (merged) {
          index.emplace(*key_it, items.size());
          items.push_back(std::move(*merged));
          alive.push_back(true);
        }
      } else if (merged) {
        items[match->second] = std::move(*merged);
      } else {
        // Deleted: a later duplicate with the same key becomes the match.
        size_t i = match->second;
        alive[i] = false;
        index.erase(match);
        for (size_t j = i + 1; j < items.size(); ++j) {
          if (alive[j] && items[j].is_object() && items[j].contains(merge_key) &&
              items[j].at(merge_key) == *key_it) {
            index.emplace(*key_it, j);
            break;
          }
        }
      }
    }
    json out = json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      if (alive[i]) out.push_back(std::move(items[i]));
    }
    return std::optional<json>(std::move(out));
  }

  // $setElementOrder/<field>: the patch author's order of the list. Listed
  // elements come first in that order; the server's other elements follow in
  // their existing order.
  void ApplyOrder(json& result, const std::string& field, const json& order,
                  const std::vector<std::string>& parents) {
    auto it = result.find(field);
    if (it == result.end() || !it->is_array() || !order.is_array()) return;
    std::optional<ListStrategy> strategy = StrategyFor(kind_, parents, field);
    // Elements by identity (merge key value, or the whole element), each
    // with its unused positions, first first.
    // (A keyed list's scalar elements, if any, match by equality.)
    const bool keyed = strategy && !strategy->merge_key.empty();
    std::unordered_map<json, std::vector<size_t>> positions, whole;
    for (size_t i = it->size(); i-- > 0;) {
      const json& e = (*it)[i];
      if (keyed && e.is_object()) {
        positions[e.value(strategy->merge_key, json())].push_back(i);
      } else {
        whole[e].push_back(i);
      }
    }
    json ordered = json::array();
    std::vector<bool> used(it->size(), false);
    for (const auto& wanted : order) {
      const bool by_key = keyed && wanted.is_object();
      if (by_key && !wanted.contains(strategy->merge_key)) continue;
      auto& index = by_key ? positions : whole;
      auto p = index.find(by_key ? wanted.at(strategy->merge_key) : wanted);
      if (p == index.end()) continue;
      while (!p->second.empty() && used[p->second.back()]) p->second.pop_back();
      if (p->second.empty()) continue;
      size_t i = p->second.back();
      p->second.pop_back();
      ordered.push_back((*it)[i]);
      used[i] = true;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      if (!used[i]) ordered.push_back((*it)[i]);
    }
    *it = std::move(ordered);
  }

  std::string kind_;
};

}  // namespace

Result<nlohmann::json> ApplyStrategicMergePatch(const nlohmann::json& target,
                                                const nlohmann::json& patch,
                                                std::string_view kind) {
  if (!patch.is_object()) {
    return InvalidError("a strategic merge patch must be a JSON object, got a " +
                        std::string(patch.type_name()));
  }
  try {
    Merger merger(kind);
    std::vector<std::string> parents;
    STASH_ASSIGN_OR_RETURN(auto merged, merger.MergeMap(target, patch, parents));
    if (!merged) return json::object();
    return std::move(*merged);
  } catch (const json::exception& e) {
    return InvalidError(std::string("applying the strategic merge patch failed: ") + e.what());
  }
}

}  // namespace stash::api
