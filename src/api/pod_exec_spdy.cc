// kubectl exec over SPDY/3.1, as kubelet serves it to client-go's
// spdystream: after the 101 answer the client opens one stream per channel
// (SYN_STREAM with a `streamtype` header: error, stdin, stdout, stderr,
// resize), each answered with an empty SYN_REPLY. Once the streams the
// request asked for are there, the command's output goes out as DATA on
// stdout/stderr, the client's stdin and terminal sizes come in, and the end
// is FIN on the output streams, the Status (v4) or message (v2/v3) on the
// error stream, then GOAWAY. Two threads per session, as for WebSocket, so
// the server's event loop never blocks.
//
// Not done: SPDY flow control. spdystream neither sends WINDOW_UPDATE nor
// waits for one, so honouring a 64 KiB window would stall it; WINDOW_UPDATE
// and SETTINGS are read and ignored, as spdystream does.
#include <spdlog/spdlog.h>

#include <map>

#include "pod_exec.h"
#include "spdy.h"

namespace stash::api {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxFrame = 1 << 20;         // stdin arrives in 32 KiB writes
constexpr size_t kMaxHeaderBlock = 64 << 10;  // decompressed; kubectl sends ~30 bytes
constexpr size_t kMaxHeaders = 64;
constexpr size_t kMaxStreams = 8;  // remotecommand needs at most 5
constexpr size_t kMaxSend = 64 << 10;
constexpr size_t kMaxResizeText = 4096;
constexpr auto kStreamWait = std::chrono::seconds(30);  // kubelet's streamCreationTimeout
constexpr auto kCloseWait = std::chrono::seconds(10);

enum class Kind { kError, kStdin, kStdout, kStderr, kResize };

bool KindOf(const std::string& type, Kind* kind) {
  static const std::map<std::string, Kind, std::less<>> kKinds = {{"error", Kind::kError},
                                                                  {"stdin", Kind::kStdin},
                                                                  {"stdout", Kind::kStdout},
                                                                  {"stderr", Kind::kStderr},
                                                                  {"resize", Kind::kResize}};
  auto it = kKinds.find(type);
  if (it == kKinds.end()) return false;
  *kind = it->second;
  return true;
}

class SpdyExecSession final : public ExecSession {
 public:
  SpdyExecSession(std::unique_ptr<ExecProcess> proc, SpdyExecOptions o)
      : ExecSession(std::move(proc)),
        opts_(o),
        reader_(kMaxFrame),
        codec_(kMaxHeaderBlock, kMaxHeaders) {}

  void OnData(std::string_view bytes) override {
    if (failed_) return;
    reader_.Append(bytes);
    while (!failed_) {
      spdy::Frame f;
      auto more = reader_.Next(&f);
      if (!more.ok()) return Fail(more.status().message());
      if (!*more) return;
      Handle(f);
    }
  }

 private:
  struct Stream {
    Kind kind;
    bool reset = false;  // the client reset it: nothing more goes out on it
  };

  // A connection-level error: GOAWAY, the command ended, the connection closed.
  void Fail(const std::string& why) {
    failed_ = true;
    spdlog::warn("kubectl exec over SPDY: {}; closing the connection", why);
    std::lock_guard lock(mu_);
    SendLocked(spdy::GoAwayFrame(last_stream_, spdy::kGoAwayProtocolError));
    if (conn_) conn_->Close();
    proc_->Kill();
  }

  void Handle(const spdy::Frame& f) {
    switch (f.type) {
      case spdy::FrameType::kSynStream:
        return OpenStream(f);
      case spdy::FrameType::kData:
        return Data(f.stream_id, f.payload, f.flags & spdy::kFlagFin);
      case spdy::FrameType::kHeaders: {
        // Read to keep the compression context in step; nothing in it matters.
        auto h = codec_.Decode(f.payload);
        if (!h.ok()) return Fail(h.status().message());
        if (f.flags & spdy::kFlagFin) Data(f.stream_id, "", true);
        return;
      }
      case spdy::FrameType::kRstStream:
        return Reset(f.stream_id);
      case spdy::FrameType::kPing:
        return Send(spdy::PingFrame(f.value));
      case spdy::FrameType::kGoAway: {
        proc_->Kill();
        std::lock_guard lock(mu_);
        if (conn_) conn_->Close();
        return;
      }
      case spdy::FrameType::kSynReply:
        return Fail("a SYN_REPLY for stream " + std::to_string(f.stream_id) +
                    ", which this server never opened");
      default:
        return;  // SETTINGS, WINDOW_UPDATE (see above), unknown control frames
    }
  }

  void OpenStream(const spdy::Frame& f) {
    auto headers = codec_.Decode(f.payload);
    if (!headers.ok()) return Fail(headers.status().message());
    std::unique_lock lock(mu_);
    if (f.stream_id % 2 == 0 || f.stream_id <= last_stream_) {
      lock.unlock();
      return Fail("stream " + std::to_string(f.stream_id) +
                  " opened by the client (client streams are odd and increasing)");
    }
    last_stream_ = f.stream_id;
    const std::string type = spdy::HeaderValue(*headers, "streamtype");
    Kind kind;
    bool taken = false;
    for (const auto& [id, s] : streams_) taken |= KindOf(type, &kind) && s.kind == kind;
    if (!KindOf(type, &kind) || taken || streams_.size() >= kMaxStreams) {
      spdlog::warn("kubectl exec over SPDY: refused stream {} of type '{}'", f.stream_id, type);
      SendLocked(spdy::RstStreamFrame(f.stream_id, spdy::kRefusedStream));
      return;
    }
    auto reply = codec_.Encode({});
    if (!reply.ok()) {
      SendLocked(spdy::RstStreamFrame(f.stream_id, spdy::kRefusedStream));
      return;
    }
    streams_[f.stream_id] = {kind};
    SendLocked(spdy::SynReplyFrame(f.stream_id, 0, *reply));
    if (f.flags & spdy::kFlagFin && kind == Kind::kStdin) stdin_.PushEnd();
    if (!ready_ && Ready()) ready_ = true;
    cv_.notify_all();
  }

  // Whether every stream the request asked for is open (mu_ held).
  bool Ready() const {
    auto has = [&](Kind k) {
      for (const auto& [id, s] : streams_) {
        if (s.kind == k) return true;
      }
      return false;
    };
    return has(Kind::kError) && (!opts_.want_stdin || has(Kind::kStdin)) &&
           (!opts_.want_stdout || has(Kind::kStdout)) && (!opts_.want_stderr || has(Kind::kStderr));
  }

  void Data(uint32_t id, std::string_view bytes, bool fin) {
    std::lock_guard lock(mu_);
    auto it = streams_.find(id);
    if (it == streams_.end()) {
      SendLocked(spdy::RstStreamFrame(id, spdy::kInvalidStream));
      return;
    }
    if (it->second.kind == Kind::kStdin) {
      if (!bytes.empty()) stdin_.Push(std::string(bytes));
      if (fin) stdin_.PushEnd();
    } else if (it->second.kind == Kind::kResize) {
      Resize(bytes);
    }
  }

  // The resize stream carries JSON objects one after another
  // ({"Width":80,"Height":24}), split across DATA frames at will (mu_ held).
  void Resize(std::string_view bytes) {
    resize_text_.append(bytes);
    size_t end;
    while ((end = resize_text_.find('}')) != std::string::npos) {
      json size = json::parse(resize_text_.substr(0, end + 1), nullptr, false);
      resize_text_.erase(0, end + 1);
      if (size.is_object()) {
        proc_->Resize(uint16_t(size.value("Width", 0)), uint16_t(size.value("Height", 0)));
      }
    }
    if (resize_text_.size() > kMaxResizeText) resize_text_.clear();
  }

  void Reset(uint32_t id) {
    std::lock_guard lock(mu_);
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    it->second.reset = true;
    if (it->second.kind == Kind::kStdin) stdin_.PushEnd();
  }

  // DATA on the stream of `kind`, unless it is missing or reset (mu_ held).
  void SendOn(Kind kind, std::string_view bytes, uint8_t flags) {
    for (const auto& [id, s] : streams_) {
      if (s.kind != kind || s.reset) continue;
      do {
        std::string_view part = bytes.substr(0, kMaxSend);
        bytes.remove_prefix(part.size());
        SendLocked(spdy::DataFrame(id, bytes.empty() ? flags : 0, part));
      } while (!bytes.empty());
      return;
    }
  }

  // Once the streams are open: the command's output, then the end.
  void Output() override {
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kStreamWait, [&] { return closed_ || ready_; })) {
        spdlog::warn(
            "kubectl exec over SPDY: the client did not open the streams its request asked for "
            "within {} s",
            kStreamWait.count());
        SendLocked(spdy::GoAwayFrame(last_stream_, spdy::kGoAwayOk));
        if (conn_) conn_->Close();
      }
      if (!ready_) {
        stdin_.Stop();
        proc_->Kill();
        return;
      }
    }
    while (true) {
      std::string chunk;
      int stream = 1;
      bool more =
          proc_->Read(&chunk, &stream, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      std::lock_guard lock(mu_);
      if (!chunk.empty()) SendOn(stream == 2 ? Kind::kStderr : Kind::kStdout, chunk, 0);
      if (!more || closed_) break;
    }
    Finish(proc_->Wait());
  }

  void Finish(const Result<int>& code) {
    std::unique_lock lock(mu_);
    SendOn(Kind::kStdout, "", spdy::kFlagFin);
    SendOn(Kind::kStderr, "", spdy::kFlagFin);
    json status = ExecExitStatus(code);
    std::string error;
    if (opts_.protocol >= 4) {
      error = status.dump();
    } else if (status.value("status", "") != "Success") {
      error = status.value("message", "");  // v2/v3: the message as text
    }
    SendOn(Kind::kError, error, spdy::kFlagFin);
    SendLocked(spdy::GoAwayFrame(last_stream_, spdy::kGoAwayOk));
    stdin_.Stop();
    // The client closes once it has read the error stream; closing first
    // could reset the connection under output it has not read yet.
    if (!cv_.wait_for(lock, kCloseWait, [&] { return closed_; }) && conn_) conn_->Close();
  }

  const SpdyExecOptions opts_;
  // The event loop's only:
  spdy::FrameReader reader_;
  spdy::HeaderCodec codec_;
  bool failed_ = false;
  std::map<uint32_t, Stream> streams_;  // guarded by mu_
  uint32_t last_stream_ = 0;            // guarded by mu_ (written on the loop)
  std::string resize_text_;             // guarded by mu_
  bool ready_ = false;                  // guarded by mu_
};

}  // namespace

std::shared_ptr<UpgradeHandler> NewSpdyExecSession(std::unique_ptr<ExecProcess> proc,
                                                   SpdyExecOptions options) {
  return std::make_shared<SpdyExecSession>(std::move(proc), options);
}

}  // namespace stash::api
