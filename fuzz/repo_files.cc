// Fuzz target: the repository's read path on files an attacker (or a broken
// store) controls. One in-memory repository is made once; each input becomes
// one file of it, and the engine reads it as `restore latest`, `snapshots`,
// `ls`, `check`'s index pass, `unlock` and the pack header reader would.
//
// The first byte picks what the rest is:
//   0 snapshot plaintext  1 index plaintext  2 lock plaintext
//      (sealed with the repository's key here, so the input reaches the
//      framing byte, zstd and the JSON decoders)
//   3 raw bytes stored as a snapshot and as an index (decryption of anything)
//   4 pack: u16le length of leading blob bytes, then the plaintext header
//      (sealed here, trailer appended)
//   5 raw bytes stored as a pack
//   6 tree plaintext, saved as a tree blob that a snapshot points to, then
//      listed recursively (`ls -l --json` and `ls -l`)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "stash/backend/memory.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/crypto/seal.h"
#include "stash/crypto/sha256.h"
#include "stash/engine/lock.h"
#include "stash/engine/ls.h"
#include "stash/engine/snapshots.h"
#include "stash/format/keyfile.h"
#include "stash/format/snapshot.h"
#include "stash/repo/repository.h"

namespace {

using stash::backend::FileType;
using stash::backend::Handle;

struct Env {
  stash::ManualClock clock;
  stash::SeededRandom random{7};
  std::unique_ptr<stash::repo::Repository> repo;
  stash::crypto::Key master;

  Env() {
    stash::repo::Options opts;
    opts.scrypt_n = 1024;
    opts.clock = &clock;
    opts.random = &random;
    opts.hostname = "fuzz";
    opts.username = "fuzz";
    auto r = stash::repo::Repository::Init(std::make_unique<stash::backend::InMemoryBackend>(),
                                           "fuzz", opts);
    stash::fuzz::Require(r.ok(), "initialising the repository");
    repo = std::move(*r);
    auto mk = stash::format::DecodeMasterKey(repo->MasterKeyJson());
    stash::fuzz::Require(mk.ok(), "reading the master key");
    master.encrypt = mk->encrypt;
    master.mac_k = mk->mac_k;
    master.mac_r = mk->mac_r;
  }

  stash::backend::Backend& be() { return repo->backend(); }

  void Clear() {
    for (FileType t : {FileType::kSnapshot, FileType::kIndex, FileType::kLock, FileType::kPack}) {
      std::vector<std::string> names;
      (void)be().List(t, [&](const stash::backend::FileInfo& fi) {
        names.push_back(fi.name);
        return stash::Status::Ok();
      });
      for (const std::string& n : names) (void)be().Remove(Handle{t, n});
    }
  }

  // Stores `bytes` under their SHA-256, as every file but the config is named.
  stash::Id Put(FileType t, std::span<const uint8_t> bytes) {
    stash::Id id = stash::crypto::Sha256(bytes);
    (void)be().Save(Handle{t, id.Hex()}, bytes);
    return id;
  }

  stash::Id PutSealed(FileType t, std::span<const uint8_t> plain) {
    return Put(t, stash::crypto::Seal(master, random, plain));
  }
};

void ReadSnapshots(Env& env) {
  (void)stash::engine::LoadSnapshots(*env.repo, {}, [](const std::string&) {});
  auto latest = stash::engine::FindSnapshot(*env.repo, "latest", {});
  if (latest.ok()) {
    (void)stash::engine::SnapshotsJson({*latest});
    (void)stash::engine::SnapshotsTable({*latest}, false);
  }
}

void ListTree(Env& env, std::span<const uint8_t> tree) {
  stash::Id tree_id = stash::crypto::Sha256(tree);
  if (!env.repo->SaveBlob(stash::repo::BlobKind::kTree, tree_id, tree).ok()) return;
  if (!env.repo->Flush().ok()) return;
  stash::format::Snapshot sn;
  sn.tree = tree_id;
  sn.paths = {"/fuzz"};
  sn.hostname = "fuzz";
  auto id = env.repo->SaveUnpacked(FileType::kSnapshot, stash::format::EncodeSnapshot(sn));
  if (!id.ok()) return;
  for (bool json : {true, false}) {
    stash::engine::LsOptions opts;
    opts.recursive = true;
    opts.long_format = true;
    opts.json = json;
    (void)stash::engine::ListSnapshot(*env.repo, stash::engine::SnapshotEntry{*id, sn}, opts,
                                      [](std::string_view) {});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = new Env();
  if (size == 0) return 0;
  env->Clear();
  (void)env->repo->LoadIndex();
  std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      env->PutSealed(FileType::kSnapshot, in);
      ReadSnapshots(*env);
      break;
    case 1:
      env->PutSealed(FileType::kIndex, in);
      if (env->repo->LoadIndex().ok()) {
        size_t n = 0;
        env->repo->ForEachBlob([&](const stash::Id&, const stash::repo::BlobLocation&) { ++n; });
      }
      break;
    case 2:
      env->PutSealed(FileType::kLock, in);
      (void)stash::engine::ListLocks(*env->repo);
      break;
    case 3:
      env->Put(FileType::kSnapshot, in);
      env->Put(FileType::kIndex, in);
      ReadSnapshots(*env);
      (void)env->repo->LoadIndex();
      break;
    case 4: {
      if (in.size() < 2) break;
      size_t lead = (in[0] | (in[1] << 8)) % 4096;
      std::vector<uint8_t> pack(lead, 0x5a);
      std::vector<uint8_t> header = stash::crypto::Seal(env->master, env->random, in.subspan(2));
      pack.insert(pack.end(), header.begin(), header.end());
      uint32_t n = static_cast<uint32_t>(header.size());
      for (int i = 0; i < 4; ++i) pack.push_back(static_cast<uint8_t>(n >> (8 * i)));
      stash::Id id = env->Put(FileType::kPack, pack);
      (void)env->repo->ListPack(id, pack.size());
      (void)env->repo->ListPack(id, 0);
      break;
    }
    case 5: {
      stash::Id id = env->Put(FileType::kPack, in);
      (void)env->repo->ListPack(id, in.size());
      break;
    }
    case 6:
      ListTree(*env, in);
      break;
  }
  return 0;
}
