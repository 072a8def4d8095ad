#include "snapshots_table.h"

#include <algorithm>

namespace stash::engine {

namespace {

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

void RenderLine(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
                std::string* out, bool blank_first) {
  std::vector<std::vector<std::string>> fields;
  size_t max_lines = 1;
  for (const std::string& c : cells) {
    fields.push_back(Lines(c));
    max_lines = std::max(max_lines, fields.back().size());
  }
  for (size_t i = 0; i < max_lines; ++i) {
    std::string s;
    for (size_t f = 0; f < fields.size(); ++f) {
      std::string v = i < fields[f].size() ? fields[f][i] : "";
      if (v.size() < widths[f]) v.append(widths[f] - v.size(), ' ');
      if (f > 0) s += "  ";
      s += v;
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (i == 0 && blank_first) *out += "\n";
    *out += s + "\n";
  }
}

}  // namespace

std::string TextTable::Render() const {
  if (headers_.empty()) return "";
  std::vector<size_t> widths(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = headers_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      for (const std::string& l : Lines(row[i])) widths[i] = std::max(widths[i], l.size());
    }
  }
  size_t total = 2 * (headers_.size() - 1);
  for (size_t w : widths) total += w;
  std::string rule(total, '-');

  std::string out;
  RenderLine(headers_, widths, &out, false);
  out += rule + "\n";
  for (size_t r = 0; r < rows_.size(); ++r) {
    RenderLine(rows_[r], widths, &out, blank_between_rows_ && r > 0);
  }
  out += rule + "\n";
  for (const std::string& f : footers_) out += f + "\n";
  return out;
}

}  // namespace stash::engine
