#include "yaml_json.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>

#include "decode.h"

namespace stash::api {

using json = nlohmann::json;

namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, without std::regex
// (whose matcher recurses once per character of a long scalar).
bool LooksLikeFloat(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  size_t e = s.find_first_of("eE");
  std::string_view mantissa = s.substr(0, e);
  if (e != std::string_view::npos) {
    std::string_view exp = s.substr(e + 1);
    if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) exp.remove_prefix(1);
    if (!AllDigits(exp)) return false;
  }
  size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return AllDigits(mantissa);
  std::string_view whole = mantissa.substr(0, dot), frac = mantissa.substr(dot + 1);
  if (whole.empty()) return AllDigits(frac);
  return AllDigits(whole) && (frac.empty() || AllDigits(frac));
}

// YAML 1.2 core-schema typing of a plain scalar.
json PlainScalar(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
  if (AllDigits(digits)) {
    int64_t v = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return v;
    return s;  // out of int64 range: kept as text
  }
  if (LooksLikeFloat(s)) {
    errno = 0;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (errno == 0 && end == s.c_str() + s.size()) return d;
  }
  return s;
}

json TypedScalar(const std::string& tag, const std::string& value) {
  if (tag == "!") return value;  // quoted
  if (tag.size() > 4 && tag.compare(tag.size() - 4, 4, ":str") == 0) return value;
  return PlainScalar(value);
}

// Raised inside the event handler; YamlToJson turns it into a Status.
struct YamlLimitError {
  Status status;
};

// Builds JSON from yaml-cpp's parse events with an explicit stack, so deep
// documents do not recurse here, and expands aliases against a budget: an
// alias costs what its anchor's subtree holds, and the whole document may
// hold at most kMaxValues values and kMaxExpandedBytes of scalar text — a
// "billion laughs" document fails after a few hundred kilobytes of work.
class JsonBuilder final : public YAML::EventHandler {
 public:
  static constexpr size_t kMaxExpandedBytes = 4 * kMaxRequestBodyBytes;

  std::vector<json> TakeDocuments() { return std::move(docs_); }

  // The budget is the whole stream's: many small documents are as many values.
  void OnDocumentStart(const YAML::Mark& mark) override {
    // yaml-cpp 0.7 leaves a token it cannot place (a lone ',' where a node
    // belongs) unconsumed and starts the next document at it, for ever: a
    // document that begins where the previous one began is that loop.
    if (started_ && mark.pos == last_start_) Fail(mark, "did not find expected node content");
    started_ = true;
    last_start_ = mark.pos;
    stack_.clear();
    anchors_.clear();
    aliased_ = false;
    Charge(mark, 1, 0);
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Add(mark, nullptr, "", anchor, 1, 0);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Add(mark, TypedScalar(tag, value), value, anchor, 1, value.size());
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) Fail(mark, "unknown anchor referenced");
    aliased_ = true;
    const Anchored& a = it->second;
    Charge(mark, a.values, a.bytes);
    std::string key_text = a.value->is_string() ? a.value->get<std::string>() : DumpJson(*a.value);
    Place(mark, json(*a.value), key_text, a.values, a.bytes);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, json::array(), anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, json::object(), anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    json value;
    YAML::anchor_t anchor;
    size_t values = 1;  // of this subtree, for an anchor over it
    size_t bytes = 0;
    bool have_key = false;
    std::string key;
  };
  struct Anchored {
    std::shared_ptr<const json> value;
    size_t values;
    size_t bytes;
  };

  [[noreturn]] void Fail(const YAML::Mark& mark, const std::string& what) {
    throw YamlLimitError{InvalidError("error converting YAML to JSON: yaml: line " +
                                      std::to_string(mark.line + 1) + ": " + what)};
  }

  void Charge(const YAML::Mark& mark, size_t values, size_t bytes) {
    values_ += values;
    bytes_ += bytes;
    if (values_ <= kMaxValues && bytes_ <= kMaxExpandedBytes) return;
    if (aliased_) Fail(mark, "document contains excessive aliasing");
    throw YamlLimitError{
        ResourceExhaustedError("Request entity too large: the YAML document holds more than " +
                               std::to_string(kMaxValues) + " values (this server's limit)")};
  }

  void Open(const YAML::Mark& mark, json value, YAML::anchor_t anchor) {
    if (!stack_.empty() && stack_.back().value.is_object() && !stack_.back().have_key) {
      Fail(mark, "a mapping key must be a scalar");
    }
    if (stack_.size() >= kMaxDepth) {
      Fail(mark, "the document nests deeper than " + std::to_string(kMaxDepth) +
                     " levels (this server's limit)");
    }
    Charge(mark, 1, 0);
    stack_.push_back({std::move(value), anchor});
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Remember(f.anchor, f.value, f.values, f.bytes);
    Place(YAML::Mark(), std::move(f.value), "", f.values, f.bytes);
  }

  void Add(const YAML::Mark& mark, json value, const std::string& text, YAML::anchor_t anchor,
           size_t values, size_t bytes) {
    Charge(mark, values, bytes);
    Remember(anchor, value, values, bytes);
    Place(mark, std::move(value), text, values, bytes);
  }

  // The anchor keeps a copy of its value, which counts against the budget
  // like an expansion (nested anchors would otherwise copy O(size x depth)).
  void Remember(YAML::anchor_t anchor, const json& value, size_t values, size_t bytes) {
    if (anchor == YAML::NullAnchor) return;
    aliased_ = true;
    Charge(YAML::Mark(), values, bytes);
    anchors_[anchor] = {std::make_shared<const json>(value), values, bytes};
  }

  // Puts a finished value into its parent (or makes it the document).
  // `text` is a scalar's source text, which a mapping key keeps verbatim.
  void Place(const YAML::Mark& mark, json value, const std::string& text, size_t values = 1,
             size_t bytes = 0) {
    if (stack_.empty()) {
      if (!value.is_null()) docs_.push_back(std::move(value));
      return;
    }
    Frame& parent = stack_.back();
    parent.values += values;
    parent.bytes += bytes;
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(value));
    } else if (!parent.have_key) {
      if (value.is_structured()) Fail(mark, "a mapping key must be a scalar");
      parent.key = text;
      parent.have_key = true;
    } else {
      parent.value[parent.key] = std::move(value);
      parent.have_key = false;
    }
  }

  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::vector<json> docs_;
  size_t values_ = 0;
  bool started_ = false;
  int last_start_ = 0;
  size_t bytes_ = 0;
  bool aliased_ = false;
};

// Where a UTF-16 or UTF-32 byte order mark says the stream is not UTF-8
// (yaml-cpp decodes those itself).
bool HasWideBom(std::string_view t) {
  return t.starts_with("\xFE\xFF") || t.starts_with("\xFF\xFE") ||
         t.starts_with(std::string_view("\x00\x00\xFE\xFF", 4));
}

}  // namespace

Result<std::vector<json>> YamlToJson(std::string_view text) {
  if (!HasWideBom(text) && !IsValidUtf8(text)) {
    return InvalidError("error converting YAML to JSON: yaml: invalid UTF-8 at byte " +
                        std::to_string(FirstInvalidUtf8(text) + 1) + " of the document");
  }
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    JsonBuilder builder;
    while (parser.HandleNextDocument(builder)) {
    }
    std::vector<json> docs = builder.TakeDocuments();
    for (json& d : docs) MakeValidUtf8(&d);
    return docs;
  } catch (const YamlLimitError& e) {
    return e.status;
  } catch (const YAML::Exception& e) {
    return InvalidError(std::string("error converting YAML to JSON: ") + ToValidUtf8(e.what()));
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError(
        "Request entity too large: the YAML document does not fit in "
        "this server's memory");
  } catch (const std::exception& e) {
    return InvalidError(std::string("error converting YAML to JSON: ") + ToValidUtf8(e.what()));
  }
}

}  // namespace stash::api
