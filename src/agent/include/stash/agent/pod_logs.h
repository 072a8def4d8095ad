// Container logs as `kubectl logs` shows them, read from the CRI log files
// the runtime writes ("<RFC3339Nano> stdout|stderr P|F <text>" per line; P
// marks a line split by the runtime), as kubelet reads them: --tail N,
// --since, --timestamps, --limit-bytes, and -f (follows the file while the
// container runs).
//
// KubeletPodStreams is the node's api::PodStreams: pods/log and pods/exec
// of the containers a Kubelet runs.
//
// Thread-safety: a CriLogSource is used by one thread at a time;
// KubeletPodStreams is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "stash/agent/kubelet.h"
#include "stash/api/pod_streams.h"

namespace stash::agent {

// What file `path` holds past *offset (advanced past it): the new part of a
// log that a container appends to. "" when it cannot be opened (not written yet).
std::string ReadLogFrom(const std::string& path, uint64_t* offset);

class CriLogSource : public api::ByteSource {
 public:
  // `running` tells whether the container may still write (follow ends
  // once it says false and the file is read to its end).
  CriLogSource(std::string path, api::PodLogOptions options, std::function<bool()> running,
               SystemTime now);
  bool Next(std::string* chunk, std::chrono::steady_clock::time_point until) override;

  // One log line's text as kubectl shows it (with its timestamp when
  // asked); false for a line that is not CRI's format.
  struct Line {
    std::string time;
    std::string text;
    bool partial = false;
  };
  static bool ParseLine(std::string_view raw, Line* out);

 private:
  // Lines of `data` from the first that qualifies (tail, since) to the end.
  std::string Render(std::string_view data, bool first);
  void ReadMore();

  std::string path_;
  api::PodLogOptions opts_;
  std::function<bool()> running_;
  std::string since_;  // RFC 3339 bound, "" for none
  bool started_ = false;
  uint64_t offset_ = 0;
  std::string pending_;  // an incomplete last line
  std::string out_;      // rendered, not yet returned
  int64_t sent_ = 0;
  bool done_ = false;
};

class KubeletPodStreams : public api::PodStreams {
 public:
  KubeletPodStreams(Kubelet& kubelet, ContainerRuntime& runtime, Clock& clock)
      : kubelet_(kubelet), runtime_(runtime), clock_(clock) {}
  Result<std::unique_ptr<api::ByteSource>> Logs(const api::ContainerRef& c,
                                                const api::PodLogOptions& options) override;
  Status CanExec(const api::ContainerRef& c) override;
  Result<std::unique_ptr<api::ExecProcess>> Exec(const api::ContainerRef& c,
                                                 const api::ExecCommand& command) override;

 private:
  Kubelet& kubelet_;
  ContainerRuntime& runtime_;
  Clock& clock_;
};

}  // namespace stash::agent
