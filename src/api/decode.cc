#include "decode.h"

#include <new>
#include <utility>
#include <vector>

#include "stash/api/protobuf.h"
#include "yaml_json.h"

namespace stash::api {

using json = nlohmann::json;

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
size_t SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

size_t FirstInvalidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == std::string_view::npos; }

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceLength(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

void MakeValidUtf8(json* value) {
  std::vector<json*> todo{value};
  while (!todo.empty()) {
    json* v = todo.back();
    todo.pop_back();
    if (v->is_string()) {
      std::string& s = v->get_ref<std::string&>();
      if (!IsValidUtf8(s)) s = ToValidUtf8(s);
    } else if (v->is_array()) {
      for (json& item : *v) todo.push_back(&item);
    } else if (v->is_object()) {
      bool bad_key = false;
      for (auto it = v->begin(); it != v->end(); ++it) bad_key |= !IsValidUtf8(it.key());
      if (bad_key) {
        json fixed = json::object();
        for (auto it = v->begin(); it != v->end(); ++it) {
          fixed[ToValidUtf8(it.key())] = std::move(it.value());
        }
        *v = std::move(fixed);
      }
      for (auto& item : v->items()) todo.push_back(&item.value());
    }
  }
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> ParseJsonLimited(std::string_view text, std::string_view what) {
  if (text.size() > kMaxRequestBodyBytes) {
    return ResourceExhaustedError("Request entity too large: limit is " +
                                  std::to_string(kMaxRequestBodyBytes));
  }
  std::string fixed;
  if (!IsValidUtf8(text)) {
    fixed = ToValidUtf8(text);
    text = fixed;
  }
  // One pass over the text bounds what the parser will build: its nesting
  // (the parser itself is iterative, but later walks are not) and a count
  // of values (every '[', '{', ',' and ':' outside strings starts one).
  size_t depth = 0, values = 1;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        ++values;
        if (++depth > kMaxDepth) {
          return InvalidError("json parse error: the " + std::string(what) +
                              " nests objects and arrays deeper than " + std::to_string(kMaxDepth) +
                              " levels (this server's limit)");
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      case ',':
      case ':':
        ++values;
        break;
      default:
        break;
    }
  }
  if (values > kMaxValues) {
    return ResourceExhaustedError("Request entity too large: the " + std::string(what) +
                                  " holds about " + std::to_string(values) +
                                  " JSON values, more than this server's limit of " +
                                  std::to_string(kMaxValues));
  }
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    return InvalidError("json parse error: " + ToValidUtf8(e.what()));
  } catch (const json::exception& e) {
    return InvalidError("json parse error: " + ToValidUtf8(e.what()));
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("Request entity too large: the " + std::string(what) +
                                  " does not fit in memory");
  }
}

Status CheckDepth(const json& value, size_t max_depth, std::string_view what) {
  std::vector<std::pair<const json*, size_t>> todo{{&value, 1}};
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    if (depth > max_depth) {
      return InvalidError(std::string(what) + " nests deeper than " + std::to_string(max_depth) +
                          " levels (this server's limit)");
    }
    for (const json& item : *v) todo.push_back({&item, depth + 1});
  }
  return Status::Ok();
}

Result<json> DecodeObjectBody(std::string_view content_type, std::string_view body) {
  json out;
  if (content_type.starts_with(kProtobufContentType) || HasProtobufMagic(body)) {
    STASH_ASSIGN_OR_RETURN(out, DecodeProtobufObject(body));  // valid UTF-8
  } else if (content_type.starts_with("application/yaml") ||
             content_type.starts_with("application/apply-patch+yaml")) {
    STASH_ASSIGN_OR_RETURN(std::vector<json> docs, YamlToJson(body));
    if (docs.size() != 1) return InvalidError("the request body must hold exactly one object");
    out = std::move(docs[0]);
  } else {
    auto parsed = ParseJsonLimited(body, "request body");
    if (!parsed.ok()) {
      if (parsed.status().code() != Code::kInvalid) return parsed.status();
      return InvalidError("couldn't get version/kind; " + parsed.status().message());
    }
    out = std::move(*parsed);
  }
  if (!out.is_object()) {
    return InvalidError(
        "couldn't get version/kind; json parse error: the body is not a JSON object");
  }
  return out;
}

}  // namespace stash::api
