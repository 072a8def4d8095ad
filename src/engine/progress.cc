#include "stash/engine/progress.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "restic_json.h"
#include "stash/core/units.h"
#include "stash/format/gojson.h"

namespace stash::engine {

void BackupProgress::StartFile(const std::string& path) {
  std::lock_guard lock(files_mu_);
  current_files_.insert(path);
}

void BackupProgress::FinishFile(const std::string& path) {
  std::lock_guard lock(files_mu_);
  if (auto it = current_files_.find(path); it != current_files_.end()) current_files_.erase(it);
}

std::vector<std::string> BackupProgress::CurrentFiles() const {
  std::lock_guard lock(files_mu_);
  std::vector<std::string> out(current_files_.begin(), current_files_.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ProgressMeter::ProgressMeter(const BackupProgress& counters, Clock& clock, Duration window)
    : counters_(counters), clock_(clock), window_(window), start_(clock.Now()) {}

ProgressReport ProgressMeter::Sample() {
  const SystemTime now = clock_.Now();
  ProgressReport r;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  r.seconds_elapsed = static_cast<uint64_t>(std::max(0.0, elapsed));
  r.files_done = counters_.files_done;
  r.bytes_done = counters_.bytes_done;
  r.total_files = counters_.total_files;
  r.total_bytes = counters_.total_bytes;
  r.errors = counters_.errors;
  r.scan_finished = counters_.scan_finished;
  r.current_files = counters_.CurrentFiles();
  if (r.total_bytes > 0) {
    r.percent_done = std::min(1.0, static_cast<double>(r.bytes_done) / r.total_bytes);
  }
  // Current rate: bytes over the window, from the oldest sample inside it
  // (or the start, early on).
  history_.emplace_back(now, r.bytes_done);
  while (history_.size() > 2 && now - history_[1].first >= window_) history_.pop_front();
  const auto& [then, bytes_then] = history_.front();
  const double span = std::chrono::duration<double>(now - then).count();
  if (history_.size() > 1 && span > 0) {
    r.bytes_per_second =
        static_cast<double>(r.bytes_done - std::min(bytes_then, r.bytes_done)) / span;
  } else if (elapsed > 0) {
    r.bytes_per_second = r.bytes_done / elapsed;
  }
  // restic 0.14 (ui/backup/progress.go): whole seconds elapsed, average rate.
  if (r.scan_finished && r.bytes_done > 0 && r.total_bytes > r.bytes_done) {
    const double secs = static_cast<double>(r.seconds_elapsed);
    r.seconds_remaining = static_cast<uint64_t>(secs / static_cast<double>(r.bytes_done) *
                                                static_cast<double>(r.total_bytes - r.bytes_done));
  } else if (r.scan_finished) {
    r.seconds_remaining = 0;
  }
  return r;
}

ProgressReporter::ProgressReporter(const BackupProgress& counters, Clock& clock, Duration interval,
                                   Callback cb)
    : meter_(counters, clock),
      clock_(clock),
      interval_(interval),
      cb_(std::move(cb)),
      next_(clock.Now() + interval) {
  thread_ = std::thread([this] { Loop(); });
}

ProgressReporter::~ProgressReporter() { Stop(); }

void ProgressReporter::Stop(bool final_report) {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (final_report && cb_) cb_(meter_.Sample());
  cb_ = nullptr;
}

void ProgressReporter::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    // The clock is injected; the real wait only bounds how late a due time
    // or a stop is noticed, so a manual clock drives this too.
    while (!stop_ && clock_.Now() < next_) {
      cv_.wait_for(lock, std::min<Duration>(interval_, std::chrono::milliseconds(20)));
    }
    if (stop_) break;
    lock.unlock();
    cb_(meter_.Sample());
    lock.lock();
    // A report slower than the interval does not queue up reports behind it.
    next_ = std::max(next_ + interval_, clock_.Now());
  }
}

std::optional<Duration> ProgressIntervalFromFps(const std::string& fps) {
  if (fps.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(fps.c_str(), &end);
  if (!end || *end || !(v > 0)) return std::nullopt;
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(1.0 / std::min(v, 60.0)));
}

std::string FormatSeconds(uint64_t sec) {
  const uint64_t hours = sec / 3600;
  sec -= hours * 3600;
  const uint64_t min = sec / 60;
  sec -= min * 60;
  char buf[64];
  if (hours > 0) {
    snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", (unsigned long long)hours,
             (unsigned long long)min, (unsigned long long)sec);
  } else {
    snprintf(buf, sizeof buf, "%llu:%02llu", (unsigned long long)min, (unsigned long long)sec);
  }
  return buf;
}

std::string FormatPercent(uint64_t numerator, uint64_t denominator) {
  if (denominator == 0) return "";
  double pct = 100.0 * static_cast<double>(numerator) / static_cast<double>(denominator);
  if (pct > 100) pct = 100;
  char buf[32];
  snprintf(buf, sizeof buf, "%3.2f%%", pct);
  return buf;
}

std::string FormatStatusLine(const ProgressReport& r) {
  const std::string elapsed = "[" + FormatSeconds(r.seconds_elapsed) + "] ";
  if (r.total_files == 0) {
    return elapsed + std::to_string(r.files_done) + " files, " + FormatBytes(r.bytes_done) + ", " +
           std::to_string(r.errors) + " errors";
  }
  std::string eta, percent;
  if (r.seconds_remaining && *r.seconds_remaining > 0 && r.bytes_done < r.total_bytes) {
    eta = " ETA " + FormatSeconds(*r.seconds_remaining);
    percent = FormatPercent(r.bytes_done, r.total_bytes) + "  ";
  }
  return elapsed + percent + std::to_string(r.files_done) + " files " + FormatBytes(r.bytes_done) +
         ", total " + std::to_string(r.total_files) + " files " + FormatBytes(r.total_bytes) +
         ", " + std::to_string(r.errors) + " errors" + eta;
}

std::string FormatStatusJson(const ProgressReport& r) {
  // Field order and omitempty as restic 0.14's statusUpdate.
  std::string s = "{\"message_type\":\"status\"";
  if (r.seconds_elapsed) s += ",\"seconds_elapsed\":" + std::to_string(r.seconds_elapsed);
  if (r.seconds_remaining && *r.seconds_remaining) {
    s += ",\"seconds_remaining\":" + std::to_string(*r.seconds_remaining);
  }
  s += ",\"percent_done\":";
  format::AppendGoJsonFloat(&s, r.percent_done);
  if (r.total_files) s += ",\"total_files\":" + std::to_string(r.total_files);
  if (r.files_done) s += ",\"files_done\":" + std::to_string(r.files_done);
  if (r.total_bytes) s += ",\"total_bytes\":" + std::to_string(r.total_bytes);
  if (r.bytes_done) s += ",\"bytes_done\":" + std::to_string(r.bytes_done);
  if (r.errors) s += ",\"error_count\":" + std::to_string(r.errors);
  if (!r.current_files.empty()) {
    s += ",\"current_files\":[";
    for (size_t i = 0; i < r.current_files.size(); ++i) {
      if (i) s += ",";
      format::AppendGoJsonString(&s, r.current_files[i]);
    }
    s += "]";
  }
  return s + "}";
}

std::optional<ProgressReport> ParseStatusJson(std::string_view line) {
  const std::optional<nlohmann::json> m = ResticMessage(line, "status");
  if (!m) return std::nullopt;
  const nlohmann::json& j = *m;
  ProgressReport r;
  ReadCounters(j, {{"seconds_elapsed", &r.seconds_elapsed},
                   {"total_files", &r.total_files},
                   {"files_done", &r.files_done},
                   {"total_bytes", &r.total_bytes},
                   {"bytes_done", &r.bytes_done},
                   {"error_count", &r.errors}});
  uint64_t remaining = 0;
  if (j.contains("seconds_remaining")) {
    ReadCounters(j, {{"seconds_remaining", &remaining}});
    r.seconds_remaining = remaining;
    r.scan_finished = true;  // restic gives a time left only then
  }
  if (auto p = j.find("percent_done"); p != j.end() && p->is_number()) {
    r.percent_done = p->get<double>();
  }
  if (auto files = j.find("current_files"); files != j.end() && files->is_array()) {
    for (const auto& f : *files) {
      if (f.is_string()) r.current_files.push_back(f.get<std::string>());
    }
  }
  return r;
}

}  // namespace stash::engine
