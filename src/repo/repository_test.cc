#include "stash/repo/repository.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>

#include "repository_fixture.h"
#include "stash/core/testing.h"
#include "stash/crypto/sha256.h"

namespace stash::repo {
namespace {

TEST_F(RepositoryTest, InitThenOpenWithTheSamePassword) {
  auto repo = Repository::Init(Shared(), "secret", Opts());
  ASSERT_OK(repo);
  auto again = Repository::Open(Shared(), "secret", Opts());
  ASSERT_OK(again);
  EXPECT_EQ((*again)->repository_id(), (*repo)->repository_id());
  EXPECT_EQ((*again)->chunker_polynomial(), (*repo)->chunker_polynomial());
  EXPECT_EQ((*again)->format_version(), 2);
}

TEST_F(RepositoryTest, WrongPasswordIsUnauthorized) {
  ASSERT_OK(Repository::Init(Shared(), "secret", Opts()));
  auto r = Repository::Open(Shared(), "nope", Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnauthorized);
  EXPECT_EQ(r.status().message(), "wrong password or no key found");
}

// A key file whose fields have the wrong JSON types is reported as what it
// is, naming the key and the field, not as a wrong password (restic 0.14:
// "json: cannot unmarshal string into Go struct field Key.N of type int").
TEST_F(RepositoryTest, KeyFileWithWrongTypesSaysWhatIsWrong) {
  ASSERT_OK(Repository::Init(Shared(), "secret", Opts()));
  std::vector<std::string> keys;
  ASSERT_OK(mem_.List(backend::FileType::kKey, [&](const backend::FileInfo& fi) {
    keys.push_back(fi.name);
    return Status::Ok();
  }));
  ASSERT_EQ(keys.size(), 1u);
  std::vector<uint8_t> raw;
  ASSERT_OK(mem_.Load({backend::FileType::kKey, keys[0]}, 0, 0, &raw));
  const std::string good(raw.begin(), raw.end());
  ASSERT_OK(mem_.Remove({backend::FileType::kKey, keys[0]}));
  struct Case {
    std::string from, to, field, want;
  };
  const Case cases[] = {
      {"\"N\":1024", "\"N\":\"1024\"", "field \"N\"", "want a number, got a string"},
      {"\"r\":8", "\"r\":8.5", "field \"r\"", "want an integer, got a fraction"},
      {"\"salt\":\"", "\"salt\":5,\"x\":\"", "field \"salt\"", "want a string, got a number"},
      // As Go, null leaves the field empty: named as missing, not as an unknown KDF "".
      {"\"kdf\":\"scrypt\"", "\"kdf\":null", "", "field \"kdf\" is missing or null"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.to);
    std::string text = good;
    size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, c.from.size(), c.to);
    Id id = crypto::Sha256(text);
    ASSERT_OK(mem_.Save({backend::FileType::kKey, id.Hex()},
                        std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
    auto r = Repository::Open(Shared(), "secret", Opts());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().code(), Code::kUnauthorized);
    EXPECT_NE(r.status().message().find("keys/" + id.ShortHex()), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(c.field), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find("wrong password"), std::string::npos);
    ASSERT_OK(mem_.Remove({backend::FileType::kKey, id.Hex()}));
  }
  // With a good key beside a broken one, the good one opens the repository.
  ASSERT_OK(mem_.Save({backend::FileType::kKey, keys[0]}, raw));
  std::string broken = "{\"kdf\":1}";
  ASSERT_OK(mem_.Save({backend::FileType::kKey, crypto::Sha256(broken).Hex()},
                      std::span(reinterpret_cast<const uint8_t*>(broken.data()), broken.size())));
  EXPECT_OK(Repository::Open(Shared(), "secret", Opts()));
}

TEST_F(RepositoryTest, MissingConfigIsNotFound) {
  auto r = Repository::Open(Shared(), "secret", Opts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST_F(RepositoryTest, InitTwiceIsAlreadyExists) {
  ASSERT_OK(Repository::Init(Shared(), "secret", Opts()));
  auto r = Repository::Init(Shared(), "secret", Opts());
  EXPECT_EQ(r.status().code(), Code::kAlreadyExists);
}

TEST_F(RepositoryTest, ConcurrentInitsLeaveOneKeyAndTheLoserOpensTheWinner) {
  for (int round = 0; round < 20; ++round) {
    backend::InMemoryBackend store("race");
    auto view = [&] { return ViewOf(&store); };
    auto init = [&](uint64_t seed) {
      SeededRandom own(seed);  // one per thread, as each process has its own
      Options o = Opts();
      o.random = &own;
      return Repository::Init(view(), "pw", o);
    };
    auto a = std::async(std::launch::async, init, 2 * round + 1);
    auto b = std::async(std::launch::async, init, 2 * round + 2);
    auto ra = a.get();
    auto rb = b.get();
    ASSERT_NE(ra.ok(), rb.ok()) << "round " << round;
    const auto& lost = ra.ok() ? rb : ra;
    EXPECT_EQ(lost.status().code(), Code::kAlreadyExists);
    int keys = 0;
    ASSERT_OK(store.List(backend::FileType::kKey, [&](const backend::FileInfo&) {
      ++keys;
      return Status::Ok();
    }));
    EXPECT_EQ(keys, 1) << "round " << round;
    auto opened = Repository::Open(view(), "pw", Opts());
    ASSERT_OK(opened);
    EXPECT_EQ((*opened)->repository_id(), (ra.ok() ? *ra : *rb)->repository_id());
  }
}

TEST_F(RepositoryTest, InitOnAStoreThatCanOverwriteChecksItsConfigBack) {
  // Both inits look (no config), then both write: the store lets the second
  // config replace the first, as a plain S3 PUT would.
  struct CheckThenWrite final : backend::Backend {
    backend::InMemoryBackend mem;
    std::mutex mu;
    std::condition_variable cv;
    int looked = 0;
    std::string Location() const override { return "overwriting"; }
    int Connections() const override { return 2; }
    bool CreatesAtomically() const override { return false; }
    Status Create() override { return Status::Ok(); }
    Status Save(const backend::Handle& h, std::span<const uint8_t> d) override {
      if (h.type == backend::FileType::kConfig) mem.Remove(h).IgnoreError();
      return mem.Save(h, d);
    }
    Status Load(const backend::Handle& h, uint64_t o, uint64_t l,
                std::vector<uint8_t>* out) override {
      return mem.Load(h, o, l, out);
    }
    Result<backend::FileInfo> Stat(const backend::Handle& h) override {
      auto r = mem.Stat(h);
      if (h.type == backend::FileType::kConfig) {  // both look before either writes
        std::unique_lock lock(mu);
        ++looked;
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return looked >= 2; });
      }
      return r;
    }
    Status List(backend::FileType t,
                const std::function<Status(const backend::FileInfo&)>& fn) override {
      return mem.List(t, fn);
    }
    Status Remove(const backend::Handle& h) override { return mem.Remove(h); }
  } store;
  RealClock real;
  Options opts = Opts();
  opts.clock = &real;
  auto init = [&](uint64_t seed) {
    SeededRandom own(seed);
    Options o = opts;
    o.random = &own;
    return Repository::Init(ViewOf(&store), "pw", o);
  };
  auto a = std::async(std::launch::async, init, 1);
  auto b = std::async(std::launch::async, init, 2);
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_NE(ra.ok(), rb.ok());
  int keys = 0;
  ASSERT_OK(store.mem.List(backend::FileType::kKey, [&](const backend::FileInfo&) {
    ++keys;
    return Status::Ok();
  }));
  EXPECT_EQ(keys, 1);
  auto opened = Repository::Open(ViewOf(&store), "pw", opts);
  ASSERT_OK(opened);
  EXPECT_EQ((*opened)->repository_id(), (ra.ok() ? *ra : *rb)->repository_id());
}

TEST_F(RepositoryTest, OpenSkipsAKeyWhoseMasterKeyDoesNotOpenTheConfig) {
  ASSERT_OK(Repository::Init(Shared(), "pw", Opts()));
  std::string real_key;
  ASSERT_OK(mem_.List(backend::FileType::kKey, [&](const backend::FileInfo& fi) {
    real_key = fi.name;
    return Status::Ok();
  }));
  // Keys of other repositories with the same password (what a lost init race
  // used to leave), until one sorts before the real key and is tried first.
  for (int i = 0; i < 64; ++i) {
    backend::InMemoryBackend other("other");
    ASSERT_OK(Repository::Init(ViewOf(&other), "pw", Opts()));
    std::string name;
    std::vector<uint8_t> bytes;
    ASSERT_OK(other.List(backend::FileType::kKey, [&](const backend::FileInfo& fi) {
      name = fi.name;
      return Status::Ok();
    }));
    ASSERT_OK(other.Load({backend::FileType::kKey, name}, 0, 0, &bytes));
    ASSERT_OK(mem_.Save({backend::FileType::kKey, name}, bytes));
    if (name < real_key) break;
  }
  auto opened = Repository::Open(Shared(), "pw", Opts());
  ASSERT_OK(opened);
  EXPECT_EQ((*opened)->key_id().Hex(), real_key);
}

TEST_F(RepositoryTest, SavedBlobsComeBackAfterReopenFromPacksAndIndex) {
  std::vector<Id> ids;
  {
    auto repo = Repository::Init(Shared(), "pw", Opts());
    ASSERT_OK(repo);
    for (int i = 0; i < 12; ++i) {
      // Half compressible (zeros), half random; 1 MiB each so several packs fill.
      std::vector<uint8_t> d = i % 2 ? Data(1 << 20, i) : std::vector<uint8_t>(1 << 20, i);
      Id id = crypto::Sha256(d);
      ids.push_back(id);
      auto added = (*repo)->SaveBlob(BlobKind::kData, id, d);
      ASSERT_OK(added);
      EXPECT_TRUE(*added);
      // The same blob again is deduplicated even before the flush.
      EXPECT_FALSE(*(*repo)->SaveBlob(BlobKind::kData, id, d));
    }
    std::string tree = "{\"nodes\":[]}\n";
    std::vector<uint8_t> t(tree.begin(), tree.end());
    ASSERT_OK((*repo)->SaveBlob(BlobKind::kTree, crypto::Sha256(t), t));
    ASSERT_OK((*repo)->Flush());
    EXPECT_EQ((*repo)->bytes_added(), 12u * (1 << 20) + t.size());
    EXPECT_GT((*repo)->bytes_added_packed(), 6u * (1 << 20));
  }
  auto repo = Repository::Open(Shared(), "pw", Opts());
  ASSERT_OK(repo);
  ASSERT_OK((*repo)->LoadIndex());
  EXPECT_EQ((*repo)->IndexedBlobCount(), 13u);
  for (int i = 0; i < 12; ++i) {
    auto loc = (*repo)->Lookup(BlobKind::kData, ids[i]);
    ASSERT_TRUE(loc);
    // zeros compress, random data is stored raw
    EXPECT_EQ(loc->uncompressed_length != 0, i % 2 == 0);
    auto blob = (*repo)->LoadBlob(BlobKind::kData, ids[i]);
    ASSERT_OK(blob);
    EXPECT_EQ(crypto::Sha256(*blob), ids[i]);
  }
  // Data and tree blobs live in different packs; each pack header lists them.
  size_t packs = 0, tree_packs = 0;
  ASSERT_OK(mem_.List(backend::FileType::kPack, [&](const backend::FileInfo& fi) -> Status {
    ++packs;
    auto list = (*repo)->ListPack(*Id::FromHex(fi.name), fi.size);
    EXPECT_OK(list);
    bool tree = list->at(0).location.kind == BlobKind::kTree;
    tree_packs += tree;
    for (const auto& b : *list) EXPECT_EQ(b.location.kind == BlobKind::kTree, tree);
    return Status::Ok();
  }));
  EXPECT_GE(packs, 3u);
  EXPECT_EQ(tree_packs, 1u);
}

TEST_F(RepositoryTest, LoadIndexAgainReadsOnlyNewFilesAndAllWhenOneIsGone) {
  auto writer = Repository::Init(Shared(), "pw", Opts());
  ASSERT_OK(writer);
  auto save = [&](uint8_t seed) {
    std::vector<uint8_t> d = Data(1000, seed);
    Id id = crypto::Sha256(d);
    EXPECT_OK((*writer)->SaveBlob(BlobKind::kData, id, d));
    EXPECT_OK((*writer)->Flush());
    return id;
  };
  Id first = save(1);
  auto reader = Repository::Open(Shared(), "pw", Opts());
  ASSERT_OK(reader);
  ASSERT_OK((*reader)->LoadIndex());
  EXPECT_EQ((*reader)->IndexedBlobCount(), 1u);
  Id second = save(2);  // another process adds an index file
  ASSERT_OK((*reader)->LoadIndex());
  EXPECT_EQ((*reader)->IndexedBlobCount(), 2u);  // read once each, no duplicate
  EXPECT_TRUE((*reader)->Has(BlobKind::kData, second));
  ASSERT_OK((*reader)->LoadIndex());  // nothing new: nothing read
  EXPECT_EQ((*reader)->IndexedBlobCount(), 2u);
  // A prune replaces index files: the first one goes, everything reloads.
  std::vector<Id> files = (*reader)->LoadedIndexFiles();
  ASSERT_EQ(files.size(), 2u);
  ASSERT_OK(mem_.Remove({backend::FileType::kIndex, files[0].Hex()}));
  ASSERT_OK((*reader)->LoadIndex());
  EXPECT_EQ((*reader)->IndexedBlobCount(), 1u);
  EXPECT_EQ((*reader)->LoadedIndexFiles(), std::vector<Id>{files[1]});
  EXPECT_NE((*reader)->Has(BlobKind::kData, first), (*reader)->Has(BlobKind::kData, second));
}

TEST_F(RepositoryTest, CorruptBlobIsDataLossNamingBlobAndPack) {
  auto repo = Repository::Init(Shared(), "pw", Opts());
  ASSERT_OK(repo);
  std::vector<uint8_t> d = Data(1000, 1);
  Id id = crypto::Sha256(d);
  ASSERT_OK((*repo)->SaveBlob(BlobKind::kData, id, d));
  ASSERT_OK((*repo)->Flush());
  auto loc = (*repo)->Lookup(BlobKind::kData, id);
  ASSERT_TRUE(loc);
  std::vector<uint8_t> sealed;
  ASSERT_OK(
      mem_.Load({backend::FileType::kPack, loc->pack.Hex()}, loc->offset, loc->length, &sealed));
  sealed[40] ^= 1;
  auto r = (*repo)->OpenBlob(id, *loc, sealed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kDataLoss);
  EXPECT_NE(r.status().message().find(id.Hex()), std::string::npos);
  EXPECT_NE(r.status().message().find(loc->pack.Hex()), std::string::npos);
}

TEST_F(RepositoryTest, UnpackedFilesRoundTripAndResolveByPrefix) {
  auto repo = Repository::Init(Shared(), "pw", Opts());
  ASSERT_OK(repo);
  auto id = (*repo)->SaveUnpacked(backend::FileType::kSnapshot, "{\"a\":1}");
  ASSERT_OK(id);
  auto back = (*repo)->LoadUnpacked(backend::FileType::kSnapshot, *id);
  ASSERT_OK(back);
  EXPECT_EQ(*back, "{\"a\":1}");
  auto full = (*repo)->ResolvePrefix(backend::FileType::kSnapshot, id->Hex().substr(0, 8));
  ASSERT_OK(full);
  EXPECT_EQ(*full, *id);
  EXPECT_EQ((*repo)->ResolvePrefix(backend::FileType::kSnapshot, "zz").status().code(),
            Code::kNotFound);
}

// Restore's path: blobs opened in their read buffer, one scratch reused
// across compressed blobs of different sizes, and the id still checked.
TEST_F(RepositoryTest, OpenBlobInPlaceGivesThePlaintextAndRejectsCorruption) {
  auto repo = Repository::Init(Shared(), "pw", Opts());
  ASSERT_OK(repo);
  std::vector<std::vector<uint8_t>> blobs = {std::vector<uint8_t>(300000, 'a'), Data(700000, 9),
                                             std::vector<uint8_t>(5000, 'b')};
  for (const auto& d : blobs) {
    ASSERT_OK((*repo)->SaveBlob(BlobKind::kData, crypto::Sha256(d), d));
  }
  ASSERT_OK((*repo)->Flush());
  std::vector<uint8_t> scratch;
  for (const auto& d : blobs) {
    Id id = crypto::Sha256(d);
    auto loc = (*repo)->Lookup(BlobKind::kData, id);
    ASSERT_TRUE(loc);
    std::vector<uint8_t> sealed;
    ASSERT_OK(
        mem_.Load({backend::FileType::kPack, loc->pack.Hex()}, loc->offset, loc->length, &sealed));
    std::vector<uint8_t> copy = sealed;
    auto plain = (*repo)->OpenBlobInPlace(id, *loc, sealed, &scratch);
    ASSERT_OK(plain);
    EXPECT_TRUE(std::equal(plain->begin(), plain->end(), d.begin(), d.end()));
    copy[copy.size() / 2] ^= 1;
    auto bad = (*repo)->OpenBlobInPlace(id, *loc, copy, &scratch);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), Code::kDataLoss);
  }
  // The compressible blobs were stored compressed, the random one raw.
  EXPECT_NE((*repo)->Lookup(BlobKind::kData, crypto::Sha256(blobs[0]))->uncompressed_length, 0u);
  EXPECT_EQ((*repo)->Lookup(BlobKind::kData, crypto::Sha256(blobs[1]))->uncompressed_length, 0u);
}

// Restore opens blobs two at a time (one two-lane hash pass): each blob of a
// pair gets its own answer, whether its partner is fine, corrupt, or named
// by the wrong id.
TEST_F(RepositoryTest, OpenBlobPairInPlaceAnswersForEachBlobOnItsOwn) {
  auto repo = Repository::Init(Shared(), "pw", Opts());
  ASSERT_OK(repo);
  std::vector<uint8_t> x(300000, 'a'), y = Data(700000, 9), z(5000, 'b');
  for (const auto* d : {&x, &y, &z}) {
    ASSERT_OK((*repo)->SaveBlob(BlobKind::kData, crypto::Sha256(*d), *d));
  }
  ASSERT_OK((*repo)->Flush());
  struct Loaded {
    Id id;
    BlobLocation loc;
    std::vector<uint8_t> sealed;
  };
  auto load = [&](const std::vector<uint8_t>& d) {
    Loaded l{crypto::Sha256(d), *(*repo)->Lookup(BlobKind::kData, crypto::Sha256(d)), {}};
    EXPECT_OK(mem_.Load({backend::FileType::kPack, l.loc.pack.Hex()}, l.loc.offset, l.loc.length,
                        &l.sealed));
    return l;
  };
  std::vector<uint8_t> s1, s2;
  auto blob = [&](Loaded& l, std::vector<uint8_t>* scratch) {
    return Repository::SealedBlob{l.id, l.loc, l.sealed, scratch};
  };
  auto same = [](const Result<std::span<const uint8_t>>& r, const std::vector<uint8_t>& d) {
    return r.ok() && std::equal(r->begin(), r->end(), d.begin(), d.end());
  };
  {  // both fine, of different sizes, one compressed and one raw
    Loaded a = load(x), b = load(y);
    auto [ra, rb] = (*repo)->OpenBlobPairInPlace(blob(a, &s1), blob(b, &s2));
    EXPECT_TRUE(same(ra, x));
    EXPECT_TRUE(same(rb, y));
  }
  {  // the second is corrupt on disk: the first still opens
    Loaded a = load(z), b = load(x);
    b.sealed[b.sealed.size() / 2] ^= 1;
    auto [ra, rb] = (*repo)->OpenBlobPairInPlace(blob(a, &s1), blob(b, &s2));
    EXPECT_TRUE(same(ra, z));
    ASSERT_FALSE(rb.ok());
    EXPECT_EQ(rb.status().code(), Code::kDataLoss);
  }
  {  // the first is asked for under another blob's id: its content does not match
    Loaded a = load(y), b = load(z);
    a.id = crypto::Sha256(x);
    auto [ra, rb] = (*repo)->OpenBlobPairInPlace(blob(a, &s1), blob(b, &s2));
    ASSERT_FALSE(ra.ok());
    EXPECT_NE(ra.status().message().find("does not match the blob id"), std::string::npos)
        << ra.status().message();
    EXPECT_TRUE(same(rb, z));
  }
}

}  // namespace
}  // namespace stash::repo
