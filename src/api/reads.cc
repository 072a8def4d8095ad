// get, list and watch, as plain objects, lists or meta.k8s.io/v1 Tables.
#include <spdlog/spdlog.h>

#include "errors.h"
#include "handler.h"
#include "stash/api/selector.h"

namespace stash::api {

namespace {

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

struct Selectors {
  LabelSelector labels;
  FieldSelector fields;
  bool Matches(const json& obj) const {
    return labels.MatchesObject(obj) && fields.Matches(obj);
  }
};

std::optional<HttpResponse> ParseSelectors(const HttpRequest& req, Selectors* s) {
  auto labels = LabelSelector::Parse(req.Query("labelSelector"));
  if (!labels.ok()) return BadRequestResponse(labels.status().message());
  auto fields = FieldSelector::Parse(req.Query("fieldSelector"));
  if (!fields.ok()) return BadRequestResponse(fields.status().message());
  s->labels = std::move(*labels);
  s->fields = std::move(*fields);
  return std::nullopt;
}

// Streams watch events as JSON lines until the timeout, the client leaves or
// the server stops.
class WatchStream final : public EventStream {
 public:
  WatchStream(Store& store, std::shared_ptr<Watcher> watcher, std::vector<std::string> initial,
              std::function<std::string(const WatchEvent&)> render,
              std::chrono::steady_clock::time_point deadline)
      : store_(store),
        watcher_(std::move(watcher)),
        initial_(std::move(initial)),
        render_(std::move(render)),
        deadline_(deadline) {}
  ~WatchStream() override { store_.Unwatch(watcher_); }

  bool Next(std::string* chunk, std::chrono::steady_clock::time_point until) override {
    if (next_initial_ < initial_.size()) {
      for (; next_initial_ < initial_.size(); ++next_initial_) *chunk += initial_[next_initial_];
      return true;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) return false;
    auto event = watcher_->Next(std::min(until, deadline_));
    if (!event) return !watcher_->closed();
    *chunk += render_(*event);
    // Drain what else is queued without waiting, to batch bursts.
    while (auto more = watcher_->Next(std::chrono::steady_clock::now())) *chunk += render_(*more);
    return true;
  }

 private:
  Store& store_;
  std::shared_ptr<Watcher> watcher_;
  std::vector<std::string> initial_;
  size_t next_initial_ = 0;
  std::function<std::string(const WatchEvent&)> render_;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace

std::vector<PrinterColumn> ApiHandler::Columns(const ResourceInfo& info) {
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

HttpResponse ApiHandler::List(const HttpRequest& req, const Target& t) {
  Selectors sel;
  if (auto err = ParseSelectors(req, &sel)) return *err;
  uint64_t rv = 0;
  std::vector<json> items;
  const std::string* name = sel.fields.RequiredValue("metadata.name");
  if (name && !t.ns.empty()) {
    rv = store_.CurrentRv();
    if (auto obj = store_.Get(t.info.key(), t.ns, *name)) items.push_back(std::move(*obj));
  } else {
    items = store_.List(t.info.key(), t.ns, &rv);
  }
  std::vector<json> matched;
  for (json& obj : items) {
    if (sel.Matches(obj)) matched.push_back(WithKind(std::move(obj), t.info));
  }
  if (WantsTable(req)) {
    json table = BuildTable(Columns(t.info), matched, clock_.Now(), IncludeParam(req));
    table["metadata"] = {{"resourceVersion", std::to_string(rv)}};
    return JsonResponse(200, table);
  }
  json list = {{"kind", t.info.kind + "List"},
               {"apiVersion", t.info.group_version()},
               {"metadata", {{"resourceVersion", std::to_string(rv)}}},
               {"items", std::move(matched)}};
  return JsonResponse(200, list);
}

HttpResponse ApiHandler::Watch(const HttpRequest& req, const Target& t) {
  auto sel = std::make_shared<Selectors>();
  if (auto err = ParseSelectors(req, sel.get())) return *err;
  std::string rv_text = req.Query("resourceVersion");
  uint64_t from_rv = 0;
  if (!rv_text.empty()) {
    try {
      from_rv = std::stoull(rv_text);
    } catch (...) {
      return BadRequestResponse("invalid resource version \"" + rv_text + "\"");
    }
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
    const bool now = sel->Matches(e.object);
    // As the apiserver: an object entering the selection is ADDED, one
    // leaving it DELETED.
    const bool before = e.previous ? sel->Matches(*e.previous) : now;
    if (!now && !before) return "";
    if (e.type == EventType::kModified && now != before) type = now ? "ADDED" : "DELETED";
    return json{{"type", type}, {"object", render_object(e.object)}}.dump() + "\n";
  };
  std::vector<std::string> initial;
  if (from_rv == 0) {
    // No resourceVersion (or "0"): start with the current state as ADDED.
    std::vector<json> items = store_.List(t.info.key(), t.ns, &from_rv);
    for (const json& obj : items) {
      if (!sel->Matches(obj)) continue;
      initial.push_back(json{{"type", "ADDED"}, {"object", render_object(obj)}}.dump() + "\n");
    }
  }
  auto watcher = store_.Watch(t.info.key(), t.ns, from_rv);
  if (!watcher.ok()) {
    return StatusResponse(410, "Expired", watcher.status().message());
  }
  int timeout = 0;
  try {
    timeout = std::stoi(req.Query("timeoutSeconds", "0"));
  } catch (...) {
  }
  auto deadline = timeout > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(timeout)
                              : std::chrono::steady_clock::time_point::max();
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/json";
  r.stream = std::make_shared<WatchStream>(store_, std::move(*watcher), std::move(initial), render,
                                           deadline);
  return r;
}

}  // namespace stash::api
