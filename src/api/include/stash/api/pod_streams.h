// PodStreams: what the API server's pods/log and pods/exec subresources need
// from the node that runs the pods (kubelet's streaming server). The API
// server authenticates and authorizes the request (RBAC `get pods/log`,
// `create pods/exec`), finds the Pod and its container, then hands over; it
// never knows how the node runs containers (`cli` wires the node in).
//
// Thread-safety: implementations are called from many request threads at
// once and must be thread-safe; a returned stream or process is used by one
// thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"

namespace stash::api {

// Bytes produced over time (a log being followed).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Appends what is available by `until` to *chunk (possibly nothing);
  // false once there is nothing more to come.
  virtual bool Next(std::string* chunk, std::chrono::steady_clock::time_point until) = 0;
};

// A command running in a container (kubectl exec).
class ExecProcess {
 public:
  virtual ~ExecProcess() = default;
  // Blocks until written (or the process is gone).
  virtual Status WriteStdin(std::string_view bytes) = 0;
  virtual void CloseStdin() = 0;
  // Terminal size, with a tty.
  virtual void Resize(uint16_t width, uint16_t height) = 0;
  // Next output, up to `until`: false at the end of output; *stream is 1
  // (stdout) or 2 (stderr; never with a tty).
  virtual bool Read(std::string* chunk, int* stream,
                    std::chrono::steady_clock::time_point until) = 0;
  // After the end of output: the command's exit code (128+N for signal N).
  virtual Result<int> Wait() = 0;
  // Ends the command (the client went away).
  virtual void Kill() = 0;
};

struct PodLogOptions {
  bool follow = false;
  bool previous = false;
  bool timestamps = false;
  std::optional<int64_t> tail_lines;
  std::optional<int64_t> limit_bytes;
  std::optional<int64_t> since_seconds;
  std::optional<std::string> since_time;  // RFC 3339
};

// The container a pods/log or pods/exec request is for: pod ns/pod as the
// API server holds it (`uid`: a node answers for that pod, not for a newer
// one of the same name).
struct ContainerRef {
  std::string ns, pod, uid, container;
};

// What kubectl exec runs: the command, with a terminal or not, with stdin or not.
struct ExecCommand {
  std::vector<std::string> argv;
  bool tty = false;
  bool stdin = false;
};

class PodStreams {
 public:
  virtual ~PodStreams() = default;
  // The container's log. kInvalid with kubelet's message when it has not run
  // (or has no previous run).
  virtual Result<std::unique_ptr<ByteSource>> Logs(const ContainerRef& c,
                                                   const PodLogOptions& options) = 0;
  // Whether Exec into the container could start now (kInvalid, kUnsupported
  // with the reason when not): answered before the protocol is settled, so
  // a client that falls back to another protocol gets the same reason.
  virtual Status CanExec(const ContainerRef& c) = 0;
  virtual Result<std::unique_ptr<ExecProcess>> Exec(const ContainerRef& c,
                                                    const ExecCommand& command) = 0;
};

}  // namespace stash::api
