// Child processes: run a command to completion capturing its output, or keep
// one running in the background (the node runtime's containers).
//
// Thread-safety: RunProcess is reentrant. A ChildProcess object is used by
// one thread at a time.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::agent {

using EnvMap = std::map<std::string, std::string>;

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out, err;
};

// Runs argv[0] (a path) with the current environment plus `env`. Setting
// `cancel` sends SIGTERM. `on_line` (optional) gets each complete line of
// stdout as it arrives, on the calling thread. Fails only when the process
// cannot be started.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const EnvMap& env,
                                 const std::atomic<bool>* cancel = nullptr,
                                 const std::function<void(std::string_view line)>& on_line = {});

// RunProcess with a deadline: past `timeout` a watchdog thread sends the
// process SIGTERM and *timed_out is set (the result is then what it printed
// before it stopped). For commands that must not hang their caller (podman
// behind a stuck registry, an exec hook).
Result<ProcessResult> RunProcessFor(const std::vector<std::string>& argv, const EnvMap& env,
                                    std::chrono::nanoseconds timeout, bool* timed_out);

// Path of the running executable (/proc/self/exe).
std::string SelfExe();

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts in its own process group; output is appended to `log_path`. Its
  // environment is this process's plus `env`, or with `clean_env` `env`
  // alone (a pod's container: none of the server's variables).
  Status Start(const std::vector<std::string>& argv, const EnvMap& env, const std::string& log_path,
               bool clean_env = false);
  // True while running; reaps it (and records the exit code) once it ended.
  bool Running();
  int exit_code() const { return exit_code_; }
  // SIGTERM to the group, SIGKILL after `grace`.
  void Stop(int grace_ms = 3000);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace stash::agent
