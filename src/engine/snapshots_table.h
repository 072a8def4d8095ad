// Private to engine: restic's text table (internal/ui/table) — columns as wide
// as their widest line, two-space separators, dashed rules under the header
// and after the rows, footer lines, trailing spaces trimmed. Cells may hold
// several lines ("\n"). Used by `snapshots`; `forget` can reuse it.
//
// Thread-safety: not thread-safe; build and render on one thread.
#pragma once

#include <string>
#include <vector>

namespace stash::engine {

class TextTable {
 public:
  void AddColumn(std::string header) { headers_.push_back(std::move(header)); }
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void AddFooter(std::string line) { footers_.push_back(std::move(line)); }
  // restic prints a blank line between rows when any row spans several lines.
  void set_blank_line_between_rows(bool on) { blank_between_rows_ = on; }

  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::string> footers_;
  bool blank_between_rows_ = false;
};

}  // namespace stash::engine
