// What the two transports of pods/exec share: kubectl exec over WebSocket
// (pod_exec.cc, v5/v4.channel.k8s.io) and over SPDY/3.1 (pod_exec_spdy.cc,
// v4/v3/v2.channel.k8s.io), both driving the node's ExecProcess.
//
// Thread-safety: the free functions are stateless; StdinPump is
// thread-safe; a session is used as its UpgradeHandler contract says (see
// http_server.h).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "http_server.h"
#include "stash/api/pod_streams.h"
#include "stash/core/result.h"

namespace stash::api {

// The client's stdin on its way into the command, for both transports: the
// event loop queues what arrives (never blocking), a thread of the session
// writes it into the command (a write blocks while the command does not
// read). Reading from the client pauses above 4 MiB queued and resumes below
// 1 MiB, so a command slower than its client holds a bounded backlog while
// TCP pushes back on the client.
class StdinPump {
 public:
  explicit StdinPump(ExecProcess& proc) : proc_(proc) {}
  // The connection to pause; set once it is open.
  void Attach(std::shared_ptr<UpgradedConnection> connection);
  // From the event loop: bytes for the command; the end of its input.
  void Push(std::string bytes);
  void PushEnd();
  // The session is over: Run writes what is queued, then returns.
  void Stop();
  // The writing thread's body: until Stop (or a write fails).
  void Run();

 private:
  struct Chunk {
    bool eof = false;
    std::string bytes;
  };
  ExecProcess& proc_;
  std::mutex mu_;  // taken after the session's own lock, never before it
  std::condition_variable cv_;
  std::shared_ptr<UpgradedConnection> conn_;  // guarded by mu_
  std::deque<Chunk> queue_;                   // guarded by mu_
  size_t queued_bytes_ = 0;                   // guarded by mu_
  bool paused_ = false, stopped_ = false;     // guarded by mu_
};

// What both exec sessions do alike: keep the connection, run the command's
// output (Output, the transport's own) and its stdin (StdinPump) on two
// threads of their own so the event loop never blocks, and end the command
// when the client goes away.
class ExecSession : public UpgradeHandler, public std::enable_shared_from_this<ExecSession> {
 public:
  void OnOpen(std::shared_ptr<UpgradedConnection> connection, std::string early) final;
  void OnClose() final;

 protected:
  explicit ExecSession(std::unique_ptr<ExecProcess> proc)
      : proc_(std::move(proc)), stdin_(*proc_) {}
  // The command's output to the client until its end (its own thread).
  virtual void Output() = 0;
  void Send(std::string bytes) {
    std::lock_guard lock(mu_);
    SendLocked(std::move(bytes));
  }
  void SendLocked(std::string bytes) {
    if (conn_) conn_->Send(std::move(bytes));
  }
  std::unique_ptr<ExecProcess> proc_;
  StdinPump stdin_;
  std::mutex mu_;
  std::condition_variable cv_;                // mu_'s: closed_ and the transport's own state
  std::shared_ptr<UpgradedConnection> conn_;  // guarded by mu_
  bool closed_ = false;                       // guarded by mu_
};

// Whether the comma-separated header value `list` holds `token` (any case).
bool HasToken(const std::string& list, std::string_view token);

// The metav1.Status kube's v4 and v5 protocols send for the command's end:
// Success, or Failure with reason NonZeroExitCode and the code in
// details.causes[ExitCode] (kubectl exits with it), or InternalError.
nlohmann::json ExecExitStatus(const Result<int>& code);

struct SpdyExecOptions {
  int protocol = 4;  // the negotiated vN.channel.k8s.io: 2, 3 or 4
  bool want_stdin = false, want_stdout = false, want_stderr = false, tty = false;
};

// The remotecommand subprotocols this server speaks over SPDY, best first.
inline constexpr std::string_view kSpdyExecProtocols[] = {"v4.channel.k8s.io", "v3.channel.k8s.io",
                                                          "v2.channel.k8s.io"};

// The protocol for a request with `Upgrade: SPDY/3.1`: the first of the
// client's X-Stream-Protocol-Version values this server speaks, as
// kube-apiserver picks it; false (with what the client offered) for none.
bool NegotiateSpdyExec(const HttpRequest& req, int* protocol, std::string* offered);

// The session behind a 101 `Upgrade: SPDY/3.1` answer: waits for the
// client's streams (error, stdin, stdout, stderr, resize, named by their
// `streamtype` header), runs `proc`'s input and output through them and
// ends with the Status on the error stream.
std::shared_ptr<UpgradeHandler> NewSpdyExecSession(std::unique_ptr<ExecProcess> proc,
                                                   SpdyExecOptions options);

}  // namespace stash::api
