#include "spdy.h"

#include <array>
#include <cctype>

namespace stash::api::spdy {

namespace {

constexpr size_t kFrameHeader = 8;

uint32_t Get32(std::string_view b, size_t at) {
  return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 |
         uint32_t(uint8_t(b[at + 2])) << 8 | uint32_t(uint8_t(b[at + 3]));
}

void Put32(std::string* out, uint32_t v) {
  out->push_back(char(v >> 24));
  out->push_back(char(v >> 16));
  out->push_back(char(v >> 8));
  out->push_back(char(v));
}

// The 8-byte frame header: first word, then flags and a 24-bit length.
void PutHeader(std::string* out, uint32_t first, uint8_t flags, size_t length) {
  Put32(out, first);
  Put32(out, uint32_t(flags) << 24 | uint32_t(length & 0xffffff));
}

std::string BuildDictionary() {
  // SPDY/3's dictionary is header names and values, each after a 4-byte
  // big-endian length, then a run of common values without lengths.
  static constexpr std::array kWords = {
      "options",
      "head",
      "post",
      "put",
      "delete",
      "trace",
      "accept",
      "accept-charset",
      "accept-encoding",
      "accept-language",
      "accept-ranges",
      "age",
      "allow",
      "authorization",
      "cache-control",
      "connection",
      "content-base",
      "content-encoding",
      "content-language",
      "content-length",
      "content-location",
      "content-md5",
      "content-range",
      "content-type",
      "date",
      "etag",
      "expect",
      "expires",
      "from",
      "host",
      "if-match",
      "if-modified-since",
      "if-none-match",
      "if-range",
      "if-unmodified-since",
      "last-modified",
      "location",
      "max-forwards",
      "pragma",
      "proxy-authenticate",
      "proxy-authorization",
      "range",
      "referer",
      "retry-after",
      "server",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
      "user-agent",
      "vary",
      "via",
      "warning",
      "www-authenticate",
      "method",
      "get",
      "status",
      "200 OK",
      "version",
      "HTTP/1.1",
      "url",
      "public",
      "set-cookie",
      "keep-alive",
      "origin",
  };
  std::string d;
  for (std::string_view w : kWords) {
    Put32(&d, uint32_t(w.size()));
    d.append(w);
  }
  d.append(
      "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
      "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
      "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
      "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
      "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
      "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
      "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.");
  return d;
}

const Bytef* DictBytes() { return reinterpret_cast<const Bytef*>(Dictionary().data()); }

// What each control frame type's body must hold.
Status CheckControl(const Frame& f, size_t length) {
  auto need = [&](bool ok, const char* what) {
    return ok ? Status::Ok()
              : InvalidError("a SPDY " + std::string(what) + " frame with a body of " +
                             std::to_string(length) + " bytes");
  };
  switch (f.type) {
    case FrameType::kSynStream:
      return need(length >= 10, "SYN_STREAM");
    case FrameType::kSynReply:
      return need(length >= 4, "SYN_REPLY");
    case FrameType::kHeaders:
      return need(length >= 4, "HEADERS");
    case FrameType::kRstStream:
      return need(length == 8, "RST_STREAM");
    case FrameType::kPing:
      return need(length == 4, "PING");
    case FrameType::kGoAway:
      return need(length == 8, "GOAWAY");
    case FrameType::kWindowUpdate:
      return need(length == 8, "WINDOW_UPDATE");
    case FrameType::kSettings:
      return need(length >= 4, "SETTINGS");
    default:
      return Status::Ok();
  }
}

}  // namespace

std::string_view Dictionary() {
  static const std::string d = BuildDictionary();
  return d;
}

Result<bool> FrameReader::Next(Frame* frame) {
  std::string_view b(buf_);
  b.remove_prefix(pos_);
  if (b.size() < kFrameHeader) return false;
  const uint32_t first = Get32(b, 0), second = Get32(b, 4);
  const size_t length = second & 0xffffff;
  if (length > max_frame_) {
    return InvalidError("a SPDY frame of " + std::to_string(length) + " bytes (at most " +
                        std::to_string(max_frame_) + ")");
  }
  const bool control = first & 0x80000000u;
  if (control && ((first >> 16) & 0x7fff) != kVersion) {
    return InvalidError("a SPDY/" + std::to_string((first >> 16) & 0x7fff) +
                        " frame (this server speaks SPDY/3.1)");
  }
  if (b.size() < kFrameHeader + length) return false;
  std::string_view body = b.substr(kFrameHeader, length);
  Frame f;
  f.flags = uint8_t(second >> 24);
  if (!control) {
    f.type = FrameType::kData;
    f.stream_id = first & 0x7fffffff;
    if (f.stream_id == 0) return InvalidError("a SPDY DATA frame for stream 0");
    f.payload.assign(body);
  } else {
    f.raw_type = uint16_t(first & 0xffff);
    const bool known = f.raw_type >= 1 && f.raw_type <= 9 && f.raw_type != 5;  // 5: SPDY/2's NOOP
    f.type = known ? FrameType(f.raw_type) : FrameType::kUnknown;
    if (Status s = CheckControl(f, length); !s.ok()) return s;
    switch (f.type) {
      case FrameType::kSynStream:
        f.stream_id = Get32(body, 0) & 0x7fffffff;
        f.associated_id = Get32(body, 4) & 0x7fffffff;
        f.payload.assign(body.substr(10));
        break;
      case FrameType::kSynReply:
      case FrameType::kHeaders:
        f.stream_id = Get32(body, 0) & 0x7fffffff;
        f.payload.assign(body.substr(4));
        break;
      case FrameType::kRstStream:
      case FrameType::kWindowUpdate:
        f.stream_id = Get32(body, 0) & 0x7fffffff;
        f.value = Get32(body, 4) & (f.type == FrameType::kWindowUpdate ? 0x7fffffff : 0xffffffff);
        if (f.type == FrameType::kRstStream && f.value == 0) {
          return InvalidError("a SPDY RST_STREAM frame with status 0");
        }
        break;
      case FrameType::kPing:
        f.value = Get32(body, 0);
        break;
      case FrameType::kGoAway:
        f.stream_id = Get32(body, 0) & 0x7fffffff;
        f.value = Get32(body, 4);
        break;
      case FrameType::kSettings: {
        const uint64_t entries = Get32(body, 0);
        if (entries * 8 + 4 != length) {
          return InvalidError("a SPDY SETTINGS frame of " + std::to_string(length) +
                              " bytes claiming " + std::to_string(entries) + " entries");
        }
        f.payload.assign(body.substr(4));
        break;
      }
      default:
        f.payload.assign(body);  // unknown control frames are ignored (draft 3, 2.2.1)
        break;
    }
    const bool needs_stream = f.type == FrameType::kSynStream || f.type == FrameType::kSynReply ||
                              f.type == FrameType::kHeaders || f.type == FrameType::kRstStream;
    if (needs_stream && f.stream_id == 0) {
      return InvalidError("a SPDY control frame of type " + std::to_string(f.raw_type) +
                          " for stream 0");
    }
  }
  pos_ += kFrameHeader + length;
  if (pos_ > (1 << 16) && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  *frame = std::move(f);
  return true;
}

std::string HeaderValue(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

HeaderCodec::HeaderCodec(size_t max_block, size_t max_headers)
    : max_block_(max_block), max_headers_(max_headers) {
  in_ok_ = inflateInit(&in_) == Z_OK;
  out_ok_ = deflateInit(&out_, Z_DEFAULT_COMPRESSION) == Z_OK &&
            deflateSetDictionary(&out_, DictBytes(), uInt(Dictionary().size())) == Z_OK;
}

HeaderCodec::~HeaderCodec() {
  if (in_ok_) inflateEnd(&in_);
  if (out_ok_) deflateEnd(&out_);
}

Result<std::string> HeaderCodec::Inflate(std::string_view block) {
  if (!in_ok_) return InternalError("zlib could not start a decompression context");
  if (broken_) return InvalidError("the SPDY header compression context is out of step");
  in_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  in_.avail_in = uInt(block.size());
  std::string out;
  char buf[4096];
  while (true) {
    in_.next_out = reinterpret_cast<Bytef*>(buf);
    in_.avail_out = sizeof buf;
    int rc = inflate(&in_, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      if (inflateSetDictionary(&in_, DictBytes(), uInt(Dictionary().size())) != Z_OK) {
        return InvalidError("a SPDY header block compressed with another dictionary");
      }
      continue;
    }
    out.append(buf, sizeof buf - in_.avail_out);
    if (out.size() > max_block_) {
      return InvalidError("a SPDY header block over " + std::to_string(max_block_) +
                          " bytes decompressed");
    }
    if (rc == Z_BUF_ERROR || (rc == Z_OK && in_.avail_in == 0 && in_.avail_out != 0)) {
      if (in_.avail_in != 0) break;  // no progress with input left: reported below
      return out;
    }
    if (rc != Z_OK) break;
  }
  return InvalidError(std::string("a SPDY header block zlib cannot decompress") +
                      (in_.msg ? std::string(": ") + in_.msg : ""));
}

Result<Headers> HeaderCodec::Decode(std::string_view block) {
  auto raw = Inflate(block);
  if (!raw.ok()) {
    broken_ = true;
    return raw.status();
  }
  std::string_view r(*raw);
  auto fail = [&](const std::string& why) -> Result<Headers> {
    // The block was consumed whole: the context is still in step.
    return InvalidError("a SPDY header block " + why);
  };
  if (r.size() < 4) return fail("without its header count");
  const uint32_t count = Get32(r, 0);
  if (count > max_headers_) {
    return fail("of " + std::to_string(count) + " headers (at most " +
                std::to_string(max_headers_) + ")");
  }
  r.remove_prefix(4);
  Headers out;
  auto take = [&](std::string* s) {
    if (r.size() < 4) return false;
    const uint32_t n = Get32(r, 0);
    if (n > r.size() - 4) return false;
    s->assign(r.substr(4, n));
    r.remove_prefix(4 + size_t(n));
    return true;
  };
  for (uint32_t i = 0; i < count; ++i) {
    std::string name, value;
    if (!take(&name) || !take(&value)) return fail("whose lengths run past its end");
    if (name.empty()) return fail("with an empty header name");
    for (char& c : name) c = char(std::tolower(uint8_t(c)));
    out.emplace_back(std::move(name), std::move(value));
  }
  if (!r.empty()) return fail("with " + std::to_string(r.size()) + " bytes after its headers");
  return out;
}

Result<std::string> HeaderCodec::Encode(const Headers& headers) {
  if (!out_ok_) return InternalError("zlib could not start a compression context");
  std::string raw;
  Put32(&raw, uint32_t(headers.size()));
  for (const auto& [k, v] : headers) {
    Put32(&raw, uint32_t(k.size()));
    raw.append(k);
    Put32(&raw, uint32_t(v.size()));
    raw.append(v);
  }
  out_.next_in = reinterpret_cast<Bytef*>(raw.data());
  out_.avail_in = uInt(raw.size());
  std::string out;
  char buf[4096];
  do {
    out_.next_out = reinterpret_cast<Bytef*>(buf);
    out_.avail_out = sizeof buf;
    if (deflate(&out_, Z_SYNC_FLUSH) == Z_STREAM_ERROR) {
      return InternalError("zlib failed to compress a SPDY header block");
    }
    out.append(buf, sizeof buf - out_.avail_out);
  } while (out_.avail_out == 0);
  return out;
}

std::string DataFrame(uint32_t stream_id, uint8_t flags, std::string_view data) {
  std::string f;
  PutHeader(&f, stream_id & 0x7fffffff, flags, data.size());
  f.append(data);
  return f;
}

std::string ControlFrame(FrameType type, uint8_t flags, std::string_view body) {
  std::string f;
  PutHeader(&f, 0x80000000u | uint32_t(kVersion) << 16 | uint32_t(type), flags, body.size());
  f.append(body);
  return f;
}

std::string SynReplyFrame(uint32_t stream_id, uint8_t flags, std::string_view header_block) {
  std::string body;
  Put32(&body, stream_id & 0x7fffffff);
  body.append(header_block);
  return ControlFrame(FrameType::kSynReply, flags, body);
}

std::string SynStreamFrame(uint32_t stream_id, uint32_t associated_id, uint8_t flags,
                           std::string_view header_block) {
  std::string body;
  Put32(&body, stream_id & 0x7fffffff);
  Put32(&body, associated_id & 0x7fffffff);
  body.append(2, '\0');  // priority 0, slot 0
  body.append(header_block);
  return ControlFrame(FrameType::kSynStream, flags, body);
}

std::string RstStreamFrame(uint32_t stream_id, uint32_t status) {
  std::string body;
  Put32(&body, stream_id & 0x7fffffff);
  Put32(&body, status);
  return ControlFrame(FrameType::kRstStream, 0, body);
}

std::string PingFrame(uint32_t id) {
  std::string body;
  Put32(&body, id);
  return ControlFrame(FrameType::kPing, 0, body);
}

std::string GoAwayFrame(uint32_t last_good_stream_id, uint32_t status) {
  std::string body;
  Put32(&body, last_good_stream_id & 0x7fffffff);
  Put32(&body, status);
  return ControlFrame(FrameType::kGoAway, 0, body);
}

std::string WindowUpdateFrame(uint32_t stream_id, uint32_t delta) {
  std::string body;
  Put32(&body, stream_id & 0x7fffffff);
  Put32(&body, delta & 0x7fffffff);
  return ControlFrame(FrameType::kWindowUpdate, 0, body);
}

}  // namespace stash::api::spdy
