// Repository::Repack and RebuildIndex: what prune relies on to copy the blobs
// it keeps and to forget the packs it deletes.
#include <gtest/gtest.h>

#include <set>

#include "repository_fixture.h"
#include "stash/core/testing.h"
#include "stash/crypto/sha256.h"

namespace stash::repo {
namespace {

using backend::FileType;

struct Saved {
  Id id;
  std::vector<uint8_t> data;
};

// Saves `n` data blobs of `size` bytes (compressible when `zeros`) and
// returns them; all land in one pack at the fixture's pack size.
std::vector<Saved> SaveBlobs(Repository& repo, int n, size_t size, bool zeros, uint8_t seed) {
  std::vector<Saved> out;
  for (int i = 0; i < n; ++i) {
    std::vector<uint8_t> d = zeros ? std::vector<uint8_t>(size, 0) : RepositoryTest::Data(size, 0);
    d[0] = static_cast<uint8_t>(seed + i);  // distinct blobs
    Id id = crypto::Sha256(d);
    EXPECT_OK(repo.SaveBlob(BlobKind::kData, id, d));
    out.push_back({id, std::move(d)});
  }
  EXPECT_OK(repo.Flush());
  return out;
}

std::set<Id> Files(backend::Backend& b, FileType type) {
  std::set<Id> ids;
  EXPECT_OK(b.List(type, [&](const backend::FileInfo& fi) -> Status {
    ids.insert(*Id::FromHex(fi.name));
    return Status::Ok();
  }));
  return ids;
}

TEST_F(RepositoryTest, RepackCopiesTheKeptBlobsAndTheRebuiltIndexForgetsTheOldPack) {
  auto repo = Repository::Init(Shared(), "pw", Opts());
  ASSERT_OK(repo);
  std::vector<Saved> blobs = SaveBlobs(**repo, 4, 1000, false, 1);
  const Id old_pack = (*repo)->Lookup(BlobKind::kData, blobs[0].id)->pack;
  const std::set<Id> old_index = Files(mem_, FileType::kIndex);

  std::set<Id> asked;
  auto copied = (*repo)->Repack({old_pack}, [&](BlobKind kind, const Id& id) {
    EXPECT_EQ(kind, BlobKind::kData);
    asked.insert(id);
    return id != blobs[3].id;  // the last blob is garbage
  });
  ASSERT_OK(copied);
  EXPECT_EQ(*copied, 3u);
  EXPECT_EQ(asked.size(), 4u);
  auto superseded = (*repo)->RebuildIndex({old_pack});
  ASSERT_OK(superseded);
  // Every index file there was, including the one Repack wrote, is replaced.
  for (const Id& id : old_index)
    EXPECT_EQ(std::count(superseded->begin(), superseded->end(), id), 1);
  EXPECT_GT(superseded->size(), old_index.size());
  EXPECT_FALSE((*repo)->Has(BlobKind::kData, blobs[3].id));
  EXPECT_NE((*repo)->Lookup(BlobKind::kData, blobs[0].id)->pack, old_pack);

  // What prune does next: delete the old index files and the old pack. A
  // fresh open then finds the kept blobs, intact, and nothing else.
  for (const Id& id : *superseded) ASSERT_OK(mem_.Remove({FileType::kIndex, id.Hex()}));
  ASSERT_OK(mem_.Remove({FileType::kPack, old_pack.Hex()}));
  auto again = Repository::Open(Shared(), "pw", Opts());
  ASSERT_OK(again);
  ASSERT_OK((*again)->LoadIndex());
  EXPECT_EQ((*again)->IndexedBlobCount(), 3u);
  for (int i = 0; i < 3; ++i) {
    auto data = (*again)->LoadBlob(BlobKind::kData, blobs[i].id);
    ASSERT_OK(data);
    EXPECT_EQ(*data, blobs[i].data);
  }
  EXPECT_EQ((*again)->LoadBlob(BlobKind::kData, blobs[3].id).status().code(), Code::kNotFound);
}

TEST_F(RepositoryTest, RepackCopiesCompressedBlobsVerbatimAndCompressesRawOnes) {
  Options off = Opts();
  off.compression = Compression::kOff;
  std::vector<Saved> raw, zipped;
  {
    auto repo = Repository::Init(Shared(), "pw", off);
    ASSERT_OK(repo);
    raw = SaveBlobs(**repo, 2, 50000, true, 1);  // zeros, stored raw: compression is off
  }
  auto repo = Repository::Open(Shared(), "pw", Opts());  // compression auto
  ASSERT_OK(repo);
  ASSERT_OK((*repo)->LoadIndex());
  zipped = SaveBlobs(**repo, 2, 50000, true, 10);
  const BlobLocation raw_at = *(*repo)->Lookup(BlobKind::kData, raw[0].id);
  const BlobLocation zipped_at = *(*repo)->Lookup(BlobKind::kData, zipped[0].id);
  ASSERT_EQ(raw_at.uncompressed_length, 0u);
  ASSERT_NE(zipped_at.uncompressed_length, 0u);
  std::vector<uint8_t> zipped_sealed;
  ASSERT_OK(mem_.Load({FileType::kPack, zipped_at.pack.Hex()}, zipped_at.offset, zipped_at.length,
                      &zipped_sealed));

  auto copied =
      (*repo)->Repack({raw_at.pack, zipped_at.pack}, [](BlobKind, const Id&) { return true; });
  ASSERT_OK(copied);
  EXPECT_EQ(*copied, 4u);
  ASSERT_OK((*repo)->RebuildIndex({raw_at.pack, zipped_at.pack}).status());
  const BlobLocation raw_now = *(*repo)->Lookup(BlobKind::kData, raw[0].id);
  const BlobLocation zipped_now = *(*repo)->Lookup(BlobKind::kData, zipped[0].id);
  // The raw blob is compressed now, so `prune --repack-uncompressed` converges.
  EXPECT_EQ(raw_now.uncompressed_length, 50000u);
  EXPECT_LT(raw_now.length, raw_at.length);
  // The compressed one kept its sealed bytes.
  std::vector<uint8_t> copy;
  ASSERT_OK(mem_.Load({FileType::kPack, zipped_now.pack.Hex()}, zipped_now.offset,
                      zipped_now.length, &copy));
  EXPECT_EQ(copy, zipped_sealed);
  for (const Saved& s : {raw[0], raw[1], zipped[0], zipped[1]}) {
    auto data = (*repo)->LoadBlob(BlobKind::kData, s.id);
    ASSERT_OK(data);
    EXPECT_EQ(*data, s.data);
  }
}

TEST_F(RepositoryTest, RepackRefusesADamagedBlobAndNamesIt) {
  auto repo = Repository::Init(Shared(), "pw", Opts());
  ASSERT_OK(repo);
  std::vector<Saved> blobs = SaveBlobs(**repo, 2, 1000, false, 1);
  const BlobLocation at = *(*repo)->Lookup(BlobKind::kData, blobs[1].id);
  const backend::Handle pack{FileType::kPack, at.pack.Hex()};
  std::vector<uint8_t> bytes;
  ASSERT_OK(mem_.Load(pack, 0, 0, &bytes));
  bytes[at.offset + 20] ^= 0x40;
  ASSERT_OK(mem_.Remove(pack));
  ASSERT_OK(mem_.Save(pack, bytes));
  const size_t packs_before = Files(mem_, FileType::kPack).size();

  auto copied = (*repo)->Repack({at.pack}, [](BlobKind, const Id&) { return true; });
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.status().code(), Code::kDataLoss);
  EXPECT_NE(copied.status().message().find(blobs[1].id.ShortHex()), std::string::npos)
      << copied.status().message();
  EXPECT_NE(copied.status().message().find(at.pack.ShortHex()), std::string::npos);
  // The intact blob before it may have been copied; the damaged one never.
  ASSERT_OK((*repo)->Flush());
  size_t copies = 0;
  (*repo)->ForEachBlob([&](const Id& id, const BlobLocation&) { copies += id == blobs[1].id; });
  EXPECT_EQ(copies, 1u);
  EXPECT_LE(Files(mem_, FileType::kPack).size(), packs_before + 1);
}

TEST_F(RepositoryTest, RebuildIndexListsEachBlobOnceWhenIndexFilesOverlap) {
  auto repo = Repository::Init(Shared(), "pw", Opts());
  ASSERT_OK(repo);
  SaveBlobs(**repo, 3, 1000, false, 1);
  // A second index file naming the same pack (as an interrupted rebuild or
  // another tool may leave).
  const std::set<Id> first = Files(mem_, FileType::kIndex);
  ASSERT_EQ(first.size(), 1u);
  auto json = (*repo)->LoadUnpacked(FileType::kIndex, *first.begin());
  ASSERT_OK(json);
  ASSERT_OK((*repo)->SaveUnpacked(FileType::kIndex, *json).status());
  ASSERT_OK((*repo)->LoadIndex());
  ASSERT_EQ((*repo)->IndexedBlobCount(), 6u);

  auto superseded = (*repo)->RebuildIndex({});
  ASSERT_OK(superseded);
  EXPECT_EQ(superseded->size(), 2u);
  for (const Id& id : *superseded) ASSERT_OK(mem_.Remove({FileType::kIndex, id.Hex()}));
  auto again = Repository::Open(Shared(), "pw", Opts());
  ASSERT_OK(again);
  ASSERT_OK((*again)->LoadIndex());
  EXPECT_EQ((*again)->IndexedBlobCount(), 3u);
}

}  // namespace
}  // namespace stash::repo
