// Live progress of a backup, as users see it: bytes and files done and in
// total, the current rate, the time left. A ProgressMeter turns the archiver's
// counters (BackupProgress) into ProgressReports; a ProgressReporter samples
// one on its own thread every interval and hands it to a callback (the CLI's
// status line or JSON "status" message, the sidecar's BackupSession status).
//
//   BackupProgress counters;
//   ProgressReporter reporter(counters, clock, std::chrono::seconds(1),
//                             [](const ProgressReport& r) { Show(r); });
//   auto stats = Backup(repo, opts, clock, &counters, on_error);
//   reporter.Stop();   // one last report, then the thread ends
//
// The time left is restic 0.14's: known once the scan has finished and
// something was done, elapsed / bytes_done * bytes_left.
//
// Thread-safety: ProgressMeter::Sample may be called from any one thread at a
// time; ProgressReporter's callback runs on the reporter's thread, serially.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "stash/core/clock.h"
#include "stash/engine/backup.h"

namespace stash::engine {

struct ProgressReport {
  uint64_t seconds_elapsed = 0;
  uint64_t files_done = 0;
  uint64_t bytes_done = 0;
  uint64_t total_files = 0;  // grows while the scan runs
  uint64_t total_bytes = 0;
  uint64_t errors = 0;
  bool scan_finished = false;
  double percent_done = 0;                    // 0..1 of bytes
  double bytes_per_second = 0;                // over the last few seconds
  std::optional<uint64_t> seconds_remaining;  // once the scan finished
  std::vector<std::string> current_files;
};

class ProgressMeter {
 public:
  // `window`: how far back the current rate looks.
  ProgressMeter(const BackupProgress& counters, Clock& clock,
                Duration window = std::chrono::seconds(5));
  ProgressReport Sample();

 private:
  const BackupProgress& counters_;
  Clock& clock_;
  const Duration window_;
  const SystemTime start_;
  std::deque<std::pair<SystemTime, uint64_t>> history_;  // (when, bytes_done)
};

class ProgressReporter {
 public:
  using Callback = std::function<void(const ProgressReport&)>;
  ProgressReporter(const BackupProgress& counters, Clock& clock, Duration interval, Callback cb);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Ends the thread; with `final_report`, calls the callback once more first.
  void Stop(bool final_report = false);

 private:
  void Loop();

  ProgressMeter meter_;
  Clock& clock_;
  const Duration interval_;
  Callback cb_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  SystemTime next_;  // when the next report is due
  std::thread thread_;
};

// restic's RESTIC_PROGRESS_FPS: updates per second (capped at 60); nullopt
// when unset or not a positive number.
std::optional<Duration> ProgressIntervalFromFps(const std::string& fps);

// restic 0.14's formats: "M:SS" / "H:MM:SS", "12.34%".
std::string FormatSeconds(uint64_t seconds);
std::string FormatPercent(uint64_t numerator, uint64_t denominator);

// restic 0.14's backup status line (without current files):
// "[0:12] 45.10%  120 files 1.203 GiB, total 300 files 2.667 GiB, 0 errors ETA 0:14".
std::string FormatStatusLine(const ProgressReport& r);

// restic 0.14's --json status message (one line, no newline).
std::string FormatStatusJson(const ProgressReport& r);
// A --json status message (restic's or ours) back into a report, for the
// runner that drives a restic binary; nullopt when `line` is not one. The
// rate is not in the message (bytes_per_second stays 0).
std::optional<ProgressReport> ParseStatusJson(std::string_view line);

}  // namespace stash::engine
