// Just enough XML for S3 and Azure listings: the inner text of elements by
// name, with the five predefined entities decoded. The services' answers are
// machine-generated and flat, so no general parser is needed. Private.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stash::backend {

// Inner text of every <name>…</name> (or <name attr…>…</name>) in `xml`.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name);
// Decoded text of the first <name> element, or "" when absent.
std::string XmlText(std::string_view xml, std::string_view name);
std::string XmlUnescape(std::string_view s);
std::string XmlEscape(std::string_view s);

}  // namespace stash::backend
