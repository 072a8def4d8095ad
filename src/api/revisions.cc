// ControllerRevisions of StatefulSets and DaemonSets (workloads.h), as kube's
// controller history keeps them: one per pod template, named
// "<owner>-<hash>", data = the strategic merge patch that restores the
// template (what `kubectl rollout undo` applies), revision numbers growing.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "object_meta.h"
#include "workloads.h"

namespace stash::api {

using namespace workload;  // NOLINT: the workload helpers

namespace {
const char* kRevisions = "apps/controllerrevisions";
}  // namespace

std::string SyncControllerRevisions(ControllerContext& ctx, const json& owner,
                                    const json& pod_template,
                                    const std::vector<std::string>& in_use) {
  const std::string ns = MetaField(owner, "namespace");
  const std::string hash = TemplateHash(pod_template);
  const std::string name = MetaField(owner, "name") + "-" + hash;
  auto info = ctx.ResourceForKey(kRevisions);
  if (!info) return name;
  std::vector<json> revisions = Controlled(ctx.store, kRevisions, ns, MetaField(owner, "uid"));
  int64_t newest = 0;
  const json* mine = nullptr;
  for (const json& r : revisions) {
    if (MetaField(r, "name") == name) {
      mine = &r;
    } else {
      newest = std::max(newest, r.value("revision", int64_t{0}));
    }
  }
  if (mine && mine->value("revision", int64_t{0}) <= newest) {
    // An older template came back (rollout undo): it is the newest revision now.
    auto r = ctx.handler.ModifyObject(*info, ns, name, MetaField(*mine, "uid"), [&](json* o) {
      (*o)["revision"] = newest + 1;
      return Status::Ok();
    });
    if (!r.ok()) spdlog::warn("controller revision {}/{}: {}", ns, name, r.status().ToString());
  } else if (!mine) {
    json data_tmpl = pod_template;
    data_tmpl["$patch"] = "replace";
    json labels = pod_template.value("/metadata/labels"_json_pointer, json::object());
    if (!labels.is_object()) labels = json::object();
    labels["controller.kubernetes.io/hash"] = hash;
    json annotations = json::object();
    const json owner_annotations =
        owner.value("/metadata/annotations"_json_pointer, json::object());
    for (const auto& [k, v] : owner_annotations.items()) {
      if (k == "kubernetes.io/change-cause") annotations[k] = v;
    }
    json rev = {{"apiVersion", "apps/v1"},
                {"kind", "ControllerRevision"},
                {"metadata",
                 {{"name", name},
                  {"namespace", ns},
                  {"labels", labels},
                  {"ownerReferences", json::array({ControllerRef(owner)})}}},
                {"data", {{"spec", {{"template", data_tmpl}}}}},
                {"revision", newest + 1}};
    if (!annotations.empty()) rev["metadata"]["annotations"] = annotations;
    auto made = ctx.handler.CreateObject(*info, ns, rev);
    if (made.ok()) {
      revisions.push_back(*made);
    } else if (made.status().code() != Code::kAlreadyExists) {
      spdlog::warn("controller revision {}/{}: {}", ns, name, made.status().ToString());
    }
  }
  // History beyond revisionHistoryLimit goes, oldest first, never one in use.
  const int64_t limit = Int(owner, "/spec/revisionHistoryLimit"_json_pointer, 10);
  std::vector<const json*> idle;
  for (const json& r : revisions) {
    const std::string n = MetaField(r, "name");
    if (n != name && std::find(in_use.begin(), in_use.end(), n) == in_use.end()) {
      idle.push_back(&r);
    }
  }
  if (int64_t(idle.size()) > limit) {
    std::sort(idle.begin(), idle.end(), [](const json* a, const json* b) {
      return a->value("revision", int64_t{0}) < b->value("revision", int64_t{0});
    });
    for (size_t i = 0; i < idle.size() - size_t(limit); ++i) {
      auto gone = ctx.handler.DeleteWithOptions(*info, ns, MetaField(*idle[i], "name"), {});
      if (!gone.ok() && gone.status().code() != Code::kNotFound) {
        spdlog::warn("controller revision {}/{}: {}", ns, MetaField(*idle[i], "name"),
                     gone.status().ToString());
      }
    }
  }
  return name;
}

}  // namespace stash::api
