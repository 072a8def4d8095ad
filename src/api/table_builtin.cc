// The column sets kube-apiserver prints for the built-in resources this server
// stores (k8s.io/kubernetes/pkg/printers/internalversion). The apiserver
// always generates the wide cells; kubectl hides priority > 0 columns.
#include <algorithm>
#include <cctype>
#include <map>

#include "stash/api/selector.h"
#include "stash/api/table.h"

namespace stash::api {
namespace {

using json = nlohmann::json;
using Cell = std::function<json(const json&, SystemTime)>;

const json& At(const json& object, std::string_view path) {
  static const json kNull;
  const json* cur = &object;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string step(path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    if (!cur->is_object()) return kNull;
    auto it = cur->find(step);
    if (it == cur->end()) return kNull;
    cur = &*it;
    if (dot == std::string_view::npos) return *cur;
    start = dot + 1;
  }
}

std::string Str(const json& object, std::string_view path) {
  const json& v = At(object, path);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t Int(const json& object, std::string_view path, int64_t fallback = 0) {
  const json& v = At(object, path);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) return static_cast<int64_t>(v.get<double>());
  return fallback;
}

bool Deleting(const json& object) { return !Str(object, "metadata.deletionTimestamp").empty(); }

PrinterColumn Col(std::string name, std::string type, Cell cell, int priority = 0,
                  std::string format = "") {
  return {std::move(name), std::move(type), std::move(format), "", priority, "", std::move(cell)};
}

PrinterColumn NameCol(int priority = 0) {
  return Col(
      "Name", "string", [](const json& o, SystemTime) { return json(Str(o, "metadata.name")); },
      priority, "name");
}

PrinterColumn AgeCol() {
  return Col("Age", "string", [](const json& o, SystemTime now) {
    return json(TranslateTimestampSince(Str(o, "metadata.creationTimestamp"), now));
  });
}

PrinterColumn StringCol(std::string name, std::string path, std::string fallback = "",
                        int priority = 0) {
  return Col(
      std::move(name), "string",
      [path, fallback](const json& o, SystemTime) {
        std::string v = Str(o, path);
        return json(v.empty() ? fallback : v);
      },
      priority);
}

PrinterColumn IntCol(std::string name, std::string path) {
  return Col(std::move(name), "integer",
             [path](const json& o, SystemTime) { return json(Int(o, path)); });
}

std::string Join(const json& list, std::string_view member) {
  std::string out;
  if (!list.is_array()) return out;
  for (const json& item : list) {
    if (!out.empty()) out += ',';
    out += Str(item, member);
  }
  return out;
}

std::string SelectorText(const json& selector) {
  Result<LabelSelector> s = LabelSelector::FromJson(selector);
  if (!s.ok()) return "<error>";
  return s->empty() ? "<none>" : s->ToString();
}

// Containers, Images and Selector of a workload whose pod template is at
// `template_path`.
void AddWorkloadWideColumns(std::vector<PrinterColumn>& cols, const std::string& template_path,
                            const std::string& selector_path, bool with_selector = true) {
  std::string containers = template_path + ".spec.containers";
  cols.push_back(Col(
      "Containers", "string",
      [containers](const json& o, SystemTime) { return json(Join(At(o, containers), "name")); },
      1));
  cols.push_back(Col(
      "Images", "string",
      [containers](const json& o, SystemTime) { return json(Join(At(o, containers), "image")); },
      1));
  if (with_selector) {
    cols.push_back(Col(
        "Selector", "string",
        [selector_path](const json& o, SystemTime) {
          return json(SelectorText(At(o, selector_path)));
        },
        1));
  }
}

bool HasCondition(const json& object, std::string_view type) {
  const json& conditions = At(object, "status.conditions");
  if (!conditions.is_array()) return false;
  return std::any_of(conditions.begin(), conditions.end(), [&](const json& c) {
    return Str(c, "type") == type && Str(c, "status") == "True";
  });
}

// kubectl's pod STATUS: the phase, refined by the containers' states.
// kubectl's view of a pod still running its init containers: "Init:1/2",
// "Init:Error", "Init:CrashLoopBackOff", "Init:ExitCode:1"; empty once they
// all exited 0 (printPod's loop over initContainerStatuses).
std::string InitStatus(const json& pod) {
  const json& statuses = At(pod, "status.initContainerStatuses");
  if (!statuses.is_array()) return "";
  const json& specs = At(pod, "spec.initContainers");
  const size_t total = specs.is_array() ? specs.size() : statuses.size();
  for (size_t i = 0; i < statuses.size(); ++i) {
    const json& st = statuses[i];
    const json& terminated = At(st, "state.terminated");
    if (terminated.is_object()) {
      if (Int(st, "state.terminated.exitCode") == 0) continue;
      if (!Str(st, "state.terminated.reason").empty())
        return "Init:" + Str(st, "state.terminated.reason");
      int64_t signal = Int(st, "state.terminated.signal");
      return signal != 0 ? "Init:Signal:" + std::to_string(signal)
                         : "Init:ExitCode:" + std::to_string(Int(st, "state.terminated.exitCode"));
    }
    std::string waiting = Str(st, "state.waiting.reason");
    if (!waiting.empty() && waiting != "PodInitializing") return "Init:" + waiting;
    return "Init:" + std::to_string(i) + "/" + std::to_string(total);
  }
  return "";
}

std::string PodStatus(const json& pod) {
  std::string reason = Str(pod, "status.phase");
  if (!Str(pod, "status.reason").empty()) reason = Str(pod, "status.reason");
  bool running = false;
  std::string init = InitStatus(pod);
  if (!init.empty() && !HasCondition(pod, "Initialized")) {
    reason = init;
  } else {
    const json& statuses = At(pod, "status.containerStatuses");
    if (statuses.is_array()) {
      for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
        const json& st = *it;
        if (!Str(st, "state.waiting.reason").empty()) {
          reason = Str(st, "state.waiting.reason");
        } else if (!Str(st, "state.terminated.reason").empty()) {
          reason = Str(st, "state.terminated.reason");
        } else if (At(st, "state.terminated").is_object()) {
          int64_t signal = Int(st, "state.terminated.signal");
          reason = signal != 0 ? "Signal:" + std::to_string(signal)
                               : "ExitCode:" + std::to_string(Int(st, "state.terminated.exitCode"));
        } else if (At(st, "ready") == true && At(st, "state.running").is_object()) {
          running = true;
        }
      }
    }
  }
  if (reason == "Completed" && running)
    reason = HasCondition(pod, "Ready") ? "Running" : "NotReady";
  if (Deleting(pod)) reason = Str(pod, "status.reason") == "NodeLost" ? "Unknown" : "Terminating";
  return reason.empty() ? "Pending" : reason;
}

// Restarts of the containers, plus those of the init containers while the
// pod is still initialising (as kubectl counts them).
std::string PodRestarts(const json& pod, SystemTime now) {
  int64_t restarts = 0;
  std::string last;
  auto count = [&](const json& statuses) {
    if (!statuses.is_array()) return;
    for (const json& st : statuses) {
      restarts += Int(st, "restartCount");
      std::string finished = Str(st, "lastState.terminated.finishedAt");
      if (finished > last) last = finished;  // RFC 3339 UTC strings order by time
    }
  };
  if (!InitStatus(pod).empty() && !HasCondition(pod, "Initialized")) {
    count(At(pod, "status.initContainerStatuses"));
  } else {
    count(At(pod, "status.containerStatuses"));
  }
  if (restarts != 0 && !last.empty()) {
    return std::to_string(restarts) + " (" + TranslateTimestampSince(last, now) + " ago)";
  }
  return std::to_string(restarts);
}

std::vector<PrinterColumn> Pods() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(Col("Ready", "string", [](const json& o, SystemTime) {
    const json& containers = At(o, "spec.containers");
    const json& statuses = At(o, "status.containerStatuses");
    int64_t ready = 0;
    if (statuses.is_array()) {
      for (const json& st : statuses) ready += At(st, "ready") == true ? 1 : 0;
    }
    size_t total = containers.is_array() ? containers.size() : 0;
    return json(std::to_string(ready) + "/" + std::to_string(total));
  }));
  c.push_back(
      Col("Status", "string", [](const json& o, SystemTime) { return json(PodStatus(o)); }));
  c.push_back(Col("Restarts", "string",
                  [](const json& o, SystemTime now) { return json(PodRestarts(o, now)); }));
  c.push_back(AgeCol());
  c.push_back(StringCol("IP", "status.podIP", "<none>", 1));
  c.push_back(StringCol("Node", "spec.nodeName", "<none>", 1));
  c.push_back(StringCol("Nominated Node", "status.nominatedNodeName", "<none>", 1));
  c.push_back(Col(
      "Readiness Gates", "string",
      [](const json& o, SystemTime) {
        const json& gates = At(o, "spec.readinessGates");
        if (!gates.is_array() || gates.empty()) return json("<none>");
        int64_t ok = 0;
        for (const json& g : gates) ok += HasCondition(o, Str(g, "conditionType")) ? 1 : 0;
        return json(std::to_string(ok) + "/" + std::to_string(gates.size()));
      },
      1));
  return c;
}

std::vector<PrinterColumn> Deployments() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(Col("Ready", "string", [](const json& o, SystemTime) {
    return json(std::to_string(Int(o, "status.readyReplicas")) + "/" +
                std::to_string(Int(o, "spec.replicas", 1)));
  }));
  c.push_back(IntCol("Up-to-date", "status.updatedReplicas"));
  c.push_back(IntCol("Available", "status.availableReplicas"));
  c.push_back(AgeCol());
  AddWorkloadWideColumns(c, "spec.template", "spec.selector");
  return c;
}

std::vector<PrinterColumn> ReplicaSets() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(Col("Desired", "integer",
                  [](const json& o, SystemTime) { return json(Int(o, "spec.replicas", 1)); }));
  c.push_back(IntCol("Current", "status.replicas"));
  c.push_back(IntCol("Ready", "status.readyReplicas"));
  c.push_back(AgeCol());
  AddWorkloadWideColumns(c, "spec.template", "spec.selector");
  return c;
}

std::vector<PrinterColumn> StatefulSets() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(Col("Ready", "string", [](const json& o, SystemTime) {
    return json(std::to_string(Int(o, "status.readyReplicas")) + "/" +
                std::to_string(Int(o, "spec.replicas", 1)));
  }));
  c.push_back(AgeCol());
  AddWorkloadWideColumns(c, "spec.template", "spec.selector", false);
  return c;
}

std::vector<PrinterColumn> DaemonSets() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(IntCol("Desired", "status.desiredNumberScheduled"));
  c.push_back(IntCol("Current", "status.currentNumberScheduled"));
  c.push_back(IntCol("Ready", "status.numberReady"));
  c.push_back(IntCol("Up-to-date", "status.updatedNumberScheduled"));
  c.push_back(IntCol("Available", "status.numberAvailable"));
  c.push_back(Col("Node Selector", "string", [](const json& o, SystemTime) {
    const json& sel = At(o, "spec.template.spec.nodeSelector");
    std::string out;
    if (sel.is_object()) {
      for (const auto& [k, v] : sel.items()) {
        out += (out.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : "");
      }
    }
    return json(out.empty() ? "<none>" : out);
  }));
  c.push_back(AgeCol());
  AddWorkloadWideColumns(c, "spec.template", "spec.selector");
  return c;
}

std::vector<PrinterColumn> CronJobs() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(StringCol("Schedule", "spec.schedule"));
  c.push_back(StringCol("Timezone", "spec.timeZone", "<none>"));
  // The apiserver defaults spec.suspend to false, so absent prints False.
  c.push_back(Col("Suspend", "boolean", [](const json& o, SystemTime) {
    return json(At(o, "spec.suspend") == true ? "True" : "False");
  }));
  c.push_back(Col("Active", "integer", [](const json& o, SystemTime) {
    const json& active = At(o, "status.active");
    return json(static_cast<int64_t>(active.is_array() ? active.size() : 0));
  }));
  c.push_back(Col("Last Schedule", "string", [](const json& o, SystemTime now) {
    std::string t = Str(o, "status.lastScheduleTime");
    return json(t.empty() ? "<none>" : TranslateTimestampSince(t, now));
  }));
  c.push_back(AgeCol());
  AddWorkloadWideColumns(c, "spec.jobTemplate.spec.template", "spec.jobTemplate.spec.selector");
  return c;
}

std::vector<PrinterColumn> Jobs() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(Col("Status", "string", [](const json& o, SystemTime) {
    if (HasCondition(o, "Complete")) return json("Complete");
    if (HasCondition(o, "Failed")) return json("Failed");
    if (Deleting(o)) return json("Terminating");
    if (HasCondition(o, "Suspended")) return json("Suspended");
    if (HasCondition(o, "FailureTarget")) return json("FailureTarget");
    if (HasCondition(o, "SuccessCriteriaMet")) return json("SuccessCriteriaMet");
    return json("Running");
  }));
  c.push_back(Col("Completions", "string", [](const json& o, SystemTime) {
    std::string succeeded = std::to_string(Int(o, "status.succeeded"));
    if (At(o, "spec.completions").is_number()) {
      return json(succeeded + "/" + std::to_string(Int(o, "spec.completions")));
    }
    int64_t parallelism = Int(o, "spec.parallelism", 1);
    if (parallelism > 1) return json(succeeded + "/1 of " + std::to_string(parallelism));
    return json(succeeded + "/1");
  }));
  c.push_back(Col("Duration", "string", [](const json& o, SystemTime now) {
    Result<SystemTime> start = ParseTimestamp(Str(o, "status.startTime"));
    if (!start.ok()) return json("");
    Result<SystemTime> end = ParseTimestamp(Str(o, "status.completionTime"));
    return json(HumanDuration((end.ok() ? *end : now) - *start));
  }));
  c.push_back(AgeCol());
  AddWorkloadWideColumns(c, "spec.template", "spec.selector");
  return c;
}

std::string AccessModes(const json& modes) {
  if (!modes.is_array()) return "";
  std::string out;
  const std::pair<const char*, const char*> order[] = {{"ReadWriteOnce", "RWO"},
                                                       {"ReadOnlyMany", "ROX"},
                                                       {"ReadWriteMany", "RWX"},
                                                       {"ReadWriteOncePod", "RWOP"}};
  for (const auto& [mode, abbrev] : order) {
    if (std::find(modes.begin(), modes.end(), mode) != modes.end()) {
      out += (out.empty() ? "" : ",") + std::string(abbrev);
    }
  }
  return out;
}

std::vector<PrinterColumn> PersistentVolumeClaims() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(Col("Status", "string", [](const json& o, SystemTime) {
    if (Deleting(o)) return json("Terminating");
    std::string phase = Str(o, "status.phase");
    return json(phase.empty() ? "Pending" : phase);  // the apiserver's create default
  }));
  c.push_back(StringCol("Volume", "spec.volumeName"));
  c.push_back(Col("Capacity", "string", [](const json& o, SystemTime) {
    return json(Str(o, "spec.volumeName").empty() ? "" : Str(o, "status.capacity.storage"));
  }));
  c.push_back(Col("Access Modes", "string", [](const json& o, SystemTime) {
    return json(Str(o, "spec.volumeName").empty() ? "" : AccessModes(At(o, "status.accessModes")));
  }));
  c.push_back(Col("StorageClass", "string", [](const json& o, SystemTime) {
    std::string cls = Str(o, "spec.storageClassName");
    if (cls.empty()) {
      const json& ann = At(o, "metadata.annotations");
      if (ann.is_object() && ann.contains("volume.beta.kubernetes.io/storage-class")) {
        cls = ann.value("volume.beta.kubernetes.io/storage-class", "");
      }
    }
    return json(cls);
  }));
  c.push_back(StringCol("VolumeAttributesClass", "spec.volumeAttributesClassName", "<unset>"));
  c.push_back(AgeCol());
  c.push_back(StringCol("VolumeMode", "spec.volumeMode", "<unset>", 1));
  return c;
}

std::vector<PrinterColumn> Nodes() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(Col("Status", "string", [](const json& o, SystemTime) {
    std::string status = "Unknown";
    const json& conditions = At(o, "status.conditions");
    if (conditions.is_array()) {
      for (const json& cond : conditions) {
        if (Str(cond, "type") != "Ready") continue;
        std::string v = Str(cond, "status");
        status = v == "True" ? "Ready" : v == "False" ? "NotReady" : "Unknown";
      }
    }
    if (At(o, "spec.unschedulable") == true) status += ",SchedulingDisabled";
    return json(status);
  }));
  c.push_back(Col("Roles", "string", [](const json& o, SystemTime) {
    std::vector<std::string> roles;
    const json& labels = At(o, "metadata.labels");
    const std::string prefix = "node-role.kubernetes.io/";
    if (labels.is_object()) {
      for (const auto& [k, v] : labels.items()) {
        if (k.rfind(prefix, 0) == 0 && k.size() > prefix.size()) {
          roles.push_back(k.substr(prefix.size()));
        } else if (k == "kubernetes.io/role" && v.is_string()) {
          roles.push_back(v.get<std::string>());
        }
      }
    }
    std::sort(roles.begin(), roles.end());
    std::string out;
    for (const std::string& r : roles) out += (out.empty() ? "" : ",") + r;
    return json(out.empty() ? "<none>" : out);
  }));
  c.push_back(AgeCol());
  c.push_back(StringCol("Version", "status.nodeInfo.kubeletVersion"));
  auto address = [](const std::string& type) {
    return [type](const json& o, SystemTime) {
      const json& addresses = At(o, "status.addresses");
      if (addresses.is_array()) {
        for (const json& a : addresses) {
          if (Str(a, "type") == type) return json(Str(a, "address"));
        }
      }
      return json("<none>");
    };
  };
  c.push_back(Col("Internal-IP", "string", address("InternalIP"), 1));
  c.push_back(Col("External-IP", "string", address("ExternalIP"), 1));
  c.push_back(StringCol("OS-Image", "status.nodeInfo.osImage", "<unknown>", 1));
  c.push_back(StringCol("Kernel-Version", "status.nodeInfo.kernelVersion", "<unknown>", 1));
  c.push_back(
      StringCol("Container-Runtime", "status.nodeInfo.containerRuntimeVersion", "<unknown>", 1));
  return c;
}

std::vector<PrinterColumn> PersistentVolumes() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(StringCol("Capacity", "spec.capacity.storage"));
  c.push_back(Col("Access Modes", "string", [](const json& o, SystemTime) {
    return json(AccessModes(At(o, "spec.accessModes")));
  }));
  c.push_back(StringCol("Reclaim Policy", "spec.persistentVolumeReclaimPolicy"));
  c.push_back(Col("Status", "string", [](const json& o, SystemTime) {
    return json(Deleting(o) ? "Terminating" : Str(o, "status.phase"));
  }));
  c.push_back(Col("Claim", "string", [](const json& o, SystemTime) {
    std::string name = Str(o, "spec.claimRef.name");
    return json(name.empty() ? "" : Str(o, "spec.claimRef.namespace") + "/" + name);
  }));
  c.push_back(StringCol("StorageClass", "spec.storageClassName"));
  c.push_back(StringCol("VolumeAttributesClass", "spec.volumeAttributesClassName", "<unset>"));
  c.push_back(StringCol("Reason", "status.reason"));
  c.push_back(AgeCol());
  c.push_back(StringCol("VolumeMode", "spec.volumeMode", "<unset>", 1));
  return c;
}

// kubectl's columns for ControllerRevisions: the owner as kind/name.
std::vector<PrinterColumn> ControllerRevisions() {
  std::vector<PrinterColumn> c{NameCol()};
  c.push_back(Col("Controller", "string", [](const json& o, SystemTime) {
    for (const json& r : At(o, "metadata.ownerReferences").is_array()
                             ? At(o, "metadata.ownerReferences")
                             : json::array()) {
      if (r.value("controller", false)) {
        std::string group = r.value("apiVersion", "");
        group = group.find('/') == std::string::npos ? "" : "." + group.substr(0, group.find('/'));
        std::string kind = r.value("kind", "");
        for (char& ch : kind) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return json(kind + group + "/" + r.value("name", ""));
      }
    }
    return json("<none>");
  }));
  c.push_back(Col("Revision", "integer",
                  [](const json& o, SystemTime) { return json(Int(o, "revision")); }));
  c.push_back(AgeCol());
  return c;
}

std::vector<PrinterColumn> StorageClasses() {
  std::vector<PrinterColumn> c;
  c.push_back(Col(
      "Name", "string",
      [](const json& o, SystemTime) {
        const json& ann = At(o, "metadata.annotations");
        bool is_default =
            ann.is_object() &&
            (ann.value("storageclass.kubernetes.io/is-default-class", "") == "true" ||
             ann.value("storageclass.beta.kubernetes.io/is-default-class", "") == "true");
        return json(Str(o, "metadata.name") + (is_default ? " (default)" : ""));
      },
      0, "name"));
  c.push_back(StringCol("Provisioner", "provisioner"));
  c.push_back(StringCol("ReclaimPolicy", "reclaimPolicy", "Delete"));
  c.push_back(StringCol("VolumeBindingMode", "volumeBindingMode", "Immediate"));
  c.push_back(Col("AllowVolumeExpansion", "string", [](const json& o, SystemTime) {
    return json(At(o, "allowVolumeExpansion") == true ? "true" : "false");
  }));
  c.push_back(AgeCol());
  return c;
}

std::vector<PrinterColumn> Events() {
  auto first_seen = [](const json& o, SystemTime now) {
    std::string first = Str(o, "firstTimestamp");
    return first.empty() ? TranslateTimestampSince(Str(o, "eventTime"), now)
                         : TranslateTimestampSince(first, now);
  };
  std::vector<PrinterColumn> c;
  c.push_back(Col("Last Seen", "string", [first_seen](const json& o, SystemTime now) {
    if (!Str(o, "series.lastObservedTime").empty()) {
      return json(TranslateTimestampSince(Str(o, "series.lastObservedTime"), now));
    }
    std::string last = Str(o, "lastTimestamp");
    return json(last.empty() ? first_seen(o, now) : TranslateTimestampSince(last, now));
  }));
  c.push_back(StringCol("Type", "type"));
  c.push_back(StringCol("Reason", "reason"));
  c.push_back(Col("Object", "string", [](const json& o, SystemTime) {
    std::string kind = Str(o, "involvedObject.kind");
    std::transform(kind.begin(), kind.end(), kind.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    std::string name = Str(o, "involvedObject.name");
    return json(name.empty() ? kind : kind + "/" + name);
  }));
  c.push_back(StringCol("Subobject", "involvedObject.fieldPath", "", 1));
  c.push_back(Col(
      "Source", "string",
      [](const json& o, SystemTime) {
        std::string component = Str(o, "source.component");
        if (component.empty()) component = Str(o, "reportingComponent");
        std::string host = Str(o, "source.host");
        if (host.empty()) host = Str(o, "reportingInstance");
        return json(host.empty() ? component : component + ", " + host);
      },
      1));
  c.push_back(Col("Message", "string", [](const json& o, SystemTime) {
    std::string m = Str(o, "message");
    size_t b = m.find_first_not_of(" \t\r\n");
    size_t e = m.find_last_not_of(" \t\r\n");
    return json(b == std::string::npos ? "" : m.substr(b, e - b + 1));
  }));
  c.push_back(Col(
      "First Seen", "string",
      [first_seen](const json& o, SystemTime now) { return json(first_seen(o, now)); }, 1));
  c.push_back(Col(
      "Count", "integer",
      [](const json& o, SystemTime) {
        if (At(o, "series.count").is_number()) return json(Int(o, "series.count"));
        int64_t count = Int(o, "count");
        return json(count == 0 ? 1 : count);
      },
      1));
  c.push_back(NameCol(1));
  return c;
}

// kube's formatEndpoints: ready ip:port pairs, three at most.
std::string EndpointsText(const json& endpoints) {
  const json& subsets = At(endpoints, "subsets");
  if (!subsets.is_array() || subsets.empty()) return "<none>";
  std::vector<std::string> list;
  size_t count = 0;
  bool more = false;
  auto add = [&](const std::string& text) {
    if (list.size() == 3) {
      more = true;
    } else {
      list.push_back(text);
    }
  };
  for (const json& ss : subsets) {
    const json& addresses = At(ss, "addresses");
    if (!addresses.is_array()) continue;
    const json& ports = At(ss, "ports");
    if (!ports.is_array() || ports.empty()) {
      count += addresses.size();
      for (const json& a : addresses) add(Str(a, "ip"));
      continue;
    }
    for (const json& p : ports) {
      count += addresses.size();
      for (const json& a : addresses) {
        std::string ip = Str(a, "ip");
        if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
        add(ip + ":" + std::to_string(Int(p, "port")));
      }
    }
  }
  std::string out;
  for (const std::string& s : list) out += (out.empty() ? "" : ",") + s;
  if (more) out += " + " + std::to_string(count - 3) + " more...";
  return out;
}

// kube-aggregator's printer: the Available condition, with its reason
// unless True; Unknown without one.
std::string ApiServiceAvailable(const json& apiservice) {
  const json& conditions = At(apiservice, "status.conditions");
  for (const json& c : conditions.is_array() ? conditions : json::array()) {
    if (Str(c, "type") != "Available") continue;
    if (Str(c, "status") == "True") return "True";
    return Str(c, "status") + " (" + Str(c, "reason") + ")";
  }
  return "Unknown";
}

// kube's printService: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), and the
// selector in the wide output.
std::vector<PrinterColumn> Services() {
  std::vector<PrinterColumn> c;
  c.push_back(NameCol());
  c.push_back(Col("Type", "string", [](const json& o, SystemTime) {
    std::string type = Str(o, "spec.type");
    return json(type.empty() ? "ClusterIP" : type);
  }));
  c.push_back(Col("Cluster-IP", "string", [](const json& o, SystemTime) {
    const json& ips = At(o, "spec.clusterIPs");
    if (ips.is_array() && !ips.empty() && ips[0].is_string()) return ips[0];
    std::string ip = Str(o, "spec.clusterIP");
    return json(ip.empty() ? "<none>" : ip);
  }));
  c.push_back(Col("External-IP", "string", [](const json& o, SystemTime) {
    const std::string type = Str(o, "spec.type");
    if (type == "ExternalName") return json(Str(o, "spec.externalName"));
    std::vector<std::string> ips;
    const json& external = At(o, "spec.externalIPs");
    for (const json& ip : external.is_array() ? external : json::array()) {
      if (ip.is_string()) ips.push_back(ip.get<std::string>());
    }
    if (type == "LoadBalancer") {
      const json& ingress = At(o, "status.loadBalancer.ingress");
      for (const json& i : ingress.is_array() ? ingress : json::array()) {
        std::string v = Str(i, "ip");
        if (v.empty()) v = Str(i, "hostname");
        if (!v.empty()) ips.push_back(v);
      }
      if (ips.empty()) return json("<pending>");
    }
    std::string out;
    for (const std::string& ip : ips) out += (out.empty() ? "" : ",") + ip;
    return json(out.empty() ? "<none>" : out);
  }));
  c.push_back(Col("Port(s)", "string", [](const json& o, SystemTime) {
    std::string out;
    const json& ports = At(o, "spec.ports");
    for (const json& p : ports.is_array() ? ports : json::array()) {
      std::string protocol = Str(p, "protocol");
      if (protocol.empty()) protocol = "TCP";
      std::string one = std::to_string(Int(p, "port"));
      if (Int(p, "nodePort") > 0) one += ":" + std::to_string(Int(p, "nodePort"));
      out += (out.empty() ? "" : ",") + one + "/" + protocol;
    }
    return json(out.empty() ? "<none>" : out);
  }));
  c.push_back(AgeCol());
  c.push_back(Col(
      "Selector", "string",
      [](const json& o, SystemTime) {
        const json& sel = At(o, "spec.selector");
        if (!sel.is_object() || sel.empty()) return json("<none>");
        return json(SelectorText(json{{"matchLabels", sel}}));
      },
      1));
  return c;
}

std::vector<PrinterColumn> Build(std::string_view resource) {
  if (resource == "services") return Services();
  if (resource == "endpoints") {
    return {NameCol(),
            Col("Endpoints", "string",
                [](const json& o, SystemTime) { return json(EndpointsText(o)); }),
            AgeCol()};
  }
  if (resource == "validatingwebhookconfigurations" ||
      resource == "mutatingwebhookconfigurations") {
    return {NameCol(),
            Col("Webhooks", "integer",
                [](const json& o, SystemTime) {
                  const json& w = At(o, "webhooks");
                  return json(static_cast<int64_t>(w.is_array() ? w.size() : 0));
                }),
            AgeCol()};
  }
  if (resource == "apiservices") {
    return {NameCol(),
            Col("Service", "string",
                [](const json& o, SystemTime) {
                  if (!At(o, "spec.service").is_object()) return json("Local");
                  return json(Str(o, "spec.service.namespace") + "/" + Str(o, "spec.service.name"));
                }),
            Col("Available", "string",
                [](const json& o, SystemTime) { return json(ApiServiceAvailable(o)); }),
            AgeCol()};
  }
  if (resource == "namespaces") {
    return {NameCol(),
            Col("Status", "string",
                [](const json& o, SystemTime) {
                  std::string phase = Str(o, "status.phase");
                  if (phase.empty()) phase = Deleting(o) ? "Terminating" : "Active";
                  return json(phase);
                }),
            AgeCol()};
  }
  if (resource == "secrets") {
    return {NameCol(), StringCol("Type", "type"),
            Col("Data", "integer",
                [](const json& o, SystemTime) {
                  const json& d = At(o, "data");
                  return json(static_cast<int64_t>(d.is_object() ? d.size() : 0));
                }),
            AgeCol()};
  }
  if (resource == "configmaps") {
    return {NameCol(),
            Col("Data", "integer",
                [](const json& o, SystemTime) {
                  const json& d = At(o, "data");
                  const json& b = At(o, "binaryData");
                  return json(static_cast<int64_t>((d.is_object() ? d.size() : 0) +
                                                   (b.is_object() ? b.size() : 0)));
                }),
            AgeCol()};
  }
  if (resource == "leases") {
    return {NameCol(), StringCol("Holder", "spec.holderIdentity"), AgeCol()};
  }
  if (resource == "serviceaccounts") {
    return {NameCol(),
            Col("Secrets", "integer",
                [](const json& o, SystemTime) {
                  const json& s = At(o, "secrets");
                  return json(static_cast<int64_t>(s.is_array() ? s.size() : 0));
                }),
            AgeCol()};
  }
  if (resource == "roles" || resource == "clusterroles") {
    return {NameCol(), Col("Created At", "date", [](const json& o, SystemTime) {
              Result<SystemTime> t = ParseTimestamp(Str(o, "metadata.creationTimestamp"));
              return t.ok() ? json(FormatTimestamp(*t)) : json(nullptr);
            })};
  }
  if (resource == "rolebindings" || resource == "clusterrolebindings") {
    // Users, Groups and ServiceAccounts ("ns/name") in the wide output.
    auto subjects = [](const char* kind) {
      return [kind](const json& o, SystemTime) {
        std::string out;
        const json& list = At(o, "subjects");
        for (const json& s : list.is_array() ? list : json::array()) {
          if (Str(s, "kind") != kind) continue;
          if (!out.empty()) out += ", ";
          std::string ns = Str(s, "namespace");
          out += std::string(kind) == "ServiceAccount" ? ns + "/" + Str(s, "name") : Str(s, "name");
        }
        return json(out);
      };
    };
    return {NameCol(),
            Col("Role", "string",
                [](const json& o, SystemTime) {
                  return json(Str(o, "roleRef.kind") + "/" + Str(o, "roleRef.name"));
                }),
            AgeCol(),
            Col("Users", "string", subjects("User"), 1),
            Col("Groups", "string", subjects("Group"), 1),
            Col("ServiceAccounts", "string", subjects("ServiceAccount"), 1)};
  }
  if (resource == "customresourcedefinitions") {
    return {NameCol(), Col("Created At", "date", [](const json& o, SystemTime) {
              Result<SystemTime> t = ParseTimestamp(Str(o, "metadata.creationTimestamp"));
              return t.ok() ? json(FormatTimestamp(*t)) : json(nullptr);
            })};
  }
  if (resource == "pods") return Pods();
  if (resource == "deployments") return Deployments();
  if (resource == "statefulsets") return StatefulSets();
  if (resource == "replicasets") return ReplicaSets();
  if (resource == "daemonsets") return DaemonSets();
  if (resource == "cronjobs") return CronJobs();
  if (resource == "jobs") return Jobs();
  if (resource == "persistentvolumeclaims") return PersistentVolumeClaims();
  if (resource == "events") return Events();
  if (resource == "nodes") return Nodes();
  if (resource == "persistentvolumes") return PersistentVolumes();
  if (resource == "storageclasses") return StorageClasses();
  if (resource == "controllerrevisions") return ControllerRevisions();
  return {};
}

}  // namespace

std::optional<std::vector<PrinterColumn>> BuiltinColumns(std::string_view resource) {
  std::vector<PrinterColumn> cols = Build(resource);
  if (cols.empty()) return std::nullopt;
  return cols;
}

}  // namespace stash::api
