#include "paging.h"

#include <algorithm>

#include "stash/core/base64.h"

namespace stash::api {

namespace {

using json = nlohmann::json;

constexpr std::string_view kTokenVersion = "stash.k8s/v1";
constexpr size_t kMaxSnapshots = 64;
constexpr auto kSnapshotTtl = std::chrono::minutes(5);

std::string_view FieldOf(const json& obj, const char* field) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return {};
  auto it = meta->find(field);
  if (it == meta->end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

// Items are in the store's (namespace, name) order.
bool AtOrBefore(const json& obj, const ContinueToken& key) {
  std::string_view ns = FieldOf(obj, "namespace");
  if (ns != key.ns) return ns < key.ns;
  return FieldOf(obj, "name") <= key.name;
}

}  // namespace

std::string EncodeContinue(const ContinueToken& token) {
  json j = {{"v", kTokenVersion}, {"rv", token.rv}, {"ns", token.ns}, {"name", token.name}};
  return Base64Encode(j.dump());
}

Result<ContinueToken> DecodeContinue(std::string_view text) {
  auto bad = [](const std::string& why) { return InvalidError("invalid continue token: " + why); };
  Result<std::string> raw = Base64Decode(text);
  if (!raw.ok()) return bad("continue key is not valid base64");
  json j = json::parse(*raw, nullptr, false);
  auto version = j.is_object() ? j.find("v") : j.end();
  if (!j.is_object() || version == j.end() || !version->is_string() || *version != kTokenVersion) {
    return bad("continue key is not valid: incorrect encoded start resourceVersion (version " +
               std::string(kTokenVersion) + ")");
  }
  ContinueToken token;
  auto rv = j.find("rv");
  auto ns = j.find("ns");
  auto name = j.find("name");
  if (rv == j.end() || !rv->is_number_integer() || ns == j.end() || !ns->is_string() ||
      name == j.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return bad("continue key is not valid: incorrect encoded start resourceVersion (version " +
               std::string(kTokenVersion) + ")");
  }
  token.rv = rv->get<int64_t>();
  if (token.rv == 0 || token.rv < -1) return bad("incorrect encoded start resourceVersion");
  token.ns = ns->get<std::string>();
  token.name = name->get<std::string>();
  return token;
}

ListPage ListPager::Slice(const std::vector<json>& items, const ContinueToken* after, uint64_t rv,
                          size_t limit) {
  auto from = items.begin();
  if (after)
    from = std::partition_point(items.begin(), items.end(),
                                [&](const json& obj) { return AtOrBefore(obj, *after); });
  ListPage page;
  page.rv = rv;
  size_t left = static_cast<size_t>(items.end() - from);
  size_t take = std::min(left, limit);
  page.items.assign(from, from + static_cast<std::ptrdiff_t>(take));
  if (take < left) {
    const json& last = page.items.back();
    page.continue_token =
        EncodeContinue({static_cast<int64_t>(rv), std::string(FieldOf(last, "namespace")),
                        std::string(FieldOf(last, "name"))});
    page.remaining = static_cast<int64_t>(left - take);
  }
  return page;
}

void ListPager::Expire() {
  SystemTime now = clock_.Now();
  snapshots_.remove_if([&](const Snapshot& s) { return now - s.created > kSnapshotTtl; });
  while (snapshots_.size() > kMaxSnapshots) snapshots_.pop_back();
}

ListPage ListPager::Page(std::vector<json> matched, uint64_t rv, const ContinueToken* after,
                         size_t limit, const std::string& scope) {
  ListPage page = Slice(matched, after, rv, limit);
  if (page.continue_token.empty()) return page;
  std::lock_guard lock(mu_);
  snapshots_.push_front({scope, rv, clock_.Now(), std::move(matched)});
  Expire();
  return page;
}

std::optional<ListPage> ListPager::FromSnapshot(const ContinueToken& token, size_t limit,
                                                const std::string& scope) {
  std::lock_guard lock(mu_);
  Expire();
  for (auto it = snapshots_.begin(); it != snapshots_.end(); ++it) {
    if (it->scope != scope || static_cast<int64_t>(it->rv) != token.rv) continue;
    snapshots_.splice(snapshots_.begin(), snapshots_, it);
    return Slice(it->items, &token, it->rv, limit);
  }
  return std::nullopt;
}

}  // namespace stash::api
