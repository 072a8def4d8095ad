#include "meta_validation.h"

#include <algorithm>
#include <cctype>

#include "stash/format/goquote.h"

namespace stash::api {

using json = nlohmann::json;

namespace {

const char kLabelFmt[] = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const char kSubdomainFmt[] = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const char kDns1035Fmt[] = "[a-z]([-a-z0-9]*[a-z0-9])?";
const char kQualifiedFmt[] = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const char kLabelValueFmt[] = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const char kQualifiedMsg[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";

std::string MaxLenError(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

// Go's validation.RegexError.
std::string RegexError(const std::string& msg, const std::string& fmt,
                       const std::vector<std::string>& examples) {
  std::string out = msg;
  if (examples.empty()) return out + " (regex used for validation is '" + fmt + "')";
  out += " (e.g. ";
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) out += " or ";
    out += "'" + examples[i] + "', ";
  }
  return out + "regex used for validation is '" + fmt + "')";
}

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool Alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesLabel(std::string_view s) {
  if (s.empty() || !LowerAlnum(s.front()) || !LowerAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return LowerAlnum(c) || c == '-'; });
}

bool MatchesSubdomain(std::string_view s) {
  while (true) {
    size_t dot = s.find('.');
    if (!MatchesLabel(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

bool MatchesDns1035(std::string_view s) {
  return MatchesLabel(s) && s.front() >= 'a' && s.front() <= 'z';
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualified(std::string_view s) {
  if (s.empty() || !Alnum(s.front()) || !Alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return Alnum(c) || c == '-' || c == '_' || c == '.'; });
}

FieldError Invalid(const std::string& field, const std::string& value, const std::string& detail) {
  std::string body = "Invalid value: " + GoQuoteShort(value) + ": " + detail;
  return {field, "Invalid value", field + ": " + body, body};
}

FieldError TooLong(const std::string& field, size_t max) {
  std::string body = "Too long: must have at most " + std::to_string(max) + " bytes";
  return {field, "Too long", field + ": " + body, body};
}

void AddAll(std::vector<FieldError>* out, const std::string& field, const std::string& value,
            const std::vector<std::string>& errors) {
  for (const std::string& e : errors) out->push_back(Invalid(field, value, e));
}

using NameRule = std::vector<std::string> (*)(const std::string&);

std::vector<std::string> IsPathSegmentName(const std::string& name) {
  if (name == "." || name == "..") return {"may not be '" + name + "'"};
  std::vector<std::string> errs;
  for (const char* bad : {"/", "%"}) {
    if (name.find(bad) != std::string::npos)
      errs.push_back(std::string("may not contain '") + bad + "'");
  }
  return errs;
}

std::vector<std::string> IsCronJobName(const std::string& name) {
  std::vector<std::string> errs = IsDns1123Subdomain(name);
  if (name.size() > 52) errs.push_back(MaxLenError(52));
  return errs;
}

NameRule RuleFor(const ResourceInfo& info) {
  const std::string key = info.key();
  if (key == "/namespaces") return IsDns1123Label;
  if (key == "/services") return IsDns1035Label;
  if (key == "/events" || key == "events.k8s.io/events" ||
      info.group == "rbac.authorization.k8s.io") {
    return IsPathSegmentName;
  }
  if (key == "batch/cronjobs") return IsCronJobName;
  return IsDns1123Subdomain;
}

// A generateName prefix is checked as a name with its trailing '-' masked.
std::string MaskTrailingDash(std::string s) {
  if (s.size() > 1 && s.back() == '-') s.back() = 'a';
  return s;
}

std::string TypeName(const json& v) {
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "bool";
  return v.type_name();
}

// Go's "json: cannot unmarshal X into Go struct field ObjectMeta.metadata.F of type T".
Status TypeError(const json& v, const std::string& field, const std::string& go_type) {
  return InvalidError("json: cannot unmarshal " + TypeName(v) +
                      " into Go struct field ObjectMeta.metadata." + field + " of type " + go_type);
}

Status CheckStringMap(const json& meta, const std::string& field) {
  auto it = meta.find(field);
  if (it == meta.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return TypeError(*it, field, "map[string]string");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return TypeError(v, field, "string");
  }
  return Status::Ok();
}

Status CheckTypes(const json& meta) {
  for (const char* f : {"name", "generateName", "namespace"}) {
    auto it = meta.find(f);
    if (it != meta.end() && !it->is_null() && !it->is_string()) return TypeError(*it, f, "string");
  }
  STASH_RETURN_IF_ERROR(CheckStringMap(meta, "labels"));
  STASH_RETURN_IF_ERROR(CheckStringMap(meta, "annotations"));
  if (auto it = meta.find("finalizers"); it != meta.end() && !it->is_null()) {
    if (!it->is_array()) return TypeError(*it, "finalizers", "[]string");
    for (const json& f : *it) {
      if (!f.is_string()) return TypeError(f, "finalizers", "string");
    }
  }
  return Status::Ok();
}

std::string Str(const json& meta, const char* field) {
  auto it = meta.find(field);
  return it != meta.end() && it->is_string() ? it->get<std::string>() : "";
}

void ValidateName(const ResourceInfo& info, const json& object, std::vector<FieldError>* out) {
  const json& meta = object["metadata"];
  NameRule rule = RuleFor(info);
  const std::string name = Str(meta, "name");
  const std::string generate = Str(meta, "generateName");
  if (!generate.empty()) {
    AddAll(out, "metadata.generateName", generate, rule(MaskTrailingDash(generate)));
  }
  if (name.empty()) return;  // the handler answers "name or generateName is required"
  AddAll(out, "metadata.name", name, rule(name));
  if (info.key() == "apiextensions.k8s.io/customresourcedefinitions") {
    const json spec = object.value("spec", json::object());
    const json names = spec.is_object() ? spec.value("names", json::object()) : json::object();
    const json plural = names.is_object() ? names.value("plural", json()) : json();
    const json group = spec.is_object() ? spec.value("group", json()) : json();
    if (!plural.is_string() || !group.is_string() ||
        name != plural.get<std::string>() + "." + group.get<std::string>()) {
      out->push_back(Invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
    }
  }
}

void ValidateMaps(const json& meta, std::vector<FieldError>* out) {
  if (auto it = meta.find("labels"); it != meta.end() && it->is_object()) {
    size_t total = 0;
    for (const auto& [k, v] : it->items()) {
      const std::string& value = v.get_ref<const std::string&>();
      total += k.size() + value.size();
      AddAll(out, "metadata.labels", k, IsQualifiedName(k));
      AddAll(out, "metadata.labels", value, IsValidLabelValue(value));
    }
    if (total > kMaxLabelBytes) out->push_back(TooLong("metadata.labels", kMaxLabelBytes));
  }
  if (auto it = meta.find("annotations"); it != meta.end() && it->is_object()) {
    size_t total = 0;
    for (const auto& [k, v] : it->items()) {
      total += k.size() + v.get_ref<const std::string&>().size();
      std::string lower = k;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      AddAll(out, "metadata.annotations", k, IsQualifiedName(lower));
    }
    if (total > kMaxAnnotationBytes) {
      out->push_back(TooLong("metadata.annotations", kMaxAnnotationBytes));
    }
  }
  if (auto it = meta.find("finalizers"); it != meta.end() && it->is_array()) {
    for (const json& f : *it) {
      const std::string& name = f.get_ref<const std::string&>();
      AddAll(out, "metadata.finalizers", name, IsQualifiedName(name));
    }
  }
}

}  // namespace

std::vector<std::string> IsDns1123Label(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!MatchesLabel(value)) {
    if (MatchesSubdomain(value)) {
      errs.push_back("must not contain dots");
    } else {
      errs.push_back(RegexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
          "and must start and end with an alphanumeric character",
          kLabelFmt, {"my-name", "123-abc"}));
    }
  }
  return errs;
}

std::vector<std::string> IsDns1123Subdomain(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(MaxLenError(253));
  if (!MatchesSubdomain(value)) {
    errs.push_back(RegexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character",
        kSubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> IsDns1035Label(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!MatchesDns1035(value)) {
    errs.push_back(RegexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character",
        kDns1035Fmt, {"my-name", "abc-123"}));
  }
  return errs;
}

std::vector<std::string> IsQualifiedName(const std::string& value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  size_t slash = value.find('/');
  if (slash != std::string::npos) {
    if (value.find('/', slash + 1) != std::string::npos) {
      return {"a qualified name " +
              RegexError(kQualifiedMsg, kQualifiedFmt, {"MyName", "my.name", "123-abc"}) +
              " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
    }
    std::string prefix = value.substr(0, slash);
    name = std::string_view(value).substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const std::string& e : IsDns1123Subdomain(prefix)) errs.push_back("prefix part " + e);
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part " + MaxLenError(63));
  }
  if (!MatchesQualified(name)) {
    errs.push_back("name part " +
                   RegexError(kQualifiedMsg, kQualifiedFmt, {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> IsValidLabelValue(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!value.empty() && !MatchesQualified(value)) {
    errs.push_back(RegexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character",
        kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::string GoQuoteShort(const std::string& value, size_t max_bytes) {
  if (value.size() <= max_bytes) return "\"" + format::GoQuote(value) + "\"";
  return "\"" + format::GoQuote(std::string_view(value).substr(0, max_bytes)) + "\"... (" +
         std::to_string(value.size()) + " bytes)";
}

Status CheckTypeMeta(const json& object) {
  for (const char* f : {"apiVersion", "kind"}) {
    auto it = object.find(f);
    if (it != object.end() && !it->is_null() && !it->is_string()) {
      return InvalidError("couldn't get version/kind; json parse error: json: cannot unmarshal " +
                          TypeName(*it) + " into Go struct field ." + f + " of type string");
    }
  }
  auto it = object.find("metadata");
  if (it == object.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) {
    return InvalidError("json: cannot unmarshal " + TypeName(*it) +
                        " into Go struct field .metadata of type v1.ObjectMeta");
  }
  return CheckTypes(*it);
}

MetaValidation ValidateObjectMeta(const ResourceInfo& info, const json& object, bool create) {
  MetaValidation v;
  auto it = object.find("metadata");
  if (it == object.end() || !it->is_object()) return v;
  const json& meta = *it;
  v.bad_request = CheckTypes(meta);
  if (!v.bad_request.ok()) return v;
  if (create) ValidateName(info, object, &v.invalid);
  ValidateMaps(meta, &v.invalid);
  return v;
}

}  // namespace stash::api
