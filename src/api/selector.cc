// Label and field selector parsing and matching (k8s.io/apimachinery's
// labels.Parse and fields.ParseSelector grammars).
#include "stash/api/selector.h"

#include <algorithm>
#include <cctype>

namespace stash::api {
namespace {

using json = nlohmann::json;

// ---- label selector lexer -------------------------------------------------

enum class Tok {
  kIdent,
  kComma,
  kEquals,
  kDoubleEquals,
  kNotEquals,
  kBang,
  kIn,
  kNotIn,
  kOpen,
  kClose,
  kCompare,
  kEnd
};

struct Token {
  Tok kind;
  std::string text;
};

bool IsSpecial(char c) {
  return c == '!' || c == '=' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>';
}

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == ',') {
      out.push_back({Tok::kComma, ","}), ++i;
    } else if (c == '(') {
      out.push_back({Tok::kOpen, "("}), ++i;
    } else if (c == ')') {
      out.push_back({Tok::kClose, ")"}), ++i;
    } else if (c == '=') {
      bool dbl = i + 1 < s.size() && s[i + 1] == '=';
      out.push_back({dbl ? Tok::kDoubleEquals : Tok::kEquals, dbl ? "==" : "="});
      i += dbl ? 2 : 1;
    } else if (c == '!') {
      bool ne = i + 1 < s.size() && s[i + 1] == '=';
      out.push_back({ne ? Tok::kNotEquals : Tok::kBang, ne ? "!=" : "!"});
      i += ne ? 2 : 1;
    } else if (c == '<' || c == '>') {
      // Numeric comparisons exist in apimachinery but no Stash or kubectl
      // flow uses them; lex them so the parser's error names them.
      out.push_back({Tok::kCompare, std::string(1, c)}), ++i;
    } else {
      size_t j = i;
      while (j < s.size() && !IsSpecial(s[j]) && !std::isspace(static_cast<unsigned char>(s[j]))) {
        ++j;
      }
      std::string word(s.substr(i, j - i));
      Tok kind = word == "in" ? Tok::kIn : word == "notin" ? Tok::kNotIn : Tok::kIdent;
      out.push_back({kind, word});
      i = j;
    }
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// A label name or value: at most 63 characters of [A-Za-z0-9_.-], starting and
// ending alphanumeric (values may be empty).
bool IsLabelToken(std::string_view s) {
  if (s.size() > 63) return false;
  if (s.empty()) return true;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  });
}

Status ValidateKey(const std::string& key) {
  std::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string::npos) {
    if (!IsDnsSubdomain(std::string_view(key).substr(0, slash))) {
      return InvalidError("unable to parse requirement: invalid label key \"" + key +
                          "\": prefix part must be a lowercase DNS subdomain");
    }
    name = std::string_view(key).substr(slash + 1);
  }
  if (name.empty() || !IsLabelToken(name)) {
    return InvalidError("unable to parse requirement: invalid label key \"" + key +
                        "\": name part must consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character (at most 63)");
  }
  return Status::Ok();
}

Status ValidateValue(const std::string& value) {
  if (!IsLabelToken(value)) {
    return InvalidError("unable to parse requirement: invalid label value: \"" + value +
                        "\": must be 63 characters or less and consist of alphanumeric "
                        "characters, '-', '_' or '.', starting and ending with an alphanumeric "
                        "character");
  }
  return Status::Ok();
}

class LabelParser {
 public:
  explicit LabelParser(std::string_view text) : tokens_(Lex(text)) {}

  Result<std::vector<LabelSelector::Requirement>> Parse() {
    std::vector<LabelSelector::Requirement> out;
    if (Peek().kind == Tok::kEnd) return out;
    while (true) {
      STASH_ASSIGN_OR_RETURN(LabelSelector::Requirement r, Requirement());
      out.push_back(std::move(r));
      const Token& t = Next();
      if (t.kind == Tok::kEnd) break;
      if (t.kind != Tok::kComma) return Unexpected(t, "',' or 'end of string'");
      if (Peek().kind == Tok::kEnd) return Unexpected(Peek(), "identifier");
    }
    return out;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  static Status Unexpected(const Token& t, std::string_view expected) {
    return InvalidError("found '" + t.text + "', expected: " + std::string(expected));
  }

  Result<LabelSelector::Requirement> Requirement() {
    LabelSelector::Requirement r;
    bool negated = false;
    if (Peek().kind == Tok::kBang) {
      negated = true;
      Next();
    }
    const Token& key = Next();
    if (key.kind != Tok::kIdent) return Unexpected(key, "identifier");
    r.key = key.text;
    STASH_RETURN_IF_ERROR(ValidateKey(r.key));
    Tok op = Peek().kind;
    if (negated || op == Tok::kComma || op == Tok::kEnd) {
      if (negated && op != Tok::kComma && op != Tok::kEnd) {
        return Unexpected(Peek(), "',' or 'end of string'");
      }
      r.op = negated ? LabelSelector::Op::kDoesNotExist : LabelSelector::Op::kExists;
      return r;
    }
    Next();
    switch (op) {
      case Tok::kEquals:
      case Tok::kDoubleEquals:
      case Tok::kNotEquals: {
        r.op = op == Tok::kNotEquals ? LabelSelector::Op::kNotEquals : LabelSelector::Op::kEquals;
        std::string value;
        if (Peek().kind == Tok::kIdent)
          value = Next().text;
        else if (Peek().kind != Tok::kComma && Peek().kind != Tok::kEnd) {
          return Unexpected(Peek(), "identifier");
        }
        STASH_RETURN_IF_ERROR(ValidateValue(value));
        r.values.push_back(std::move(value));
        return r;
      }
      case Tok::kIn:
      case Tok::kNotIn: {
        r.op = op == Tok::kIn ? LabelSelector::Op::kIn : LabelSelector::Op::kNotIn;
        if (Next().kind != Tok::kOpen) return Unexpected(tokens_[pos_ - 1], "'('");
        while (true) {
          std::string value;
          if (Peek().kind == Tok::kIdent) value = Next().text;
          STASH_RETURN_IF_ERROR(ValidateValue(value));
          if (!value.empty()) r.values.push_back(std::move(value));
          const Token& t = Next();
          if (t.kind == Tok::kClose) break;
          if (t.kind != Tok::kComma) return Unexpected(t, "',' or ')'");
        }
        if (r.values.empty()) {
          return InvalidError(
              "unable to parse requirement: values: Invalid value: []: for 'in', "
              "'notin' operators, values set can't be empty");
        }
        std::sort(r.values.begin(), r.values.end());
        r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
        return r;
      }
      default:
        return Unexpected(tokens_[pos_ - 1], "'=', '!=', '==', 'in', 'notin'");
    }
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

const json* LabelValue(const json& labels, const std::string& key) {
  if (!labels.is_object()) return nullptr;
  auto it = labels.find(key);
  return it == labels.end() ? nullptr : &*it;
}

std::string OpText(LabelSelector::Op op) {
  switch (op) {
    case LabelSelector::Op::kEquals:
      return "=";
    case LabelSelector::Op::kNotEquals:
      return "!=";
    case LabelSelector::Op::kIn:
      return " in ";
    case LabelSelector::Op::kNotIn:
      return " notin ";
    default:
      return "";
  }
}

// ---- field selectors --------------------------------------------------------

Result<std::string> Unescape(std::string_view s, std::string_view selector) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == ',' || s[i + 1] == '=')) {
      out += s[++i];
    } else {
      return InvalidError("invalid field selector \"" + std::string(selector) +
                          "\": invalid escape sequence in \"" + std::string(s) +
                          "\" (only \\\\, \\, and \\= are allowed)");
    }
  }
  return out;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ',' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

// Splits on unescaped commas.
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == ',') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

std::string FieldText(const json& object, std::string_view path) {
  // core/v1 Event's "source" field label is the component, not the struct.
  if (path == "source" && object.contains("involvedObject")) path = "source.component";
  const json* cur = &object;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string step(
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!cur->is_object()) return "";
    auto it = cur->find(step);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

}  // namespace

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelParser parser(text);
  Result<std::vector<Requirement>> reqs = parser.Parse();
  if (!reqs.ok()) {
    return InvalidError("invalid label selector \"" + std::string(text) +
                        "\": " + reqs.status().message());
  }
  LabelSelector s;
  s.requirements_ = std::move(*reqs);
  std::stable_sort(s.requirements_.begin(), s.requirements_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return s;
}

Result<LabelSelector> LabelSelector::FromJson(const nlohmann::json& selector) {
  LabelSelector s;
  if (selector.is_null()) return s;
  if (!selector.is_object()) return InvalidError("a label selector must be an object");
  if (auto it = selector.find("matchLabels"); it != selector.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidError("selector.matchLabels must be an object of strings");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return InvalidError("selector.matchLabels." + k + " must be a string");
      STASH_RETURN_IF_ERROR(ValidateKey(k));
      STASH_RETURN_IF_ERROR(ValidateValue(v.get<std::string>()));
      s.requirements_.push_back({k, Op::kEquals, {v.get<std::string>()}});
    }
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidError("selector.matchExpressions must be a list");
    for (const auto& e : *it) {
      if (!e.is_object() || !e.contains("key") || !e["key"].is_string()) {
        return InvalidError("selector.matchExpressions: each entry needs a string \"key\"");
      }
      Requirement r{e["key"].get<std::string>(), Op::kExists, {}};
      STASH_RETURN_IF_ERROR(ValidateKey(r.key));
      std::string op = e.value("operator", "");
      if (e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"]) {
          if (v.is_string()) r.values.push_back(v.get<std::string>());
        }
      }
      if (op == "In" || op == "NotIn") {
        r.op = op == "In" ? Op::kIn : Op::kNotIn;
        if (r.values.empty()) {
          return InvalidError("selector.matchExpressions: operator " + op + " of key \"" + r.key +
                              "\" needs at least one value");
        }
      } else if (op == "Exists" || op == "DoesNotExist") {
        r.op = op == "Exists" ? Op::kExists : Op::kDoesNotExist;
        if (!r.values.empty()) {
          return InvalidError("selector.matchExpressions: operator " + op + " of key \"" + r.key +
                              "\" takes no values");
        }
      } else {
        return InvalidError("selector.matchExpressions: \"" + op +
                            "\" is not a valid operator (In, NotIn, Exists, DoesNotExist)");
      }
      std::sort(r.values.begin(), r.values.end());
      s.requirements_.push_back(std::move(r));
    }
  }
  std::stable_sort(s.requirements_.begin(), s.requirements_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return s;
}

bool LabelSelector::Matches(const nlohmann::json& labels) const {
  for (const Requirement& r : requirements_) {
    const json* v = LabelValue(labels, r.key);
    std::string value = v && v->is_string() ? v->get<std::string>() : "";
    bool in_set = v && std::binary_search(r.values.begin(), r.values.end(), value);
    bool ok = false;
    switch (r.op) {
      case Op::kEquals:
        ok = v && value == r.values[0];
        break;
      case Op::kNotEquals:
        ok = !v || value != r.values[0];
        break;
      case Op::kIn:
        ok = in_set;
        break;
      case Op::kNotIn:
        ok = !in_set;
        break;
      case Op::kExists:
        ok = v != nullptr;
        break;
      case Op::kDoesNotExist:
        ok = v == nullptr;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

bool LabelSelector::MatchesObject(const nlohmann::json& object) const {
  static const json kNone;
  if (!object.is_object()) return Matches(kNone);
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return Matches(kNone);
  auto labels = meta->find("labels");
  return Matches(labels == meta->end() ? kNone : *labels);
}

std::string LabelSelector::ToString() const {
  std::string out;
  for (const Requirement& r : requirements_) {
    if (!out.empty()) out += ',';
    if (r.op == Op::kDoesNotExist) out += '!';
    out += r.key;
    out += OpText(r.op);
    if (r.op == Op::kIn || r.op == Op::kNotIn) {
      out += '(';
      for (size_t i = 0; i < r.values.size(); ++i) out += (i ? "," : "") + r.values[i];
      out += ')';
    } else if (r.op == Op::kEquals || r.op == Op::kNotEquals) {
      out += r.values[0];
    }
  }
  return out;
}

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  FieldSelector s;
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
    trimmed.remove_prefix(1);
  }
  if (trimmed.empty()) return s;
  for (std::string_view term : SplitTerms(text)) {
    if (term.empty()) continue;
    size_t pos = std::string_view::npos;
    size_t op_len = 0;
    bool equals = true;
    for (size_t i = 0; i < term.size() && pos == std::string_view::npos; ++i) {
      if (term[i] == '\\') {
        ++i;
      } else if (term.substr(i, 2) == "!=") {
        pos = i, op_len = 2, equals = false;
      } else if (term.substr(i, 2) == "==") {
        pos = i, op_len = 2;
      } else if (term[i] == '=') {
        pos = i, op_len = 1;
      }
    }
    if (pos == std::string_view::npos || pos == 0) {
      return InvalidError("invalid field selector \"" + std::string(text) +
                          "\": can't understand '" + std::string(term) +
                          "' (want field=value, field==value or field!=value)");
    }
    STASH_ASSIGN_OR_RETURN(std::string field, Unescape(term.substr(0, pos), text));
    STASH_ASSIGN_OR_RETURN(std::string value, Unescape(term.substr(pos + op_len), text));
    s.requirements_.push_back({std::move(field), equals, std::move(value)});
  }
  return s;
}

bool FieldSelector::Matches(const nlohmann::json& object) const {
  for (const Requirement& r : requirements_) {
    if ((FieldText(object, r.field) == r.value) != r.equals) return false;
  }
  return true;
}

const std::string* FieldSelector::RequiredValue(std::string_view field) const {
  for (const Requirement& r : requirements_) {
    if (r.equals && r.field == field) return &r.value;
  }
  return nullptr;
}

Status CheckFieldSelectorSupported(const FieldSelector& selector, std::string_view resource,
                                   const std::vector<std::string>* custom_fields) {
  static const std::vector<std::string_view> kEvents = {"involvedObject.kind",
                                                        "involvedObject.namespace",
                                                        "involvedObject.name",
                                                        "involvedObject.uid",
                                                        "involvedObject.apiVersion",
                                                        "involvedObject.resourceVersion",
                                                        "involvedObject.fieldPath",
                                                        "reason",
                                                        "reportingComponent",
                                                        "source",
                                                        "type"};
  static const std::vector<std::string_view> kPods = {"spec.nodeName",
                                                      "spec.restartPolicy",
                                                      "spec.schedulerName",
                                                      "spec.serviceAccountName",
                                                      "spec.hostNetwork",
                                                      "status.phase",
                                                      "status.podIP",
                                                      "status.podIPs",
                                                      "status.nominatedNodeName"};
  static const std::vector<std::string_view> kSecrets = {"type"};
  static const std::vector<std::string_view> kNamespaces = {"status.phase"};
  static const std::vector<std::string_view> kJobs = {"status.successful"};
  static const std::vector<std::string_view> kNodes = {"spec.unschedulable"};
  static const std::vector<std::string_view> kReplicas = {"status.replicas"};
  static const std::vector<std::string_view> kCsrs = {"spec.signerName"};
  static const std::vector<std::string_view> kNone;
  const std::vector<std::string_view>& extra = custom_fields                          ? kNone
                                               : resource == "events"                 ? kEvents
                                               : resource == "pods"                   ? kPods
                                               : resource == "secrets"                ? kSecrets
                                               : resource == "namespaces"             ? kNamespaces
                                               : resource == "jobs"                   ? kJobs
                                               : resource == "nodes"                  ? kNodes
                                               : resource == "replicasets"            ? kReplicas
                                               : resource == "replicationcontrollers" ? kReplicas
                                               : resource == "certificatesigningrequests" ? kCsrs
                                                                                          : kNone;
  for (const FieldSelector::Requirement& r : selector.requirements()) {
    if (r.field == "metadata.name" || r.field == "metadata.namespace") continue;
    if (custom_fields &&
        std::find(custom_fields->begin(), custom_fields->end(), r.field) != custom_fields->end()) {
      continue;
    }
    if (std::find(extra.begin(), extra.end(), r.field) == extra.end()) {
      return InvalidError("field label not supported: " + r.field);
    }
  }
  return Status::Ok();
}

std::string FieldSelector::ToString() const {
  std::string out;
  for (const Requirement& r : requirements_) {
    if (!out.empty()) out += ',';
    out += Escape(r.field) + (r.equals ? "=" : "!=") + Escape(r.value);
  }
  return out;
}

}  // namespace stash::api
