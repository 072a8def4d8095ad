// openAPIV3Schema validation, defaulting and pruning for custom resources.
#include "stash/api/schema.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>
#include <set>

#include "stash/api/table.h"
#include "stash/core/base64.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

std::string Child(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Go's %q of a string is close enough to a JSON string literal here.
std::string Quote(const std::string& s) { return json(s).dump(); }

// The bad value as kube-openapi prints it after "Invalid value: ".
std::string ValueText(const json& v) {
  if (v.is_string()) return Quote(v.get<std::string>());
  if (v.is_number() || v.is_boolean()) return v.dump();
  return Quote(JsonTypeName(v));
}

void Add(std::vector<FieldError>& errors, const std::string& field, std::string type,
         std::string detail) {
  FieldError e;
  e.field = field;
  e.type = std::move(type);
  e.body = detail.empty() ? e.type : e.type + ": " + detail;
  e.message = field.empty() ? e.body : field + ": " + e.body;
  errors.push_back(std::move(e));
}

void Invalid(std::vector<FieldError>& errors, const std::string& field, const json& value,
             const std::string& detail) {
  Add(errors, field, "Invalid value", ValueText(value) + ": " + detail);
}

std::string InBody(const std::string& field) {
  return (field.empty() ? "body" : field) + " in body";
}

// kube-openapi reports a type mismatch with the value's type name standing in
// for the value: `Invalid value: "integer": spec.schedule in body must be of
// type string: "integer"`.
void TypeError(std::vector<FieldError>& errors, const std::string& field, const json& value,
               const std::string& want) {
  const std::string got = JsonTypeName(value);
  Invalid(errors, field, got, InBody(field) + " must be of type " + want + ": " + Quote(got));
}

bool Flag(const json& schema, const char* name) {
  auto it = schema.find(name);
  return it != schema.end() && it->is_boolean() && it->get<bool>();
}

bool TypeMatches(const std::string& type, const json& v) {
  if (type == "string") return v.is_string();
  if (type == "integer") {
    return v.is_number_integer() ||
           (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>());
  }
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return true;
}

// Go's duration syntax: ^[-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$ or "0"
// (by hand: std::regex recurses once per character of a long value).
bool ValidDuration(std::string_view s) {
  if (s == "0") return true;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
    s.remove_prefix(i);
    bool unit = false;
    for (std::string_view u : {"ns", "us", "\u00b5s", "ms", "s", "m", "h"}) {
      if (s.starts_with(u)) {
        s.remove_prefix(u.size());
        unit = true;
        break;
      }
    }
    if (!unit) return false;
  }
  return true;
}

bool ValidFormat(const std::string& format, const std::string& s) {
  if (format == "date-time") return ParseTimestamp(s).ok();
  if (format == "date") return ParseTimestamp(s + "T00:00:00Z").ok() && s.size() == 10;
  if (format == "byte") return Base64Decode(s).ok();
  if (format == "duration") return ValidDuration(s);
  return true;  // unknown formats are not enforced, as in kube-openapi
}

class Validator {
 public:
  explicit Validator(bool strict) : strict_(strict) {}

  void Check(const json& schema, const json& v, const std::string& path, bool root,
             std::vector<FieldError>& errors) {
    if (!schema.is_object()) return;
    // A null the schema does not allow is dropped before validation (as the
    // apiserver prunes non-nullable nulls), so it is never a type error; see
    // CheckObject for required fields.
    if (v.is_null()) return;
    if (Flag(schema, "x-kubernetes-int-or-string")) {
      if (!v.is_string() && !TypeMatches("integer", v)) {
        TypeError(errors, path, v, "integer,string");
        return;
      }
    } else if (auto t = schema.find("type"); t != schema.end() && t->is_string()) {
      const std::string type = t->get<std::string>();
      if (!TypeMatches(type, v)) {
        TypeError(errors, path, v, type);
        return;
      }
    }
    CheckEnum(schema, v, path, errors);
    if (v.is_string()) CheckString(schema, v.get<std::string>(), path, errors);
    if (v.is_number()) CheckNumber(schema, v, path, errors);
    if (v.is_array()) CheckArray(schema, v, path, errors);
    if (v.is_object()) CheckObject(schema, v, path, root, errors);
    CheckCombinators(schema, v, path, errors);
  }

 private:
  // allOf/anyOf/oneOf/not: value validations in structural schemas. Their
  // subschemas never declare fields, so unknown fields are not checked there.
  void CheckCombinators(const json& schema, const json& v, const std::string& path,
                        std::vector<FieldError>& errors) {
    auto valid = [&](const json& sub) {
      std::vector<FieldError> sub_errors;
      Validator(false).Check(sub, v, path, false, sub_errors);
      return sub_errors.empty();
    };
    if (auto all = schema.find("allOf"); all != schema.end() && all->is_array()) {
      for (const json& sub : *all) Validator(false).Check(sub, v, path, false, errors);
    }
    if (auto any = schema.find("anyOf"); any != schema.end() && any->is_array()) {
      if (std::none_of(any->begin(), any->end(), valid)) {
        Invalid(errors, path, v, InBody(path) + " must validate at least one schema (anyOf)");
      }
    }
    if (auto one = schema.find("oneOf"); one != schema.end() && one->is_array()) {
      const auto n = std::count_if(one->begin(), one->end(), valid);
      if (n != 1) {
        Invalid(errors, path, v,
                InBody(path) + " must validate one and only one schema (oneOf). " +
                    (n == 0 ? std::string("Found none valid")
                            : "Found " + std::to_string(n) + " valid alternatives"));
      }
    }
    if (auto no = schema.find("not"); no != schema.end() && no->is_object() && valid(*no)) {
      Invalid(errors, path, v, InBody(path) + " must not validate the schema (not)");
    }
  }

  void CheckEnum(const json& schema, const json& v, const std::string& path,
                 std::vector<FieldError>& errors) {
    auto e = schema.find("enum");
    if (e == schema.end() || !e->is_array() || e->empty()) return;
    if (std::find(e->begin(), e->end(), v) != e->end()) return;
    std::string supported;
    for (const json& allowed : *e) supported += (supported.empty() ? "" : ", ") + allowed.dump();
    Add(errors, path, "Unsupported value", ValueText(v) + ": supported values: " + supported);
  }

  void CheckString(const json& schema, const std::string& s, const std::string& path,
                   std::vector<FieldError>& errors) {
    if (auto f = schema.find("format");
        f != schema.end() && f->is_string() && !ValidFormat(f->get<std::string>(), s)) {
      Invalid(errors, path, s,
              InBody(path) + " must be of type " + f->get<std::string>() + ": " + Quote(s));
    }
    if (auto p = schema.find("pattern"); p != schema.end() && p->is_string()) {
      try {
        if (!std::regex_search(s, std::regex(p->get<std::string>(), std::regex::ECMAScript))) {
          Invalid(errors, path, s, InBody(path) + " should match '" + p->get<std::string>() + "'");
        }
      } catch (const std::regex_error&) {
        // An unsupported pattern in the CRD is the CRD author's problem; not
        // the object's. Skip it rather than reject every object.
      }
    }
    if (auto m = schema.find("maxLength"); m != schema.end() && m->is_number_integer() &&
                                           static_cast<int64_t>(s.size()) > m->get<int64_t>()) {
      Add(errors, path, "Too long", "may not be longer than " + m->dump());
    }
    if (auto m = schema.find("minLength"); m != schema.end() && m->is_number_integer() &&
                                           static_cast<int64_t>(s.size()) < m->get<int64_t>()) {
      Invalid(errors, path, s, InBody(path) + " should be at least " + m->dump() + " chars long");
    }
  }

  void CheckNumber(const json& schema, const json& v, const std::string& path,
                   std::vector<FieldError>& errors) {
    const double x = v.get<double>();
    if (auto m = schema.find("minimum"); m != schema.end() && m->is_number()) {
      bool exclusive = Flag(schema, "exclusiveMinimum");
      if (exclusive ? x <= m->get<double>() : x < m->get<double>()) {
        Invalid(errors, path, v,
                InBody(path) + " should be greater than " + (exclusive ? "" : "or equal to ") +
                    m->dump());
      }
    }
    if (auto m = schema.find("maximum"); m != schema.end() && m->is_number()) {
      bool exclusive = Flag(schema, "exclusiveMaximum");
      if (exclusive ? x >= m->get<double>() : x > m->get<double>()) {
        Invalid(
            errors, path, v,
            InBody(path) + " should be less than " + (exclusive ? "" : "or equal to ") + m->dump());
      }
    }
  }

  void CheckArray(const json& schema, const json& v, const std::string& path,
                  std::vector<FieldError>& errors) {
    if (auto m = schema.find("maxItems"); m != schema.end() && m->is_number_integer() &&
                                          static_cast<int64_t>(v.size()) > m->get<int64_t>()) {
      Add(errors, path, "Too many",
          std::to_string(v.size()) + ": must have at most " + m->dump() + " items");
    }
    if (auto m = schema.find("minItems"); m != schema.end() && m->is_number_integer() &&
                                          static_cast<int64_t>(v.size()) < m->get<int64_t>()) {
      Invalid(errors, path, static_cast<int64_t>(v.size()),
              InBody(path) + " should have at least " + m->dump() + " items");
    }
    auto items = schema.find("items");
    if (items == schema.end()) return;
    for (size_t i = 0; i < v.size(); ++i) Check(*items, v[i], Index(path, i), false, errors);
  }

  void CheckObject(const json& schema, const json& v, const std::string& path, bool root,
                   std::vector<FieldError>& errors) {
    auto props = schema.find("properties");
    const bool has_props = props != schema.end() && props->is_object();
    const bool embedded = root || Flag(schema, "x-kubernetes-embedded-resource");
    if (auto req = schema.find("required"); req != schema.end() && req->is_array()) {
      for (const json& name : *req) {
        if (!name.is_string()) continue;
        auto it = v.find(name.get<std::string>());
        bool missing = it == v.end();
        if (!missing && it->is_null()) {
          // A non-nullable null is dropped, which leaves the field missing.
          bool nullable = false;
          if (has_props) {
            auto prop = props->find(name.get<std::string>());
            nullable = prop != props->end() && Flag(*prop, "nullable");
          }
          missing = !nullable;
        }
        if (missing) Add(errors, Child(path, name.get<std::string>()), "Required value", "");
      }
    }
    auto extra = schema.find("additionalProperties");
    const bool preserve = Flag(schema, "x-kubernetes-preserve-unknown-fields");
    for (const auto& [key, value] : v.items()) {
      const std::string child = Child(path, key);
      if (embedded && (key == "apiVersion" || key == "kind" || key == "metadata")) {
        if (key == "metadata") {
          if (!value.is_object()) TypeError(errors, child, value, "object");
          continue;  // the server validates ObjectMeta itself
        }
        if (!value.is_string()) TypeError(errors, child, value, "string");
        continue;
      }
      if (has_props && props->contains(key)) {
        Check((*props)[key], value, child, false, errors);
      } else if (extra != schema.end() && extra->is_object()) {
        Check(*extra, value, child, false, errors);
      } else if (extra != schema.end() && extra->is_boolean() && extra->get<bool>()) {
        // additionalProperties: true admits anything
      } else if (!preserve && strict_) {
        Add(errors, child, "unknown field", "");
        errors.back().body = "unknown field " + Quote(child);
        errors.back().message = errors.back().body;
      }
    }
  }

  bool strict_;
};

json Defaulted(const json& schema, const json& v) {
  if (!schema.is_object()) return v;
  if (v.is_object()) {
    json out = v;
    auto props = schema.find("properties");
    if (props != schema.end() && props->is_object()) {
      for (const auto& [key, sub] : props->items()) {
        auto it = out.find(key);
        const bool nullable = Flag(sub, "nullable");
        if (it == out.end() || (it->is_null() && !nullable)) {
          if (sub.is_object() && sub.contains("default")) {
            out[key] = Defaulted(sub, sub["default"]);
          } else if (it != out.end()) {
            out.erase(key);  // a null the schema does not allow is pruned
          }
        } else {
          *it = Defaulted(sub, *it);
        }
      }
    }
    auto extra = schema.find("additionalProperties");
    if (extra != schema.end() && extra->is_object()) {
      for (auto& [key, value] : out.items()) {
        if (props == schema.end() || !props->contains(key)) value = Defaulted(*extra, value);
      }
    }
    return out;
  }
  if (v.is_array()) {
    auto items = schema.find("items");
    if (items == schema.end()) return v;
    json out = json::array();
    for (const json& item : v) out.push_back(Defaulted(*items, item));
    return out;
  }
  return v;
}

json Pruned(const json& schema, const json& v, const std::string& path, bool root,
            std::vector<std::string>& pruned) {
  if (!schema.is_object()) return v;
  if (v.is_array()) {
    auto items = schema.find("items");
    if (items == schema.end()) return v;
    json out = json::array();
    for (size_t i = 0; i < v.size(); ++i) {
      out.push_back(Pruned(*items, v[i], Index(path, i), false, pruned));
    }
    return out;
  }
  if (!v.is_object()) return v;
  const bool preserve = Flag(schema, "x-kubernetes-preserve-unknown-fields");
  const bool embedded = root || Flag(schema, "x-kubernetes-embedded-resource");
  auto props = schema.find("properties");
  auto extra = schema.find("additionalProperties");
  json out = json::object();
  for (const auto& [key, value] : v.items()) {
    const std::string child = Child(path, key);
    if (embedded && (key == "apiVersion" || key == "kind" || key == "metadata")) {
      out[key] = value;
    } else if (props != schema.end() && props->is_object() && props->contains(key)) {
      out[key] = Pruned((*props)[key], value, child, false, pruned);
    } else if (extra != schema.end() && extra->is_object()) {
      out[key] = Pruned(*extra, value, child, false, pruned);
    } else if (preserve || (extra != schema.end() && extra->is_boolean() && extra->get<bool>())) {
      out[key] = value;
    } else {
      pruned.push_back(child);
    }
  }
  return out;
}

}  // namespace

std::string JsonTypeName(const nlohmann::json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return std::trunc(v.get<double>()) == v.get<double>() ? "integer" : "number";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    default:
      return "null";
  }
}

std::vector<FieldError> Validate(const nlohmann::json& schema, const nlohmann::json& object,
                                 bool strict) {
  std::vector<FieldError> errors;
  try {
    Validator(strict).Check(schema, object, "", true, errors);
  } catch (const json::exception& e) {
    Add(errors, "", "Internal error", std::string("validating the object failed: ") + e.what());
  }
  return errors;
}

nlohmann::json ApplyDefaults(const nlohmann::json& schema, const nlohmann::json& object) {
  try {
    return Defaulted(schema, object);
  } catch (const json::exception&) {
    return object;  // defaulting is best effort; validation reports real problems
  }
}

PruneResult PruneUnknownFields(const nlohmann::json& schema, const nlohmann::json& object) {
  PruneResult result;
  try {
    result.object = Pruned(schema, object, "", true, result.pruned);
  } catch (const json::exception&) {
    result.object = object;
    result.pruned.clear();
  }
  return result;
}

}  // namespace stash::api
