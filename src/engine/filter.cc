#include "stash/engine/filter.h"

#include <algorithm>
#include <cstdint>

namespace stash::engine {

namespace {

constexpr char32_t kRuneError = 0xFFFD;

// Go's utf8.DecodeRuneInString: {rune, bytes}; {RuneError, 1} when invalid.
std::pair<char32_t, size_t> DecodeRune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) return {b0, 1};
  size_t n;
  char32_t r;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, r = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, r = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, r = b0 & 0x07, min = 0x10000;
  } else {
    return {kRuneError, 1};
  }
  if (s.size() < n) return {kRuneError, 1};
  for (size_t i = 1; i < n; ++i) {
    auto b = static_cast<uint8_t>(s[i]);
    if ((b & 0xC0) != 0x80) return {kRuneError, 1};
    r = (r << 6) | (b & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return {kRuneError, 1};
  return {r, n};
}

Status BadPattern() { return InvalidError("syntax error in pattern"); }

// Go's getEsc: one (possibly escaped) rune of a character class.
Result<char32_t> GetEsc(std::string_view* chunk) {
  std::string_view c = *chunk;
  if (c.empty() || c[0] == '-' || c[0] == ']') return BadPattern();
  if (c[0] == '\\') {
    c.remove_prefix(1);
    if (c.empty()) return BadPattern();
  }
  auto [r, n] = DecodeRune(c);
  if (r == kRuneError && n == 1) return BadPattern();
  c.remove_prefix(n);
  if (c.empty()) return BadPattern();
  *chunk = c;
  return r;
}

// Go's scanChunk: splits off leading stars and the chunk up to the next star.
void ScanChunk(std::string_view* pattern, bool* star, std::string_view* chunk) {
  std::string_view p = *pattern;
  *star = false;
  while (!p.empty() && p[0] == '*') {
    p.remove_prefix(1);
    *star = true;
  }
  bool inrange = false;
  size_t i = 0;
  for (; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 < p.size()) ++i;
    } else if (c == '[') {
      inrange = true;
    } else if (c == ']') {
      inrange = false;
    } else if (c == '*' && !inrange) {
      break;
    }
  }
  *chunk = p.substr(0, i);
  *pattern = p.substr(i);
}

// Go's matchChunk. On success *rest is what is left of s.
Result<bool> MatchChunk(std::string_view chunk, std::string_view s, std::string_view* rest) {
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) failed = true;
    switch (chunk[0]) {
      case '[': {
        char32_t r = 0;
        if (!failed) {
          auto [rr, n] = DecodeRune(s);
          r = rr;
          s.remove_prefix(n);
        }
        chunk.remove_prefix(1);
        bool negated = false;
        if (!chunk.empty() && chunk[0] == '^') {
          negated = true;
          chunk.remove_prefix(1);
        }
        bool match = false;
        int nrange = 0;
        for (;;) {
          if (!chunk.empty() && chunk[0] == ']' && nrange > 0) {
            chunk.remove_prefix(1);
            break;
          }
          STASH_ASSIGN_OR_RETURN(char32_t lo, GetEsc(&chunk));
          char32_t hi = lo;
          if (chunk[0] == '-') {
            chunk.remove_prefix(1);
            STASH_ASSIGN_OR_RETURN(hi, GetEsc(&chunk));
          }
          if (lo <= r && r <= hi) match = true;
          ++nrange;
        }
        if (match == negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] == '/') failed = true;
          s.remove_prefix(DecodeRune(s).second);
        }
        chunk.remove_prefix(1);
        break;
      case '\\':
        chunk.remove_prefix(1);
        if (chunk.empty()) return BadPattern();
        [[fallthrough]];
      default:
        if (!failed) {
          if (chunk[0] != s[0]) failed = true;
          s.remove_prefix(1);
        }
        chunk.remove_prefix(1);
    }
  }
  if (failed) return false;
  *rest = s;
  return true;
}

std::vector<std::string> SplitPath(std::string_view p) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = p.find('/', start);
    parts.emplace_back(p.substr(start, slash == std::string_view::npos ? p.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts[0].empty()) parts[0].assign(1, '/');
  return parts;
}

}  // namespace

Result<bool> GoPathMatch(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    bool star;
    std::string_view chunk;
    ScanChunk(&pattern, &star, &chunk);
    if (star && chunk.empty()) return name.find('/') == std::string_view::npos;
    std::string_view t;
    STASH_ASSIGN_OR_RETURN(bool ok, MatchChunk(chunk, name, &t));
    if (ok && (t.empty() || !pattern.empty())) {
      name = t;
      continue;
    }
    if (star) {
      bool advanced = false;
      for (size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        STASH_ASSIGN_OR_RETURN(bool ok2, MatchChunk(chunk, name.substr(i + 1), &t));
        if (ok2) {
          if (pattern.empty() && !t.empty()) continue;
          name = t;
          advanced = true;
          break;
        }
      }
      if (advanced) continue;
    }
    // Before answering no, make sure the rest of the pattern is well-formed.
    while (!pattern.empty()) {
      ScanChunk(&pattern, &star, &chunk);
      std::string_view ignored;
      STASH_RETURN_IF_ERROR(MatchChunk(chunk, "", &ignored));
    }
    return false;
  }
  return name.empty();
}

std::string GoPathClean(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view comp = path.substr(i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(comp);
      }
      continue;
    }
    out.push_back(comp);
  }
  std::string result = rooted ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k > 0) result += '/';
    result += out[k];
  }
  return result.empty() ? "." : result;
}

Result<PatternList> PatternList::Parse(const std::vector<std::string>& patterns) {
  PatternList list;
  std::string invalid;
  for (const std::string& original : patterns) {
    if (original.empty()) continue;
    Pattern pat;
    std::string_view p = original;
    if (p[0] == '!') {
      pat.negated = true;
      p.remove_prefix(1);
    }
    bool valid = true;
    for (std::string& comp : SplitPath(GoPathClean(p))) {
      Part part;
      part.simple = comp.find_first_of("\\[]*?") == std::string::npos;
      if (!GoPathMatch(comp, comp).ok()) valid = false;
      part.pattern = comp == "**" ? "" : std::move(comp);
      pat.parts.push_back(std::move(part));
    }
    if (!valid) {
      invalid += "\n" + original;
      continue;
    }
    list.patterns_.push_back(std::move(pat));
  }
  if (!invalid.empty()) return InvalidError("invalid pattern(s) provided:" + invalid);
  return list;
}

bool PatternList::MatchParts(const std::vector<Part>& parts, const std::vector<std::string>& strs) {
  for (size_t pos = 0; pos < parts.size(); ++pos) {
    if (!parts[pos].pattern.empty()) continue;
    // Expand "**" gradually into 0, 1, 2, ... single-component wildcards.
    const long limit = static_cast<long>(strs.size()) - static_cast<long>(parts.size()) + 1;
    for (long i = 0; i <= limit; ++i) {
      std::vector<Part> expanded(parts.begin(), parts.begin() + pos);
      for (long k = 0; k < i; ++k) expanded.push_back(Part{"*", false});
      expanded.insert(expanded.end(), parts.begin() + pos + 1, parts.end());
      if (MatchParts(expanded, strs)) return true;
    }
    return false;
  }
  if (parts.empty()) return strs.empty();
  if (parts.size() > strs.size()) return false;
  size_t min_offset = 0;
  size_t max_offset = strs.size() - parts.size();
  if (parts[0].pattern == "/") {
    max_offset = 0;
  } else if (strs[0] == "/") {
    min_offset = 1;
  }
  for (size_t offset = max_offset + 1; offset-- > min_offset;) {
    bool all = true;
    for (size_t i = parts.size(); i-- > 0;) {
      const Part& part = parts[i];
      bool ok = part.simple ? part.pattern == strs[offset + i]
                            : GoPathMatch(part.pattern, strs[offset + i]).value_or(false);
      if (!ok) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool PatternList::ChildMatch(const Pattern& p, std::vector<std::string> strs) {
  // A relative pattern may match anywhere below.
  if (p.parts[0].pattern != "/") return true;
  for (size_t pos = 0; pos < p.parts.size(); ++pos) {
    if (p.parts[pos].pattern.empty()) {
      if (strs.size() >= pos) strs.resize(pos);
      break;
    }
  }
  size_t l = std::min(strs.size(), p.parts.size());
  std::vector<Part> prefix(p.parts.begin(), p.parts.begin() + l);
  return MatchParts(prefix, strs);
}

std::pair<bool, bool> PatternList::List(std::string_view path, bool check_child) const {
  if (patterns_.empty() || path.empty()) return {false, false};
  std::vector<std::string> strs = SplitPath(path);
  bool has_negated = false;
  for (const Pattern& p : patterns_) has_negated = has_negated || p.negated;
  bool matched = false;
  bool child = false;
  for (const Pattern& p : patterns_) {
    bool m = MatchParts(p.parts, strs);
    bool c = check_child ? ChildMatch(p, strs) : true;
    if (p.negated) {
      matched = matched && !m;
      child = child && !m;
    } else {
      matched = matched || m;
      child = child || c;
      if (matched && child && !has_negated) break;
    }
  }
  return {matched, child};
}

bool PatternList::Match(std::string_view path) const { return List(path, false).first; }

std::pair<bool, bool> PatternList::MatchWithChild(std::string_view path) const {
  return List(path, true);
}

}  // namespace stash::engine
