// SPDY/3.1 framing, the subset kubectl's exec speaks through client-go's
// spdystream when it does not use WebSocket (kubectl 1.29 and older, and
// newer ones with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false or behind a proxy
// that refuses the WebSocket upgrade): frames split out of a byte stream,
// frames written, and the name/value header blocks, zlib-compressed with
// SPDY/3's dictionary through one context per direction for the whole
// connection.
//
// Everything a peer sends is bounded: a frame's length (the reader's
// limit), a header block's decompressed size and its number of headers. A
// malformed frame or block is an error; the connection cannot go on after
// one (its compression context is out of step), so the caller answers
// GOAWAY and closes.
//
// Thread-safety: none; one FrameReader and one HeaderCodec per connection,
// used by one thread at a time.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stash/core/result.h"
#include "stash/core/status.h"

namespace stash::api::spdy {

constexpr uint16_t kVersion = 3;

enum class FrameType : uint32_t {
  kData = 0,  // not a control frame type: data frames have no type field
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
  kUnknown = 0x10000,  // a control frame of another type (raw_type says which)
};

constexpr uint8_t kFlagFin = 0x01;
constexpr uint8_t kFlagUnidirectional = 0x02;  // SYN_STREAM

// RST_STREAM status codes.
constexpr uint32_t kProtocolError = 1;
constexpr uint32_t kInvalidStream = 2;
constexpr uint32_t kRefusedStream = 3;
constexpr uint32_t kUnsupportedVersion = 4;
constexpr uint32_t kCancel = 5;
constexpr uint32_t kFrameTooLarge = 11;

// GOAWAY status codes.
constexpr uint32_t kGoAwayOk = 0;
constexpr uint32_t kGoAwayProtocolError = 1;
constexpr uint32_t kGoAwayInternalError = 2;

// One frame as read. Which fields mean something depends on the type.
struct Frame {
  FrameType type = FrameType::kData;
  uint16_t raw_type = 0;  // the control frame's type as sent (unknown ones too)
  uint8_t flags = 0;
  uint32_t stream_id = 0;      // DATA, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS,
                               // WINDOW_UPDATE; GOAWAY's last good stream
  uint32_t associated_id = 0;  // SYN_STREAM
  uint32_t value = 0;          // RST_STREAM/GOAWAY status, PING id, WINDOW_UPDATE delta
  std::string payload;         // DATA's bytes; the compressed header block of
                               // SYN_STREAM, SYN_REPLY and HEADERS
};

// Splits a byte stream into frames.
class FrameReader {
 public:
  // `max_frame`: the largest frame body accepted (SPDY allows 16 MiB).
  explicit FrameReader(size_t max_frame) : max_frame_(max_frame) {}

  void Append(std::string_view bytes) { buf_.append(bytes); }

  // The next complete frame into *frame: true when there was one, false
  // when more bytes are needed. An error for a frame that is malformed
  // (wrong version, a length its type cannot have, over the limit, stream
  // id 0 where one is needed).
  Result<bool> Next(Frame* frame);

  // Bytes buffered and not yet returned as frames.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_frame_;
  std::string buf_;
  size_t pos_ = 0;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of header `name` (lower case) in `headers`, or "".
std::string HeaderValue(const Headers& headers, std::string_view name);

// Name/value header blocks of one connection: Decode for what the peer
// sends, Encode for what we send (separate zlib contexts).
class HeaderCodec {
 public:
  // A decoded block over `max_block` bytes, or with more than `max_headers`
  // entries, is an error (decompression bombs stop at the limit).
  HeaderCodec(size_t max_block, size_t max_headers);
  ~HeaderCodec();
  HeaderCodec(const HeaderCodec&) = delete;
  HeaderCodec& operator=(const HeaderCodec&) = delete;

  // Names come back lower-cased; a value holding several NUL-separated
  // values is returned as sent.
  Result<Headers> Decode(std::string_view block);
  Result<std::string> Encode(const Headers& headers);

 private:
  Result<std::string> Inflate(std::string_view block);

  size_t max_block_, max_headers_;
  z_stream in_{}, out_{};
  bool in_ok_ = false, out_ok_ = false;
  bool broken_ = false;  // a Decode failed: the context is out of step
};

// Frames to send. Header blocks are already compressed (HeaderCodec).
std::string DataFrame(uint32_t stream_id, uint8_t flags, std::string_view data);
std::string ControlFrame(FrameType type, uint8_t flags, std::string_view body);
std::string SynReplyFrame(uint32_t stream_id, uint8_t flags, std::string_view header_block);
std::string SynStreamFrame(uint32_t stream_id, uint32_t associated_id, uint8_t flags,
                           std::string_view header_block);
std::string RstStreamFrame(uint32_t stream_id, uint32_t status);
std::string PingFrame(uint32_t id);
std::string GoAwayFrame(uint32_t last_good_stream_id, uint32_t status);
std::string WindowUpdateFrame(uint32_t stream_id, uint32_t delta);

// SPDY/3's zlib dictionary (draft 3, section 2.6.10.1).
std::string_view Dictionary();

}  // namespace stash::api::spdy
