#include "stash/format/config.h"

#include <charconv>

#include "json_scan.h"
#include "stash/format/gojson.h"

namespace stash::format {

std::string EncodeConfig(const Config& config) {
  char hex[20];
  auto res = std::to_chars(hex, hex + sizeof hex, config.chunker_polynomial, 16);
  GoJsonWriter w;
  w.BeginObject();
  w.UintField("version", config.version);
  w.StringField("id", config.id);
  w.StringField("chunker_polynomial", std::string_view(hex, static_cast<size_t>(res.ptr - hex)));
  w.EndObject();
  return w.Take();
}

Result<Config> DecodeConfig(std::string_view json) {
  internal::JsonScanner js(json, "config");
  Config c;
  c.version = 0;
  std::string pol;
  Status status = js.Document([&](const std::string& key) -> Status {
    if (key == "version") return js.U32(&c.version);
    if (key == "id") return js.String(&c.id);
    if (key == "chunker_polynomial") return js.String(&pol);
    return js.Skip();  // rustic adds optional keys
  });
  if (!status.ok()) return status;
  if (c.version != 1 && c.version != 2) {
    return UnsupportedError("repository format version " + std::to_string(c.version) +
                            " is not supported (only 1 and 2); use a newer stash");
  }
  if (c.id.empty()) return InvalidError("config: repository id is missing");
  // Go's strconv.ParseUint(s, 16, 64): hex digits only, no prefix or sign.
  const char* end = pol.data() + pol.size();
  auto res = std::from_chars(pol.data(), end, c.chunker_polynomial, 16);
  if (pol.empty() || res.ec != std::errc() || res.ptr != end || pol[0] == '+' || pol[0] == '-') {
    return InvalidError("config: chunker_polynomial \"" + pol + "\" is not a hex number");
  }
  return c;
}

}  // namespace stash::format
