// get, list and watch, as plain objects, lists or meta.k8s.io/v1 Tables.
#include <spdlog/spdlog.h>

#include <limits>

#include "decode.h"
#include "errors.h"
#include "handler.h"
#include "paging.h"
#include "stash/api/selector.h"

namespace stash::api {

bool WantsTable(const HttpRequest& req) { return req.accept.find("as=Table") != std::string::npos; }

IncludeObject IncludeParam(const HttpRequest& req) {
  std::string v = req.Query("includeObject");
  if (v == "None") return IncludeObject::kNone;
  if (v == "Object") return IncludeObject::kObject;
  return IncludeObject::kMetadata;
}

json WithKind(json obj, const ResourceInfo& info) {
  if (!obj.contains("kind")) obj["kind"] = info.kind;
  if (!obj.contains("apiVersion")) obj["apiVersion"] = info.group_version();
  // Objects are stored under one version; answer in the version asked for.
  obj["apiVersion"] = info.group_version();
  return obj;
}

std::optional<HttpResponse> ParseSelectors(const HttpRequest& req, const ResourceInfo& info,
                                           Selectors* s) {
  auto labels = LabelSelector::Parse(req.Query("labelSelector"));
  if (!labels.ok()) return BadRequestResponse(labels.status().message());
  auto fields = FieldSelector::Parse(req.Query("fieldSelector"));
  if (!fields.ok()) return BadRequestResponse(fields.status().message());
  // An unsupported field would otherwise quietly select nothing.
  if (Status st = CheckFieldSelectorSupported(*fields, info.resource,
                                              info.custom ? &info.selectable_fields : nullptr);
      !st.ok()) {
    return BadRequestResponse(st.message());
  }
  s->labels = std::move(*labels);
  s->fields = std::move(*fields);
  return std::nullopt;
}

namespace {

// Streams watch events as JSON lines until the timeout, the client leaves or
// the server stops. With bookmarks, as kube-apiserver's watch cache: one
// BOOKMARK about every minute and one 2 s before the timeout, carrying a
// resourceVersion the client may resume from without missing events.
class WatchStream final : public EventStream {
 public:
  using Clock = std::chrono::steady_clock;
  WatchStream(Store& store, std::shared_ptr<Watcher> watcher, std::vector<std::string> initial,
              std::function<std::string(const WatchEvent&)> render,
              std::function<std::string(uint64_t)> bookmark, Clock::time_point deadline)
      : store_(store),
        watcher_(std::move(watcher)),
        initial_(std::move(initial)),
        render_(std::move(render)),
        bookmark_(std::move(bookmark)),
        deadline_(deadline) {
    ScheduleBookmark(Clock::now());
  }
  ~WatchStream() override { store_.Unwatch(watcher_); }

  void SetNotify(std::function<void()> notify) override { watcher_->SetNotify(std::move(notify)); }

  bool Next(std::string* chunk, Clock::time_point until) override {
    if (next_initial_ < initial_.size()) {
      for (; next_initial_ < initial_.size(); ++next_initial_) *chunk += initial_[next_initial_];
      return true;
    }
    auto now = Clock::now();
    if (now >= deadline_) return false;
    auto event = watcher_->Next(std::min({until, deadline_, next_bookmark_}));
    if (event) {
      *chunk += render_(*event);
      // Drain what else is queued without waiting, to batch bursts.
      while (auto more = watcher_->Next(Clock::now())) *chunk += render_(*more);
    } else if (watcher_->closed()) {
      return false;
    }
    now = Clock::now();
    if (bookmark_ && now >= next_bookmark_ && now < deadline_) {
      // The store publishes an event to watchers under the same lock that
      // advances its resourceVersion, so everything up to `rv` is queued
      // by now: send it first, then the bookmark.
      uint64_t rv = store_.CurrentRv();
      while (auto more = watcher_->Next(now)) *chunk += render_(*more);
      *chunk += bookmark_(rv);
      ScheduleBookmark(now);
    }
    return true;
  }

 private:
  void ScheduleBookmark(Clock::time_point now) {
    next_bookmark_ = Clock::time_point::max();
    if (!bookmark_) return;
    next_bookmark_ = now + std::chrono::minutes(1);
    if (deadline_ != Clock::time_point::max()) {
      auto last = deadline_ - std::chrono::seconds(2);
      if (last > now && last < next_bookmark_) next_bookmark_ = last;
    }
  }

  Store& store_;
  std::shared_ptr<Watcher> watcher_;
  std::vector<std::string> initial_;
  size_t next_initial_ = 0;
  std::function<std::string(const WatchEvent&)> render_;
  std::function<std::string(uint64_t)> bookmark_;  // null without allowWatchBookmarks
  Clock::time_point deadline_;
  Clock::time_point next_bookmark_;
};

// A watch that says only "too old" and ends, as kube-apiserver's watch cache
// answers a resourceVersion older than its window (informers then relist).
class ErrorStream final : public EventStream {
 public:
  explicit ErrorStream(std::string line) : line_(std::move(line)) {}
  bool Next(std::string* chunk, std::chrono::steady_clock::time_point) override {
    *chunk += line_;
    return false;
  }

 private:
  std::string line_;
};

// The objects a list shows, at *rv.
std::vector<json> ListMatching(Store& store, const ResourceInfo& info, const std::string& ns,
                               const Selectors& sel, uint64_t* rv) {
  std::vector<json> items;
  const std::string* name = sel.fields.RequiredValue("metadata.name");
  if (name && !ns.empty()) {
    *rv = store.CurrentRv();
    if (auto obj = store.Get(info.key(), ns, *name)) items.push_back(std::move(*obj));
  } else {
    items = store.List(info.key(), ns, rv);
  }
  std::vector<json> matched;
  for (json& obj : items) {
    if (sel.Matches(obj)) matched.push_back(WithKind(std::move(obj), info));
  }
  return matched;
}

}  // namespace

std::vector<PrinterColumn> ApiHandler::Columns(const ResourceInfo& info) {
  if (info.provider) return info.columns;
  if (info.custom) {
    return ColumnsForCrdVersion({{"additionalPrinterColumns", info.printer_columns}});
  }
  if (auto cols = BuiltinColumns(info.resource)) return *cols;
  return ColumnsForCrdVersion(json::object());
}

HttpResponse ApiHandler::Get(const HttpRequest& req, const Target& t) {
  auto obj = store_.Get(t.info.key(), t.ns, t.name);
  if (!obj) return NotFoundResponse(t.info, t.name);
  json out = WithKind(std::move(*obj), t.info);
  if (WantsTable(req)) {
    json table = BuildTable(Columns(t.info), {out}, clock_.Now(), IncludeParam(req));
    table["metadata"] = {{"resourceVersion", out["metadata"].value("resourceVersion", "")}};
    return JsonResponse(200, table);
  }
  return JsonResponse(200, out);
}

// resourceVersion / resourceVersionMatch of a list without `continue`. The
// store keeps no snapshots of old states (only the change log), so an exact
// resourceVersion is served when it is the current one; one that history
// compaction dropped gets 410, as kube-apiserver answers when etcd has
// compacted it.
static std::optional<HttpResponse> CheckListVersion(const HttpRequest& req, Store& store) {
  const std::string rv_text = req.Query("resourceVersion");
  const std::string match = req.Query("resourceVersionMatch");
  if (!match.empty() && match != "Exact" && match != "NotOlderThan") {
    return BadRequestResponse("resourceVersionMatch: Unsupported value: \"" + match +
                              "\": supported values: \"Exact\", \"NotOlderThan\"");
  }
  if (!match.empty() && rv_text.empty()) {
    return BadRequestResponse(
        "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
        "resourceVersion is provided");
  }
  if (rv_text.empty() || rv_text == "0") {
    if (match == "Exact") {
      return BadRequestResponse(
          "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for "
          "resourceVersion \"0\"");
    }
    return std::nullopt;
  }
  if (rv_text.size() > 19 || rv_text.find_first_not_of("0123456789") != std::string::npos) {
    return BadRequestResponse("invalid resource version \"" + rv_text + "\"");
  }
  const uint64_t rv = std::stoull(rv_text);
  const uint64_t current = store.CurrentRv(), compacted = store.CompactedRv();
  if (rv > current) {
    return StatusResponse(
        504, "Timeout",
        "Too large resource version: " + rv_text + ", current: " + std::to_string(current),
        {{"causes",
          {{{"reason", "ResourceVersionTooLarge"}, {"message", "Too large resource version"}}}},
         {"retryAfterSeconds", 1}});
  }
  if (match == "Exact" && rv != current) {
    return StatusResponse(410, "Expired",
                          "too old resource version: " + rv_text + " (" +
                              std::to_string(rv < compacted ? compacted + 1 : current) + ")");
  }
  return std::nullopt;
}

HttpResponse ApiHandler::List(const HttpRequest& req, const Target& t) {
  Selectors sel;
  if (auto err = ParseSelectors(req, t.info, &sel)) return *err;
  if (req.Query("continue").empty()) {
    if (auto err = CheckListVersion(req, store_)) return *err;
  }
  size_t limit = 0;
  if (std::string text = req.Query("limit"); !text.empty()) {
    try {
      long long n = std::stoll(text);
      if (n > 0) limit = static_cast<size_t>(n);
    } catch (...) {
      return BadRequestResponse("invalid limit \"" + text + "\"");
    }
  }
  // Snapshots belong to one query: the same token with other selectors is
  // served from the live state.
  const std::string scope =
      t.info.key() + '\n' + t.ns + '\n' + sel.labels.ToString() + '\n' + sel.fields.ToString();
  ListPage page;
  if (std::string cont = req.Query("continue"); !cont.empty()) {
    std::string rv_param = req.Query("resourceVersion");
    if (!rv_param.empty() && rv_param != "0") {
      return BadRequestResponse("specifying resource version is not allowed when using continue");
    }
    auto token = DecodeContinue(cont);
    if (!token.ok()) return BadRequestResponse(token.status().message());
    if (limit == 0) limit = std::numeric_limits<size_t>::max();
    if (auto snap = pager_.FromSnapshot(*token, limit, scope)) {
      page = std::move(*snap);
    } else if (token->rv == -1 || static_cast<uint64_t>(token->rv) == store_.CurrentRv()) {
      // Nothing changed since that page (or the client accepted an
      // inconsistent continuation): the live state serves it.
      uint64_t rv = 0;
      std::vector<json> matched = ListMatching(store_, t.info, t.ns, sel, &rv);
      page = pager_.Page(std::move(matched), rv, &*token, limit, scope);
    } else {
      json status = StatusObject(
          410, "Expired",
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter, or use the continue value from "
          "the response to list the remaining results in an inconsistent way.");
      status["metadata"]["continue"] = EncodeContinue({-1, token->ns, token->name});
      return JsonResponse(410, status);
    }
  } else {
    uint64_t rv = 0;
    std::vector<json> matched = ListMatching(store_, t.info, t.ns, sel, &rv);
    if (limit > 0) {
      page = pager_.Page(std::move(matched), rv, nullptr, limit, scope);
    } else {
      page.items = std::move(matched);
      page.rv = rv;
    }
  }
  json meta = {{"resourceVersion", std::to_string(page.rv)}};
  if (!page.continue_token.empty()) {
    meta["continue"] = page.continue_token;
    // As kube-apiserver: the count is only exact without selectors.
    if (page.remaining && sel.labels.empty() && sel.fields.empty()) {
      meta["remainingItemCount"] = *page.remaining;
    }
  }
  if (WantsTable(req)) {
    json table = BuildTable(Columns(t.info), page.items, clock_.Now(), IncludeParam(req));
    table["metadata"] = std::move(meta);
    return JsonResponse(200, table);
  }
  json list = {{"kind", t.info.kind + "List"},
               {"apiVersion", t.info.group_version()},
               {"metadata", std::move(meta)},
               {"items", std::move(page.items)}};
  return JsonResponse(200, list);
}

HttpResponse ApiHandler::Watch(const HttpRequest& req, const Target& t) {
  auto sel = std::make_shared<Selectors>();
  if (auto err = ParseSelectors(req, t.info, sel.get())) return *err;
  std::string rv_text = req.Query("resourceVersion");
  uint64_t from_rv = 0;
  if (!rv_text.empty()) {
    if (rv_text.size() > 19 || rv_text.find_first_not_of("0123456789") != std::string::npos) {
      return BadRequestResponse("invalid resource version \"" + rv_text + "\"");
    }
    from_rv = std::stoull(rv_text);
  }
  const bool table = WantsTable(req);
  const IncludeObject include = IncludeParam(req);
  std::vector<PrinterColumn> columns = table ? Columns(t.info) : std::vector<PrinterColumn>{};
  ResourceInfo info = t.info;
  Clock* clock = &clock_;
  auto render_object = [=](const json& object) {
    json obj = WithKind(object, info);
    if (!table) return obj;
    json tbl = BuildTable(columns, {obj}, clock->Now(), include);
    tbl["metadata"] = {{"resourceVersion", obj["metadata"].value("resourceVersion", "")}};
    return tbl;
  };
  auto render = [=](const WatchEvent& e) -> std::string {
    std::string type = EventTypeName(e.type);
    const bool now = sel->Matches(*e.object);
    // As the apiserver: an object entering the selection is ADDED, one
    // leaving it DELETED.
    const bool before = e.previous ? sel->Matches(*e.previous) : now;
    if (!now && !before) return "";
    if (e.type == EventType::kModified && now != before) type = now ? "ADDED" : "DELETED";
    return DumpJson(json{{"type", type}, {"object", render_object(*e.object)}}) + "\n";
  };
  std::vector<std::string> initial;
  if (from_rv == 0) {
    // No resourceVersion (or "0"): start with the current state as ADDED.
    std::vector<json> items = store_.List(t.info.key(), t.ns, &from_rv);
    for (const json& obj : items) {
      if (!sel->Matches(obj)) continue;
      initial.push_back(DumpJson(json{{"type", "ADDED"}, {"object", render_object(obj)}}) + "\n");
    }
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/json";
  auto watcher = store_.Watch(t.info.key(), t.ns, from_rv);
  if (!watcher.ok()) {
    json status = StatusObject(410, "Expired", watcher.status().message());
    r.stream = std::make_shared<ErrorStream>(
        DumpJson(json{{"type", "ERROR"}, {"object", std::move(status)}}) + "\n");
    return r;
  }
  std::function<std::string(uint64_t)> bookmark;
  if (const std::string allow = req.Query("allowWatchBookmarks");
      allow == "true" || allow == "True" || allow == "1") {
    bookmark = [=](uint64_t rv) {
      json object = {{"kind", table ? "Table" : info.kind},
                     {"apiVersion", table ? "meta.k8s.io/v1" : info.group_version()},
                     {"metadata", {{"resourceVersion", std::to_string(rv)}}}};
      return DumpJson(json{{"type", "BOOKMARK"}, {"object", std::move(object)}}) + "\n";
    };
  }
  int timeout = 0;
  try {
    timeout = std::stoi(req.Query("timeoutSeconds", "0"));
  } catch (...) {
  }
  auto deadline = timeout > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(timeout)
                              : std::chrono::steady_clock::time_point::max();
  r.stream = std::make_shared<WatchStream>(store_, std::move(*watcher), std::move(initial), render,
                                           std::move(bookmark), deadline);
  return r;
}

}  // namespace stash::api
