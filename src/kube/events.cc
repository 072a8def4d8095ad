#include "stash/kube/events.h"

#include <cstdio>
#include <ctime>

namespace stash::kube {

std::string FormatTime(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<SystemTime> ParseTime(std::string_view s) {
  std::tm tm{};
  int consumed = 0;
  std::string str(s);
  if (sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return InvalidError("\"" + str + "\" is not an RFC 3339 time");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  SystemTime t = std::chrono::system_clock::from_time_t(timegm(&tm));
  std::string_view rest = s.substr(consumed);
  if (!rest.empty() && rest[0] == '.') {  // fractional seconds
    size_t i = 1;
    long long frac = 0;
    int digits = 0;
    while (i < rest.size() && isdigit(uint8_t(rest[i]))) {
      if (digits < 9) {
        frac = frac * 10 + (rest[i] - '0');
        ++digits;
      }
      ++i;
    }
    while (digits++ < 9) frac *= 10;
    t += std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(frac));
    rest = rest.substr(i);
  }
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-') && rest.size() >= 6) {
    int hh = std::stoi(std::string(rest.substr(1, 2)));
    int mm = std::stoi(std::string(rest.substr(4, 2)));
    auto off = std::chrono::hours(hh) + std::chrono::minutes(mm);
    t += rest[0] == '+' ? -off : off;
  }
  return t;
}

Status EventRecorder::Record(const json& involved, std::string_view type, std::string_view reason,
                             std::string_view message) {
  const json& meta = involved.value("metadata", json::object());
  std::string ns = meta.value("namespace", "default");
  std::string name = meta.value("name", "");
  std::string uid = meta.value("uid", "");
  std::string kind = involved.value("kind", "");
  std::string now = FormatTime(clock_.Now());

  ListOptions opts;
  opts.field_selector = "involvedObject.name=" + name + ",involvedObject.kind=" + kind;
  if (auto existing = client_.List(res::kEvents, ns, opts); existing.ok()) {
    for (const json& ev : existing->value("items", json::array())) {
      if (ev.value("/involvedObject/uid"_json_pointer, "") != uid || ev.value("type", "") != type ||
          ev.value("reason", "") != reason || ev.value("message", "") != message ||
          ev.value("/source/component"_json_pointer, "") != component_) {
        continue;
      }
      json patch = {{"count", ev.value("count", 1) + 1}, {"lastTimestamp", now}};
      auto patched = client_.Patch(res::kEvents, ns, ev.value("/metadata/name"_json_pointer, ""),
                                   PatchType::kMerge, patch);
      if (patched.ok()) return Status::Ok();
      break;  // fall through to creating a fresh event
    }
  }

  auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch()).count();
  char hex[32];
  snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  json ev = {
      {"metadata", {{"name", name + "." + hex}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", involved.value("apiVersion", "")},
        {"kind", kind},
        {"name", name},
        {"namespace", ns},
        {"uid", uid},
        {"resourceVersion", meta.value("resourceVersion", "")}}},
      {"reason", reason},
      {"message", message},
      {"type", type},
      {"source", {{"component", component_}}},
      {"count", 1},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"reportingComponent", component_},
      {"reportingInstance", ""},
  };
  auto created = client_.Create(res::kEvents, ns, ev);
  if (!created.ok()) {
    return Status(created.status())
        .Prepend("recording event " + std::string(reason) + " on " + kind + " " + ns + "/" + name);
  }
  return Status::Ok();
}

}  // namespace stash::kube
