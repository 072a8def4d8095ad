// ListPager: `limit` / `continue` on list requests, as kube-apiserver pages
// large lists (kubectl asks for 500 items at a time; client libraries pass
// `limit=`).
//
// Consistency: every page of one list shows the objects as they were at the
// first page's resourceVersion, like etcd's snapshot reads. The first page
// keeps the matching objects (a copy) for later pages; the continue token
// names that resourceVersion and the last key served. Snapshots live for five
// minutes and at most 64 are kept (least recently used goes first) — the
// counterpart of etcd's compaction window. A token whose snapshot is gone
// (expired, evicted, server restarted) gets kube-apiserver's 410 Expired with
// an "inconsistent" continue token in the Status, which lists the rest from
// the current state; unless nothing changed since, then the page is served.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stash/core/clock.h"
#include "stash/core/result.h"

namespace stash::api {

// What a continue token carries. rv -1 means "continue from the current
// state" (the inconsistent token of a 410 answer).
struct ContinueToken {
  int64_t rv = 0;
  std::string ns;  // namespace and name of the last item served
  std::string name;
};
std::string EncodeContinue(const ContinueToken& token);
// kInvalid "invalid continue token: ..." for anything EncodeContinue did not make.
Result<ContinueToken> DecodeContinue(std::string_view text);

struct ListPage {
  std::vector<nlohmann::json> items;
  uint64_t rv = 0;
  std::string continue_token;        // empty on the last page
  std::optional<int64_t> remaining;  // items after this page, when known
};

class ListPager {
 public:
  explicit ListPager(Clock& clock) : clock_(clock) {}

  // The page of `matched` (the state at `rv`, sorted by namespace and name)
  // that starts after `after`'s key (from the start when null); keeps a
  // snapshot of the rest when more than `limit` items remain. `scope`
  // identifies the query (resource, namespace, selectors).
  ListPage Page(std::vector<nlohmann::json> matched, uint64_t rv, const ContinueToken* after,
                size_t limit, const std::string& scope);

  // The page after `token` from its snapshot; nullopt when the snapshot is
  // gone (the caller then serves the live state or answers 410).
  std::optional<ListPage> FromSnapshot(const ContinueToken& token, size_t limit,
                                       const std::string& scope);

 private:
  struct Snapshot {
    std::string scope;
    uint64_t rv;
    SystemTime created;
    std::vector<nlohmann::json> items;
  };
  // Items of `items` after `after`'s key, `limit` of them, with the token for
  // the rest.
  static ListPage Slice(const std::vector<nlohmann::json>& items, const ContinueToken* after,
                        uint64_t rv, size_t limit);
  void Expire();

  Clock& clock_;
  std::mutex mu_;
  std::list<Snapshot> snapshots_;  // most recently used first
};

}  // namespace stash::api
