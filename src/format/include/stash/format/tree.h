// Tree blobs: a directory listing as restic stores it, `{"nodes":[...]}\n`.
//
// A tree's id is the SHA-256 of these bytes, so EncodeTree reproduces restic's
// bytes exactly (Go JSON escaping, double-quoted names, omitempty rules, local
// RFC3339Nano times). This is what lets trees written by stash and by restic
// deduplicate against each other. Verified against restic 0.14 by
// tree_oracle_test.cc.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stash/core/result.h"
#include "stash/format/node.h"

namespace stash::format {

// The JSON object of one node (no trailing newline), exactly as restic's
// Node.MarshalJSON.
std::string EncodeNode(const Node& node);

// `{"nodes":[n1,n2,...]}` + "\n". Nodes must be sorted by raw name bytes,
// strictly increasing (restic's invariant; readers binary-search it):
// unsorted or duplicate names are kInvalid (call SortNodes first when the
// order is not known). An empty list gives `{"nodes":[]}\n`.
Result<std::string> EncodeTree(const std::vector<Node>& nodes);

// Sorts by raw name bytes (stable).
void SortNodes(std::vector<Node>* nodes);

// Parses a tree blob with Go's decoding rules (null = zero value, invalid
// UTF-8 → U+FFFD). Unknown keys are skipped (restic 0.17+ adds
// generic_attributes, which a re-encode therefore drops); names are
// Go-unquoted back to raw bytes; linktarget_raw, when present, replaces
// linktarget. Malformed JSON, a bad name escape, an unknown node type or a
// field of the wrong type or range is kInvalid and names the node and field.
// The order is not checked. ~0.1 GB/s; trees of restic 0.14 round-trip
// byte-identically (oracle_test.cc).
Result<std::vector<Node>> DecodeTree(std::string_view json);

}  // namespace stash::format
