// Fuzz target: the bytes a kubectl exec client sends after `Upgrade:
// SPDY/3.1`. They are split into frames (1 MiB at most, as the server
// reads them) and every header block goes through one decompression
// context, as on a connection. What decodes must round-trip: a frame
// written back reads as the same frame, and headers encoded by one codec
// decode the same through another.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "spdy.h"

using stash::api::spdy::FrameType;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace spdy = stash::api::spdy;
  spdy::FrameReader reader(1 << 20);
  spdy::HeaderCodec in(64 << 10, 64), out(64 << 10, 64), back(64 << 10, 64);
  reader.Append(stash::fuzz::AsText(data, size));
  spdy::Frame f;
  while (true) {
    auto more = reader.Next(&f);
    if (!more.ok() || !*more) break;
    if (f.type == FrameType::kSynStream || f.type == FrameType::kSynReply ||
        f.type == FrameType::kHeaders) {
      auto headers = in.Decode(f.payload);
      if (!headers.ok()) break;  // the server ends the connection here
      auto block = out.Encode(*headers);
      stash::fuzz::Require(block.ok(), "decoded headers do not encode");
      auto again = back.Decode(*block);
      stash::fuzz::Require(again.ok() && *again == *headers, "headers change on a round trip");
    } else if (f.type == FrameType::kData) {
      spdy::FrameReader r(1 << 20);
      r.Append(spdy::DataFrame(f.stream_id, f.flags, f.payload));
      spdy::Frame g;
      auto ok = r.Next(&g);
      stash::fuzz::Require(ok.ok() && *ok && g.payload == f.payload && g.flags == f.flags &&
                               g.stream_id == f.stream_id,
                           "a DATA frame changes when written back");
    } else if (f.type == FrameType::kRstStream) {
      spdy::FrameReader r(1 << 20);
      r.Append(spdy::RstStreamFrame(f.stream_id, f.value));
      spdy::Frame g;
      auto ok = r.Next(&g);
      stash::fuzz::Require(ok.ok() && *ok && g.value == f.value && g.stream_id == f.stream_id,
                           "a RST_STREAM frame changes when written back");
    }
  }
  return 0;
}
