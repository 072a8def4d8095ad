// RFC 7386 merge patch, RFC 6902 JSON patch and patch-body parsing.
#include "stash/api/patch.h"

#include <string>
#include <vector>

#include "decode.h"

namespace stash::api {
namespace {

using json = nlohmann::json;

json MergeValue(const json& target, const json& patch) {
  if (!patch.is_object()) return patch;
  json result = target.is_object() ? target : json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      result.erase(key);
    } else {
      auto it = result.find(key);
      result[key] = MergeValue(it == result.end() ? json() : *it, value);
    }
  }
  return result;
}

// A parsed RFC 6901 pointer: its unescaped reference tokens.
struct Pointer {
  std::string text;
  std::vector<std::string> tokens;
};

Result<Pointer> ParsePointer(const json& op, const char* member) {
  auto it = op.find(member);
  if (it == op.end() || !it->is_string()) {
    return InvalidError(std::string("JSON patch operation ") + op.dump() + " has no string \"" +
                        member + "\" member");
  }
  Pointer p{it->get<std::string>(), {}};
  if (p.text.empty()) return p;
  if (p.text[0] != '/') {
    return InvalidError("JSON patch path \"" + p.text + "\" must be empty or start with '/'");
  }
  std::string token;
  for (size_t i = 1; i <= p.text.size(); ++i) {
    if (i == p.text.size() || p.text[i] == '/') {
      p.tokens.push_back(token);
      token.clear();
    } else if (p.text[i] == '~') {
      if (i + 1 < p.text.size() && (p.text[i + 1] == '0' || p.text[i + 1] == '1')) {
        token += p.text[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        return InvalidError("JSON patch path \"" + p.text + "\" has an invalid '~' escape");
      }
    } else {
      token += p.text[i];
    }
  }
  return p;
}

// Parses an array index token. `allow_end` admits "-" and size() (for add).
Result<size_t> ArrayIndex(const std::string& token, size_t size, bool allow_end,
                          const std::string& path) {
  if (token == "-" && allow_end) return size;
  bool digits = !token.empty() && token.size() <= 18 &&
                token.find_first_not_of("0123456789") == std::string::npos &&
                (token == "0" || token[0] != '0');
  if (!digits)
    return InvalidError("JSON patch path \"" + path + "\": \"" + token +
                        "\" is not a valid array index");
  size_t index = std::stoull(token);
  if (index > size || (index == size && !allow_end)) {
    return InvalidError("JSON patch path \"" + path + "\": index " + token +
                        " is out of range (array has " + std::to_string(size) + " elements)");
  }
  return index;
}

// Walks to the parent container of the pointer's last token.
Result<json*> Parent(json& doc, const Pointer& p) {
  json* cur = &doc;
  for (size_t i = 0; i + 1 < p.tokens.size(); ++i) {
    const std::string& t = p.tokens[i];
    if (cur->is_object()) {
      auto it = cur->find(t);
      if (it == cur->end()) {
        return InvalidError("JSON patch path \"" + p.text + "\" does not exist: no member \"" + t +
                            "\"");
      }
      cur = &*it;
    } else if (cur->is_array()) {
      STASH_ASSIGN_OR_RETURN(size_t index, ArrayIndex(t, cur->size(), false, p.text));
      cur = &(*cur)[index];
    } else {
      return InvalidError("JSON patch path \"" + p.text + "\" does not exist: \"" + t +
                          "\" is inside a " + std::string(cur->type_name()));
    }
  }
  return cur;
}

Result<json*> Find(json& doc, const Pointer& p) {
  if (p.tokens.empty()) return &doc;
  STASH_ASSIGN_OR_RETURN(json * parent, Parent(doc, p));
  const std::string& last = p.tokens.back();
  if (parent->is_object()) {
    auto it = parent->find(last);
    if (it == parent->end()) {
      return InvalidError("JSON patch path \"" + p.text + "\" does not exist");
    }
    return &*it;
  }
  if (parent->is_array()) {
    STASH_ASSIGN_OR_RETURN(size_t index, ArrayIndex(last, parent->size(), false, p.text));
    return &(*parent)[index];
  }
  return InvalidError("JSON patch path \"" + p.text + "\" does not exist");
}

Status Add(json& doc, const Pointer& p, json value) {
  if (p.tokens.empty()) {
    doc = std::move(value);
    return Status::Ok();
  }
  STASH_ASSIGN_OR_RETURN(json * parent, Parent(doc, p));
  const std::string& last = p.tokens.back();
  if (parent->is_object()) {
    (*parent)[last] = std::move(value);
  } else if (parent->is_array()) {
    STASH_ASSIGN_OR_RETURN(size_t index, ArrayIndex(last, parent->size(), true, p.text));
    parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
  } else {
    return InvalidError("JSON patch path \"" + p.text + "\": cannot add a member to a " +
                        std::string(parent->type_name()));
  }
  return Status::Ok();
}

Result<json> Remove(json& doc, const Pointer& p) {
  if (p.tokens.empty()) return InvalidError("JSON patch cannot remove the whole document");
  STASH_ASSIGN_OR_RETURN(json * target, Find(doc, p));
  json removed = std::move(*target);
  STASH_ASSIGN_OR_RETURN(json * parent, Parent(doc, p));
  if (parent->is_object()) {
    parent->erase(p.tokens.back());
  } else {
    STASH_ASSIGN_OR_RETURN(size_t index,
                           ArrayIndex(p.tokens.back(), parent->size(), false, p.text));
    parent->erase(parent->begin() + static_cast<std::ptrdiff_t>(index));
  }
  return removed;
}

Result<json> ValueOf(const json& op) {
  auto it = op.find("value");
  if (it == op.end()) {
    return InvalidError("JSON patch operation " + op.dump() + " has no \"value\" member");
  }
  return *it;
}

// Values in `v`, counting no further than `limit` (iteratively).
size_t CountValues(const json& v, size_t limit) {
  size_t n = 0;
  std::vector<const json*> todo{&v};
  while (!todo.empty() && n <= limit) {
    const json* cur = todo.back();
    todo.pop_back();
    ++n;
    if (cur->is_structured()) {
      for (const json& item : *cur) todo.push_back(&item);
    }
  }
  return n;
}

// `copied` accumulates the values "copy" operations duplicated: a patch of
// copies of copies would otherwise double the object with each operation.
Status ApplyOne(json& doc, const json& op, size_t* copied) {
  if (!op.is_object())
    return InvalidError("JSON patch operation " + op.dump() + " is not an object");
  auto op_it = op.find("op");
  if (op_it == op.end() || !op_it->is_string()) {
    return InvalidError("JSON patch operation " + op.dump() + " has no string \"op\" member");
  }
  const std::string name = op_it->get<std::string>();
  STASH_ASSIGN_OR_RETURN(Pointer path, ParsePointer(op, "path"));
  if (name == "add") {
    STASH_ASSIGN_OR_RETURN(json value, ValueOf(op));
    return Add(doc, path, std::move(value));
  }
  if (name == "remove") return Remove(doc, path).status();
  if (name == "replace") {
    STASH_ASSIGN_OR_RETURN(json value, ValueOf(op));
    STASH_ASSIGN_OR_RETURN(json * target, Find(doc, path));
    *target = std::move(value);
    return Status::Ok();
  }
  if (name == "test") {
    STASH_ASSIGN_OR_RETURN(json value, ValueOf(op));
    STASH_ASSIGN_OR_RETURN(json * target, Find(doc, path));
    if (*target != value) {
      return InvalidError("JSON patch test failed: \"" + path.text + "\" is " + target->dump() +
                          ", not " + value.dump());
    }
    return Status::Ok();
  }
  if (name == "move" || name == "copy") {
    STASH_ASSIGN_OR_RETURN(Pointer from, ParsePointer(op, "from"));
    if (name == "move") {
      if (path.text.size() > from.text.size() &&
          path.text.compare(0, from.text.size(), from.text) == 0 &&
          path.text[from.text.size()] == '/') {
        return InvalidError("JSON patch cannot move \"" + from.text + "\" into its own child \"" +
                            path.text + "\"");
      }
      STASH_ASSIGN_OR_RETURN(json value, Remove(doc, from));
      return Add(doc, path, std::move(value));
    }
    STASH_ASSIGN_OR_RETURN(json * source, Find(doc, from));
    *copied += CountValues(*source, kMaxValues);
    if (*copied > kMaxValues) {
      return ResourceExhaustedError(
          "Request entity too large: the JSON patch's copy operations "
          "duplicate more than " +
          std::to_string(kMaxValues) + " values");
    }
    return Add(doc, path, *source);
  }
  return InvalidError("JSON patch operation \"" + name +
                      "\" is not one of add, remove, replace, move, copy, test");
}

}  // namespace

Result<nlohmann::json> ApplyMergePatch(const nlohmann::json& target, const nlohmann::json& patch) {
  try {
    return MergeValue(target, patch);
  } catch (const json::exception& e) {
    return InvalidError(std::string("applying the merge patch failed: ") + e.what());
  }
}

Result<nlohmann::json> ApplyJsonPatch(const nlohmann::json& target, const nlohmann::json& ops) {
  if (!ops.is_array()) {
    return InvalidError("a JSON patch must be an array of operations, got a " +
                        std::string(ops.type_name()));
  }
  try {
    json doc = target;
    size_t copied = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      Status s = ApplyOne(doc, ops[i], &copied);
      if (!s.ok()) return s.Prepend("JSON patch operation " + std::to_string(i));
    }
    return doc;
  } catch (const json::exception& e) {
    return InvalidError(std::string("applying the JSON patch failed: ") + e.what());
  }
}

Result<nlohmann::json> ParsePatchBody(std::string_view body, std::string_view content_type) {
  auto parsed = ParseJsonLimited(body, std::string(content_type) + " patch");
  if (!parsed.ok()) {
    if (parsed.status().code() != Code::kInvalid) return parsed.status();
    return InvalidError("the body of the " + std::string(content_type) +
                        " patch is not valid JSON (" + parsed.status().message() +
                        "); send a JSON document");
  }
  bool json_patch = content_type.find("json-patch") != std::string_view::npos;
  if (json_patch && !parsed->is_array()) {
    return InvalidError("a " + std::string(content_type) +
                        " body must be a JSON array of operations");
  }
  if (!json_patch && !parsed->is_object()) {
    return InvalidError("a " + std::string(content_type) + " body must be a JSON object");
  }
  if (json_patch && parsed->size() > kMaxJsonPatchOperations) {
    return ResourceExhaustedError("The allowed maximum operations in a JSON patch is " +
                                  std::to_string(kMaxJsonPatchOperations) + ", got " +
                                  std::to_string(parsed->size()));
  }
  return std::move(*parsed);
}

}  // namespace stash::api
