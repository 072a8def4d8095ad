// What the two transports of pods/exec share: kubectl exec over WebSocket
// (pod_exec.cc, v5/v4.channel.k8s.io) and over SPDY/3.1 (pod_exec_spdy.cc,
// v4/v3/v2.channel.k8s.io), both driving the node's ExecProcess.
//
// Thread-safety: stateless free functions; a session is used as its
// UpgradeHandler contract says (see http_server.h).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "http_server.h"
#include "stash/api/pod_streams.h"
#include "stash/core/result.h"

namespace stash::api {

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
