#include "spdy.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "pod_exec.h"
#include "stash/core/testing.h"

namespace stash::api::spdy {
namespace {

std::string Be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

// A raw name/value block (before compression).
std::string RawBlock(const Headers& h) {
  std::string raw = Be32(uint32_t(h.size()));
  for (const auto& [k, v] : h) raw += Be32(uint32_t(k.size())) + k + Be32(uint32_t(v.size())) + v;
  return raw;
}

// A peer's compressor: what spdystream does (zlib with the dictionary, a
// sync flush per block), written against zlib directly.
class PeerCompressor {
 public:
  PeerCompressor() {
    EXPECT_EQ(deflateInit(&z_, Z_BEST_COMPRESSION), Z_OK);
    EXPECT_EQ(deflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(Dictionary().data()),
                                   uInt(Dictionary().size())),
              Z_OK);
  }
  ~PeerCompressor() { deflateEnd(&z_); }
  std::string Compress(const std::string& raw) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    z_.avail_in = uInt(raw.size());
    std::string out;
    char buf[1 << 16];
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      deflate(&z_, Z_SYNC_FLUSH);
      out.append(buf, sizeof buf - z_.avail_out);
    } while (z_.avail_out == 0);
    return out;
  }

 private:
  z_stream z_{};
};

TEST(SpdyTest, DictionaryIsSpdy3s) {
  // Length and Adler-32 of the dictionary in Go's spdy package (spdystream):
  // zlib refuses a block whose dictionary id differs.
  EXPECT_EQ(Dictionary().size(), 1423u);
  EXPECT_EQ(
      adler32(1, reinterpret_cast<const Bytef*>(Dictionary().data()), uInt(Dictionary().size())),
      0xe3c6a7c2u);
}

TEST(SpdyTest, HeaderBlocksShareOneContextPerDirection) {
  HeaderCodec server(64 << 10, 64), client(64 << 10, 64);
  PeerCompressor peer;
  // Three blocks through the same context, as kubectl opens its streams.
  for (const char* type : {"error", "stdout", "stderr"}) {
    auto h = server.Decode(peer.Compress(RawBlock({{"StreamType", type}, {"x", "a\0b"}})));
    ASSERT_OK(h);
    EXPECT_EQ(HeaderValue(*h, "streamtype"), type);  // names come back lower-cased
    EXPECT_EQ(h->size(), 2u);
  }
  for (int i = 0; i < 3; ++i) {
    auto block = server.Encode({{"n", std::to_string(i)}});
    ASSERT_OK(block);
    auto back = client.Decode(*block);
    ASSERT_OK(back);
    EXPECT_EQ(HeaderValue(*back, "n"), std::to_string(i));
  }
  auto empty = server.Encode({});
  ASSERT_OK(empty);
  auto none = client.Decode(*empty);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST(SpdyTest, HostileHeaderBlocksAreRefusedWithinBounds) {
  {
    // A bomb: 16 MiB of zeros compress to ~16 KiB; decoding stops at 64 KiB.
    HeaderCodec codec(64 << 10, 64);
    PeerCompressor peer;
    std::string bomb = peer.Compress(std::string(16 << 20, '\0'));
    EXPECT_LT(bomb.size(), 100u << 10);
    auto h = codec.Decode(bomb);
    ASSERT_FALSE(h.ok());
    EXPECT_NE(h.status().message().find("over 65536 bytes decompressed"), std::string::npos);
    // Its context is out of step now: every later block is refused too.
    EXPECT_FALSE(codec.Decode(peer.Compress(RawBlock({{"a", "b"}}))).ok());
  }
  auto refused = [](const std::string& raw, const std::string& why) {
    HeaderCodec codec(64 << 10, 64);
    PeerCompressor peer;
    auto h = codec.Decode(peer.Compress(raw));
    ASSERT_FALSE(h.ok()) << why;
    EXPECT_NE(h.status().message().find(why), std::string::npos) << h.status().message();
  };
  refused(Be32(1u << 30), "of 1073741824 headers");
  refused(Be32(1) + Be32(0xffffffffu) + "name", "lengths run past its end");
  refused(Be32(1) + Be32(4) + "name" + Be32(100) + "short", "lengths run past its end");
  refused(Be32(1) + Be32(0) + Be32(1) + "v", "empty header name");
  refused(RawBlock({{"a", "b"}}) + "junk", "4 bytes after its headers");
  refused("", "without its header count");
  HeaderCodec codec(64 << 10, 64);
  EXPECT_FALSE(codec.Decode("this is not zlib at all").ok());
  // zlib with another dictionary.
  z_stream z{};
  ASSERT_EQ(deflateInit(&z, Z_DEFAULT_COMPRESSION), Z_OK);
  const char other[] = "another dictionary";
  deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(other), sizeof other);
  std::string raw = RawBlock({{"a", "b"}}), out(256, '\0');
  z.next_in = reinterpret_cast<Bytef*>(raw.data());
  z.avail_in = uInt(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  HeaderCodec fresh(64 << 10, 64);
  auto h = fresh.Decode(out);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("another dictionary"), std::string::npos);
}

TEST(SpdyTest, FramesRoundTripAndArriveInPieces) {
  std::string wire = SynStreamFrame(1, 0, kFlagFin, "hdr") + DataFrame(3, kFlagFin, "hello") +
                     SynReplyFrame(5, 0, "r") + RstStreamFrame(7, kCancel) + PingFrame(9) +
                     GoAwayFrame(11, kGoAwayOk) + WindowUpdateFrame(13, 4096) +
                     ControlFrame(FrameType::kSettings, 0, Be32(1) + Be32(7) + Be32(65536)) +
                     ControlFrame(FrameType(42), 0, "unknown types are skipped") +
                     ControlFrame(FrameType(0), 0, "type 0 is no DATA frame");
  FrameReader reader(1 << 20);
  std::vector<Frame> frames;
  for (char c : wire) {  // one byte at a time: no frame before it is whole
    reader.Append(std::string_view(&c, 1));
    Frame f;
    auto more = reader.Next(&f);
    ASSERT_OK(more);
    if (*more) frames.push_back(f);
  }
  EXPECT_EQ(reader.buffered(), 0u);
  ASSERT_EQ(frames.size(), 10u);
  EXPECT_EQ(frames[0].type, FrameType::kSynStream);
  EXPECT_EQ(frames[0].stream_id, 1u);
  EXPECT_EQ(frames[0].flags, kFlagFin);
  EXPECT_EQ(frames[0].payload, "hdr");
  EXPECT_EQ(frames[1].type, FrameType::kData);
  EXPECT_EQ(frames[1].stream_id, 3u);
  EXPECT_EQ(frames[1].payload, "hello");
  EXPECT_EQ(frames[2].type, FrameType::kSynReply);
  EXPECT_EQ(frames[2].payload, "r");
  EXPECT_EQ(frames[3].value, kCancel);
  EXPECT_EQ(frames[4].value, 9u);
  EXPECT_EQ(frames[5].stream_id, 11u);
  EXPECT_EQ(frames[6].value, 4096u);
  EXPECT_EQ(frames[7].type, FrameType::kSettings);
  EXPECT_EQ(frames[8].type, FrameType::kUnknown);
  EXPECT_EQ(frames[8].raw_type, 42);
  EXPECT_EQ(frames[9].type, FrameType::kUnknown);
  EXPECT_EQ(frames[9].raw_type, 0);
}

TEST(SpdyTest, MalformedFramesAreErrors) {
  auto error = [](const std::string& wire, const std::string& why) {
    FrameReader reader(1 << 20);
    reader.Append(wire);
    Frame f;
    auto more = reader.Next(&f);
    ASSERT_FALSE(more.ok()) << why;
    EXPECT_NE(more.status().message().find(why), std::string::npos) << more.status().message();
  };
  // Too long: refused from its 8-byte header, before the body is buffered.
  error(DataFrame(1, 0, "").substr(0, 4) + Be32(0x00ffffff), "of 16777215 bytes");
  error(std::string("\x80\x02\x00\x06\x00\x00\x00\x04", 8) + Be32(1), "SPDY/2");
  error(ControlFrame(FrameType::kRstStream, 0, Be32(1) + "abc"), "RST_STREAM frame with a body");
  error(RstStreamFrame(1, 0), "status 0");
  error(ControlFrame(FrameType::kPing, 0, "12345"), "PING frame");
  error(ControlFrame(FrameType::kGoAway, 0, "1234"), "GOAWAY frame");
  error(ControlFrame(FrameType::kWindowUpdate, 0, ""), "WINDOW_UPDATE frame");
  error(ControlFrame(FrameType::kSynStream, 0, "123456789"), "SYN_STREAM frame");
  error(ControlFrame(FrameType::kSettings, 0, Be32(0xffffffffu)), "claiming 4294967295 entries");
  error(SynStreamFrame(0, 0, 0, "h"), "for stream 0");
  error(DataFrame(0, 0, "x"), "DATA frame for stream 0");
}

// The exec session end to end, with a fake command and connection.
class FakeProcess final : public ExecProcess {
 public:
  Status WriteStdin(std::string_view bytes) override {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !hold || killed; });  // a command slow to read
    stdin_bytes.append(bytes);
    return Status::Ok();
  }
  void CloseStdin() override {
    std::lock_guard lock(mu);
    stdin_closed = true;
    // The command: echoes stdin upper-cased, a line on stderr, exits 3.
    std::string up = stdin_bytes;
    for (char& c : up) c = char(std::toupper(uint8_t(c)));
    out.push_back({1, up});
    out.push_back({2, "warn\n"});
    ended = true;
    cv.notify_all();
  }
  void Resize(uint16_t w, uint16_t h) override {
    std::lock_guard lock(mu);
    sizes.emplace_back(w, h);
  }
  bool Read(std::string* chunk, int* stream, std::chrono::steady_clock::time_point until) override {
    std::unique_lock lock(mu);
    cv.wait_until(lock, until, [&] { return !out.empty() || ended || killed; });
    if (!out.empty()) {
      *stream = out.front().first;
      *chunk = out.front().second;
      out.pop_front();
      return true;
    }
    return !(ended || killed);
  }
  Result<int> Wait() override { return 3; }
  void Kill() override {
    std::lock_guard lock(mu);
    killed = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  std::string stdin_bytes;
  bool stdin_closed = false, ended = false, killed = false, hold = false;
  std::deque<std::pair<int, std::string>> out;
  std::vector<std::pair<int, int>> sizes;
};

class FakeConnection final : public UpgradedConnection {
 public:
  void Send(std::string bytes) override {
    std::lock_guard lock(mu);
    sent += bytes;
    cv.notify_all();
  }
  void Close() override {
    std::lock_guard lock(mu);
    closed = true;
    cv.notify_all();
  }
  void PauseReading(bool paused) override {
    std::lock_guard lock(mu);
    pauses.push_back(paused);
    cv.notify_all();
  }
  // Waits until `done` holds (5 s at most); it runs with mu held.
  bool WaitFor(const std::function<bool()>& done) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(5), done);
  }
  std::mutex mu;
  std::condition_variable cv;
  std::string sent;
  bool closed = false;
  std::vector<bool> pauses;
};

std::vector<Frame> Parse(const std::string& wire) {
  FrameReader reader(1 << 24);
  reader.Append(wire);
  std::vector<Frame> frames;
  Frame f;
  while (true) {
    auto more = reader.Next(&f);
    if (!more.ok() || !*more) break;
    frames.push_back(f);
  }
  return frames;
}

bool HasGoAway(const std::string& wire) {
  for (const auto& f : Parse(wire)) {
    if (f.type == FrameType::kGoAway) return true;
  }
  return false;
}

TEST(SpdyExecSessionTest, RunsTheCommandThroughTheClientsStreams) {
  auto proc = std::make_unique<FakeProcess>();
  FakeProcess* p = proc.get();
  auto session = NewSpdyExecSession(
      std::move(proc),
      {.protocol = 4, .want_stdin = true, .want_stdout = true, .want_stderr = true, .tty = false});
  auto conn = std::make_shared<FakeConnection>();
  PeerCompressor peer;
  auto open = [&](uint32_t id, const char* type) {
    return SynStreamFrame(id, 0, 0, peer.Compress(RawBlock({{"streamtype", type}})));
  };
  // The first stream arrives with the upgrade request's bytes, the others
  // split at odd places.
  session->OnOpen(conn, open(1, "error"));
  // One statement each: the blocks share the compressor's context, in order.
  std::string rest = open(3, "stdin");
  rest += open(5, "stdout");
  rest += open(7, "stderr");
  rest += open(9, "bogus");
  rest += PingFrame(1) + DataFrame(3, 0, "hello ") + DataFrame(3, kFlagFin, "spdy");
  session->OnData(rest.substr(0, 5));
  session->OnData(rest.substr(5));
  ASSERT_TRUE(conn->WaitFor([&] { return HasGoAway(conn->sent); })) << conn->sent.size();
  HeaderCodec client(64 << 10, 64);
  std::map<uint32_t, std::string> data;
  std::set<uint32_t> replied, fin;
  bool pong = false, refused = false;
  for (const auto& f : Parse(conn->sent)) {
    if (f.type == FrameType::kSynReply) {
      ASSERT_OK(client.Decode(f.payload));
      replied.insert(f.stream_id);
    } else if (f.type == FrameType::kData) {
      EXPECT_TRUE(replied.count(f.stream_id)) << "data before the reply on " << f.stream_id;
      EXPECT_FALSE(fin.count(f.stream_id)) << "data after FIN on " << f.stream_id;
      data[f.stream_id] += f.payload;
      if (f.flags & kFlagFin) fin.insert(f.stream_id);
    } else if (f.type == FrameType::kPing) {
      pong = f.value == 1;
    } else if (f.type == FrameType::kRstStream) {
      refused = f.stream_id == 9 && f.value == kRefusedStream;
    }
  }
  EXPECT_EQ(replied, (std::set<uint32_t>{1, 3, 5, 7}));
  EXPECT_TRUE(pong);
  EXPECT_TRUE(refused);
  EXPECT_EQ(data[5], "HELLO SPDY");
  EXPECT_EQ(data[7], "warn\n");
  EXPECT_EQ(fin, (std::set<uint32_t>{1, 5, 7}));
  auto status = nlohmann::json::parse(data[1]);
  EXPECT_EQ(status["reason"], "NonZeroExitCode");
  EXPECT_EQ(status["details"]["causes"][0]["message"], "3");
  {
    std::lock_guard lock(p->mu);
    EXPECT_TRUE(p->stdin_closed);
  }
  session->OnClose();
}

TEST(SpdyExecSessionTest, StdinFasterThanTheCommandPausesReading) {
  auto proc = std::make_unique<FakeProcess>();
  FakeProcess* p = proc.get();
  p->hold = true;
  auto session =
      NewSpdyExecSession(std::move(proc), {.protocol = 4, .want_stdin = true, .want_stdout = true});
  auto conn = std::make_shared<FakeConnection>();
  PeerCompressor peer;
  auto open = [&](uint32_t id, const char* type) {
    return SynStreamFrame(id, 0, 0, peer.Compress(RawBlock({{"streamtype", type}})));
  };
  std::string streams = open(1, "error");
  streams += open(3, "stdin");
  streams += open(5, "stdout");
  session->OnOpen(conn, streams);
  const std::string mib(1 << 20, 'x');
  for (int i = 0; i < 6; ++i) session->OnData(DataFrame(3, 0, mib));
  ASSERT_TRUE(conn->WaitFor([&] { return conn->pauses == std::vector<bool>{true}; }));
  {
    std::lock_guard lock(p->mu);
    p->hold = false;
    p->cv.notify_all();
  }
  ASSERT_TRUE(conn->WaitFor([&] { return conn->pauses == std::vector<bool>{true, false}; }));
  session->OnData(DataFrame(3, kFlagFin, ""));
  ASSERT_TRUE(conn->WaitFor([&] { return HasGoAway(conn->sent); }));
  std::string out;
  for (const auto& f : Parse(conn->sent)) {
    if (f.type == FrameType::kData && f.stream_id == 5) out += f.payload;
  }
  EXPECT_EQ(out.size(), 6u << 20);
  session->OnClose();
}

TEST(SpdyExecSessionTest, AHostileFrameEndsTheConnectionWithGoAway) {
  auto session =
      NewSpdyExecSession(std::make_unique<FakeProcess>(), {.protocol = 4, .want_stdout = true});
  auto conn = std::make_shared<FakeConnection>();
  session->OnOpen(conn, "");
  session->OnData(SynStreamFrame(1, 0, 0, "not a zlib block"));
  ASSERT_TRUE(conn->WaitFor([&] { return HasGoAway(conn->sent); }));
  for (const auto& f : Parse(conn->sent)) {
    if (f.type == FrameType::kGoAway) {
      EXPECT_EQ(f.value, kGoAwayProtocolError);
    }
  }
  std::lock_guard lock(conn->mu);
  EXPECT_TRUE(conn->closed);
  session->OnClose();
}

TEST(SpdyExecSessionTest, NegotiatesTheClientsFirstKnownProtocol) {
  HttpRequest req;
  req.headers = {{"x-stream-protocol-version", "v5.channel.k8s.io"},
                 {"x-stream-protocol-version", "v3.channel.k8s.io, v4.channel.k8s.io"}};
  int protocol = 0;
  std::string offered;
  ASSERT_TRUE(NegotiateSpdyExec(req, &protocol, &offered));
  EXPECT_EQ(protocol, 3);
  req.headers = {{"x-stream-protocol-version", "channel.k8s.io"}};
  offered.clear();
  EXPECT_FALSE(NegotiateSpdyExec(req, &protocol, &offered));
  EXPECT_EQ(offered, "channel.k8s.io");
}

}  // namespace
}  // namespace stash::api::spdy
