// Corrupted documents must fail with an error, never crash or hang: trees and
// indexes come from storage that may be damaged (the MAC catches most of it,
// but not bugs in other writers).
#include <gtest/gtest.h>

#include "stash/core/random.h"
#include "stash/core/testing.h"
#include "stash/format/index.h"
#include "stash/format/pack.h"
#include "stash/format/snapshot.h"
#include "stash/format/tree.h"

namespace stash::format {
namespace {

std::string SampleTree() {
  Node file;
  file.name = "f\xff<\"\\>\xe2\x80\xa8";
  file.mode = 420;
  file.mtime = file.atime = file.ctime = {981169506, 500000000, 3600};
  file.size = 12;
  file.links = 1;
  file.linktarget = std::string(1, 't') + static_cast<char>(0xfe);
  file.extended_attributes = {{"user.x", "v"}};
  file.content = std::vector<Id>{Id(), Id()};
  Node dir;
  dir.name = "z";
  dir.type = NodeType::kDir;
  dir.subtree = Id();
  return *EncodeTree({file, dir});
}

std::string Mutate(std::string doc, Random& rnd) {
  switch (rnd.Uniform(4)) {
    case 0:  // truncate
      doc.resize(rnd.Uniform(doc.size()));
      break;
    case 1:  // flip a byte to anything
      doc[rnd.Uniform(doc.size())] = static_cast<char>(rnd.Uniform(256));
      break;
    case 2: {  // replace a byte with JSON punctuation
      static constexpr char kPunct[] = "{}[]:,\"\\-0e.n";
      doc[rnd.Uniform(doc.size())] = kPunct[rnd.Uniform(sizeof kPunct - 1)];
      break;
    }
    default:  // duplicate a slice
      const size_t at = rnd.Uniform(doc.size());
      doc.insert(at, doc.substr(rnd.Uniform(doc.size()), rnd.Uniform(16)));
  }
  return doc;
}

TEST(RobustnessTest, MutatedTreesAndIndexesFailCleanly) {
  SeededRandom rnd(7);
  const std::string tree = SampleTree();
  IndexFile index;
  index.packs.push_back({Id(), {{Id(), BlobType::kTree, 0, 100, 300}}});
  const std::string index_json = EncodeIndex(index);
  int tree_errors = 0, index_errors = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string t = Mutate(tree, rnd);
    auto nodes = DecodeTree(t);
    if (!nodes.ok()) {
      EXPECT_EQ(nodes.status().code(), Code::kInvalid);
      ++tree_errors;
    } else {
      // Whatever decodes must encode again (sorted input aside).
      SortNodes(&*nodes);
      for (size_t k = 1; k < nodes->size(); ++k) {
        if (nodes->at(k - 1).name == nodes->at(k).name) nodes->erase(nodes->begin() + k--);
      }
      EXPECT_OK(EncodeTree(*nodes));
    }
    auto idx = DecodeIndex(Mutate(index_json, rnd));
    if (!idx.ok()) ++index_errors;
    auto snap = DecodeSnapshot(Mutate(EncodeSnapshot({}), rnd));
    if (!snap.ok()) {
      EXPECT_EQ(snap.status().code(), Code::kInvalid);
    }
  }
  // Most mutations break the document; the decoders must notice.
  EXPECT_GT(tree_errors, 1500);
  EXPECT_GT(index_errors, 1500);
}

TEST(RobustnessTest, RandomPackHeadersFailCleanly) {
  SeededRandom rnd(11);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> header(rnd.Uniform(200));
    rnd.Fill(header);
    auto entries = DecodePackHeader(header);
    if (entries.ok()) {
      EXPECT_EQ(EncodePackHeader(*entries), header);
    } else {
      EXPECT_EQ(entries.status().code(), Code::kDataLoss);
    }
  }
}

}  // namespace
}  // namespace stash::format
