// ApiHandler::PodExec: pods/exec (kubectl exec) over WebSocket with the
// channel protocols kubectl 1.30+ speaks first (v5.channel.k8s.io, and
// v4.channel.k8s.io): binary messages whose first byte is the channel
// (0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 terminal size; v5's
// 255 closes the channel named by the next byte). The node runs the command
// (PodStreams::Exec); two threads per session move its output out and the
// client's stdin in, so the server's event loop never blocks.
#include "pod_exec.h"

#include <openssl/sha.h>

#include "errors.h"
#include "handler.h"
#include "stash/core/base64.h"

namespace stash::api {

namespace {

constexpr size_t kMaxFrame = 1 << 20;  // stdin arrives in small messages

std::string Frame(uint8_t opcode, std::string_view payload) {
  std::string f;
  f.push_back(char(0x80 | opcode));
  if (payload.size() < 126) {
    f.push_back(char(payload.size()));
  } else if (payload.size() < 65536) {
    f.push_back(char(126));
    f.push_back(char(payload.size() >> 8));
    f.push_back(char(payload.size() & 0xff));
  } else {
    f.push_back(char(127));
    for (int i = 7; i >= 0; --i) f.push_back(char((uint64_t(payload.size()) >> (8 * i)) & 0xff));
  }
  f.append(payload);
  return f;
}

std::string ChannelFrame(uint8_t channel, std::string_view data) {
  std::string payload(1, char(channel));
  payload.append(data);
  return Frame(0x2, payload);
}

class WebSocketExecSession final : public ExecSession {
 public:
  WebSocketExecSession(std::unique_ptr<ExecProcess> proc, bool v5)
      : ExecSession(std::move(proc)), v5_(v5) {}

  void OnData(std::string_view bytes) override {
    in_.append(bytes);
    while (true) {
      if (in_.size() < 2) return;
      const uint8_t b0 = uint8_t(in_[0]), b1 = uint8_t(in_[1]);
      size_t pos = 2;
      uint64_t len = b1 & 0x7f;
      if (len == 126 || len == 127) {
        size_t n = len == 126 ? 2 : 8;
        if (in_.size() < pos + n) return;
        len = 0;
        for (size_t i = 0; i < n; ++i) len = (len << 8) | uint8_t(in_[pos + i]);
        pos += n;
      }
      if (len > kMaxFrame) return Fail("a WebSocket frame over 1 MiB");
      const bool masked = b1 & 0x80;
      if (!masked) return Fail("an unmasked client frame");
      if (in_.size() < pos + 4 + len) return;
      const uint8_t* mask = reinterpret_cast<const uint8_t*>(in_.data() + pos);
      std::string payload = in_.substr(pos + 4, size_t(len));
      for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(payload[i] ^ mask[i % 4]);
      in_.erase(0, pos + 4 + size_t(len));
      const uint8_t opcode = b0 & 0x0f;
      const bool fin = b0 & 0x80;
      if (opcode >= 0x8) {
        Control(opcode, payload);
        continue;
      }
      message_ += payload;
      if (message_.size() > kMaxFrame) return Fail("a WebSocket message over 1 MiB");
      if (!fin) continue;
      Message(message_);
      message_.clear();
    }
  }

 private:
  void Fail(const std::string& why) {
    in_.clear();
    std::string reason = "\x03\xea" + why;  // 1002: protocol error
    std::lock_guard lock(mu_);
    SendLocked(Frame(0x8, reason));
    if (conn_) conn_->Close();
  }

  void Control(uint8_t opcode, const std::string& payload) {
    if (opcode == 0x9) {
      Send(Frame(0xA, payload));  // ping → pong
    } else if (opcode == 0x8) {
      Send(Frame(0x8, payload.substr(0, 2)));
      proc_->Kill();
      std::lock_guard lock(mu_);
      if (conn_) conn_->Close();
    }
  }

  void Message(const std::string& m) {
    if (m.empty()) return;
    const uint8_t channel = uint8_t(m[0]);
    if (channel == 0) {
      stdin_.Push(m.substr(1));
    } else if (channel == 4) {
      json size = json::parse(m.substr(1), nullptr, false);
      if (size.is_object()) {
        proc_->Resize(uint16_t(size.value("Width", 0)), uint16_t(size.value("Height", 0)));
      }
    } else if (channel == 255 && v5_ && m.size() >= 2 && m[1] == 0) {
      stdin_.PushEnd();
    }
  }

  // The command's output to the client, then its Status, then the close.
  void Output() override {
    while (true) {
      std::string chunk;
      int stream = 1;
      bool more =
          proc_->Read(&chunk, &stream, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      if (!chunk.empty()) Send(ChannelFrame(uint8_t(stream), chunk));
      if (!more) break;
      std::lock_guard lock(mu_);
      if (closed_) break;
    }
    json status = ExecExitStatus(proc_->Wait());
    Send(ChannelFrame(3, status.dump()));
    Send(Frame(0x8, std::string("\x03\xe8", 2)));  // 1000: normal closure
    stdin_.Stop();
    std::lock_guard lock(mu_);
    if (conn_) conn_->Close();
  }

  const bool v5_;
  std::string in_, message_;  // the event loop's only
};

}  // namespace

bool HasToken(const std::string& list, std::string_view token) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string_view item(list.data() + pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.size() == token.size() &&
        std::equal(item.begin(), item.end(), token.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return true;
    }
    pos = comma + 1;
  }
  return false;
}

bool NegotiateSpdyExec(const HttpRequest& req, int* protocol, std::string* offered) {
  // kube-apiserver takes the first of the client's protocols it speaks.
  for (const auto& [k, v] : req.headers) {
    if (k != "x-stream-protocol-version") continue;
    size_t pos = 0;
    while (pos <= v.size()) {
      size_t comma = std::min(v.find(',', pos), v.size());
      std::string p = v.substr(pos, comma - pos);
      p.erase(0, p.find_first_not_of(' '));
      p.erase(p.find_last_not_of(' ') + 1);
      pos = comma + 1;
      if (p.empty()) continue;
      for (size_t i = 0; i < std::size(kSpdyExecProtocols); ++i) {
        if (p == kSpdyExecProtocols[i]) {
          *protocol = 4 - int(i);
          return true;
        }
      }
      *offered += (offered->empty() ? "" : ", ") + p;
    }
  }
  return false;
}

json ExecExitStatus(const Result<int>& code) {
  if (code.ok() && *code == 0) return {{"metadata", json::object()}, {"status", "Success"}};
  std::string exit = code.ok() ? std::to_string(*code) : "";
  json status = {
      {"metadata", json::object()},
      {"status", "Failure"},
      {"message", code.ok() ? "command terminated with non-zero exit code: exit status " + exit
                            : code.status().message()},
      {"reason", code.ok() ? "NonZeroExitCode" : "InternalError"}};
  if (code.ok()) {
    status["details"] = {{"causes", json::array({{{"reason", "ExitCode"}, {"message", exit}}})}};
  }
  return status;
}

HttpResponse ApiHandler::PodExec(const HttpRequest& req, const Target& t) {
  PodStreamTarget pod;
  if (auto refused = ResolvePodStream(req, t, true, "exec into pod", &pod)) return *refused;
  ExecCommand command;
  for (const auto& [k, v] : req.query_list) {
    if (k == "command") command.argv.push_back(v);
  }
  if (command.argv.empty()) return BadRequestResponse("you must specify at least one command");
  const bool tty = BoolParam(req, "tty"), in = BoolParam(req, "stdin");
  if (!in && !BoolParam(req, "stdout") && !BoolParam(req, "stderr")) {
    return BadRequestResponse("you must specify at least one of stdin, stdout, stderr");
  }
  if (tty && BoolParam(req, "stderr")) {
    return BadRequestResponse("tty and stderr cannot both be true");
  }
  command.tty = tty;
  command.stdin = in;
  if (Status s = pod.streams->CanExec(pod.container); !s.ok()) return ErrorResponse(s);
  if (HasToken(req.Header("upgrade"), "SPDY/3.1")) {
    SpdyExecOptions o;
    o.want_stdin = in;
    o.want_stdout = BoolParam(req, "stdout");
    o.want_stderr = BoolParam(req, "stderr");
    o.tty = tty;
    std::string offered;
    if (!NegotiateSpdyExec(req, &o.protocol, &offered)) {
      return BadRequestResponse(
          "unable to upgrade: unable to negotiate protocol: client supports [" + offered +
          "], server supports [v4.channel.k8s.io, "
          "v3.channel.k8s.io, v2.channel.k8s.io]");
    }
    auto proc = pod.streams->Exec(pod.container, command);
    if (!proc.ok()) return ErrorResponse(proc.status());
    HttpResponse r;
    r.status = 101;
    r.headers = {
        {"Connection", "Upgrade"},
        {"Upgrade", "SPDY/3.1"},
        {"X-Stream-Protocol-Version", "v" + std::to_string(o.protocol) + ".channel.k8s.io"}};
    r.upgrade = NewSpdyExecSession(std::move(*proc), o);
    return r;
  }
  const std::string protocols = req.Header("sec-websocket-protocol");
  const bool websocket = HasToken(req.Header("upgrade"), "websocket");
  const bool v5 = HasToken(protocols, "v5.channel.k8s.io");
  if (!websocket || (!v5 && !HasToken(protocols, "v4.channel.k8s.io"))) {
    return BadRequestResponse(
        "Upgrade request required: this server speaks exec over WebSocket (v5.channel.k8s.io or "
        "v4.channel.k8s.io) and SPDY/3.1 (v4, v3 or v2.channel.k8s.io)");
  }
  const std::string key = req.Header("sec-websocket-key");
  if (key.empty()) return BadRequestResponse("missing Sec-WebSocket-Key");
  auto proc = pod.streams->Exec(pod.container, command);
  if (!proc.ok()) return ErrorResponse(proc.status());
  std::string accept = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(accept.data()), accept.size(), digest);
  HttpResponse r;
  r.status = 101;
  r.headers = {{"Upgrade", "websocket"},
               {"Connection", "Upgrade"},
               {"Sec-WebSocket-Accept",
                Base64Encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest))},
               {"Sec-WebSocket-Protocol", v5 ? "v5.channel.k8s.io" : "v4.channel.k8s.io"}};
  r.upgrade = std::make_shared<WebSocketExecSession>(std::move(*proc), v5);
  return r;
}

}  // namespace stash::api
