// PeerProcess: starts a real test peer (rclone, moto_server, Azurite, the GCS
// emulator) on 127.0.0.1, waits until its port accepts connections, and
// stops it by pid on destruction. Test-only.
//
// Thread-safety: not thread-safe; own one from one thread (a test fixture).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "stash/core/result.h"

namespace stash::backend::testing {

// A port that was free a moment ago on 127.0.0.1.
int FreePort();

// True when CI=true: missing peers are failures, not skips.
bool PeersRequired();

// Searches PATH for `name`; empty when absent.
std::string FindProgram(const std::string& name);

// The npm peers' bin directory (tests/peers/node_modules/.bin).
std::string NpmBin(const std::string& program);

class PeerProcess {
 public:
  PeerProcess() = default;
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  ~PeerProcess() { Stop(); }

  // Runs argv with extra environment; output goes to `log_path`. Returns
  // once 127.0.0.1:port accepts a TCP connection (or fails after `wait_ms`
  // with the log's tail in the message).
  Status Start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               int port, const std::string& log_path, int wait_ms = 30000);
  void Stop();
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace stash::backend::testing
