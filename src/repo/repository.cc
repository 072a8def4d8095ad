// Repository::Open / Init and the read side of RepositoryImpl.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <future>
#include <set>
#include <unordered_set>

#include "repository_impl.h"
#include "stash/chunker/polynomial.h"
#include "stash/crypto/kdf.h"
#include "stash/crypto/seal.h"
#include "stash/crypto/sha256.h"
#include "stash/format/keyfile.h"
#include "stash/format/pack.h"
#include "stash/format/unpacked.h"
#include "zstd_util.h"

namespace stash::repo {

namespace {

using backend::FileType;
using backend::Handle;

constexpr size_t kMaxKeys = 20;  // restic tries at most 20 key files

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string DefaultUser() {
  struct passwd pw {};
  struct passwd* res = nullptr;
  char buf[4096];
  if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res) return res->pw_name;
  return "";
}

std::string DefaultHost() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

crypto::ScryptParams Scrypt(const Options& o) { return {o.scrypt_n, o.scrypt_r, o.scrypt_p}; }

crypto::Key KeyOf(const format::MasterKey& doc) { return {doc.encrypt, doc.mac_k, doc.mac_r}; }

format::MasterKey DocOf(const crypto::Key& key) { return {key.mac_k, key.mac_r, key.encrypt}; }

Result<std::string> LoadAll(backend::Backend& b, const Handle& h) {
  std::vector<uint8_t> buf;
  STASH_RETURN_IF_ERROR(b.Load(h, 0, 0, &buf));
  return std::string(buf.begin(), buf.end());
}

// Tries one key file; nullopt when the password does not open it.
Result<std::optional<crypto::Key>> TryKey(backend::Backend& b, const Id& id,
                                          std::string_view password) {
  STASH_ASSIGN_OR_RETURN(std::string text, LoadAll(b, Handle{FileType::kKey, id.Hex()}));
  auto kf = format::DecodeKeyFile(text);
  if (!kf.ok() && kf.status().code() == Code::kUnsupported) {
    return Status(kf.status()).Prepend("key file keys/" + id.ShortHex());
  }
  if (kf.ok() && (kf->r > UINT32_MAX || kf->p > UINT32_MAX)) {
    kf = InvalidError("scrypt r or p is out of range");
  }
  if (!kf.ok()) {
    // Damage, not a wrong password: the caller says so when no other key
    // opens the repository.
    return DataLossError("key file keys/" + id.ShortHex() +
                         " is malformed (restore it from a copy, or remove it if another key "
                         "opens the repository): " +
                         kf.status().message());
  }
  const crypto::ScryptParams params{static_cast<uint64_t>(kf->n), static_cast<uint32_t>(kf->r),
                                    static_cast<uint32_t>(kf->p)};
  auto user = crypto::DeriveUserKey(password, kf->salt, params);
  if (!user.ok()) return Status(user.status()).Prepend("key file keys/" + id.ShortHex());
  auto plain = crypto::Open(*user, kf->data);
  if (!plain.ok()) {
    if (plain.status().code() == Code::kDataLoss) return std::optional<crypto::Key>();
    return plain.status();
  }
  std::string_view json(reinterpret_cast<const char*>(plain->data()), plain->size());
  auto master = format::DecodeMasterKey(json);
  if (!master.ok()) {
    return DataLossError("key file keys/" + id.ShortHex() + ": " + master.status().message());
  }
  return std::optional<crypto::Key>(KeyOf(*master));
}

// How long an init on a store without atomic create waits before it checks
// that its config was not overwritten by a racing init.
constexpr Duration kInitSettle = std::chrono::seconds(1);

Status NotARepository(const backend::Backend& b, std::string_view why) {
  return FailedPreconditionError("config at " + b.Location() + " is not a valid restic " +
                                 "repository config: " + std::string(why));
}

// The key files, sorted, those whose name starts with `hint` first, at most
// kMaxKeys.
Result<std::vector<Id>> ListKeys(backend::Backend& b, const std::string& hint) {
  std::vector<Id> keys;
  STASH_RETURN_IF_ERROR(b.List(FileType::kKey, [&](const backend::FileInfo& fi) -> Status {
    if (auto id = Id::FromHex(fi.name); id.ok()) keys.push_back(*id);
    return Status::Ok();
  }));
  std::sort(keys.begin(), keys.end());
  if (!hint.empty()) {
    std::stable_partition(keys.begin(), keys.end(),
                          [&](const Id& id) { return id.Hex().rfind(hint, 0) == 0; });
  }
  if (keys.size() > kMaxKeys) keys.resize(kMaxKeys);
  return keys;
}

// What trying the key files found: the master key that opens the config.
struct KeySearch {
  std::optional<crypto::Key> master;
  Id key_id;
  std::vector<uint8_t> config;  // the config, decrypted
  std::set<Id> tried;
  bool password_opened_a_key = false;
  Status last_error;
};

// Tries the keys not tried yet, in order, until one opens the config.
KeySearch TryKeys(backend::Backend& b, const std::vector<Id>& keys, std::string_view password,
                  std::span<const uint8_t> sealed_config, KeySearch search) {
  for (const Id& id : keys) {
    if (!search.tried.insert(id).second) continue;
    auto k = TryKey(b, id, password);
    if (!k.ok()) {
      search.last_error = k.status();
      continue;
    }
    if (!k->has_value()) continue;
    search.password_opened_a_key = true;
    // A key the password opens but whose master key does not open the
    // config belongs to no repository (e.g. left by an initialisation that
    // lost a race): the next key may be the right one.
    auto cfg_plain = crypto::Open(**k, sealed_config);
    if (!cfg_plain.ok()) continue;
    search.master = **k;
    search.key_id = id;
    search.config = std::move(*cfg_plain);
    break;
  }
  return search;
}

}  // namespace

RepositoryImpl::RepositoryImpl(backend::BackendPtr backend, const Options& opts, crypto::Key master,
                               format::Config config, Id key_id)
    : backend_(std::move(backend)),
      opts_(opts),
      master_(master),
      config_(std::move(config)),
      key_id_(key_id) {
  if (opts_.hostname.empty()) opts_.hostname = DefaultHost();
  if (opts_.username.empty()) opts_.username = DefaultUser();
  last_index_write_ = opts_.clock->Now();
}

Result<std::unique_ptr<Repository>> Repository::Open(backend::BackendPtr backend,
                                                     std::string_view password,
                                                     const Options& opts) {
  if (!opts.clock || !opts.random)
    return InternalError("Repository::Open needs a clock and random");
  backend::Backend& b = *backend;
  Handle config_handle{FileType::kConfig, "config"};
  // The config and the key listing at once: one round trip to a remote
  // store instead of two. An init saves its key before its config, so a
  // config that no listed key opens may have raced the listing: then the keys
  // are listed again (below) and the new ones tried.
  auto config_read =
      std::async(std::launch::async, [&b, &config_handle] { return LoadAll(b, config_handle); });
  auto keys = ListKeys(b, opts.key_hint);
  auto sealed = config_read.get();
  if (!sealed.ok()) {
    if (sealed.status().code() == Code::kNotFound) {
      return NotFoundError("unable to open config file: " + b.Location() +
                           "/config does not exist; is there a repository at " + b.Location() +
                           "? (create one with `init`)");
    }
    return sealed.status();
  }
  if (!keys.ok()) return keys.status();
  KeySearch search = TryKeys(b, *keys, password, Bytes(*sealed), {});
  if (!search.master) {
    auto again = ListKeys(b, opts.key_hint);
    if (!again.ok()) return again.status();
    search = TryKeys(b, *again, password, Bytes(*sealed), std::move(search));
  }
  if (!search.master) {
    if (search.password_opened_a_key) {
      return NotARepository(b, "it cannot be decrypted with the repository key");
    }
    // A key file that cannot be read or decoded is not a wrong password:
    // say what is wrong with it (TryKey returns nullopt for a password that
    // does not open a key).
    if (!search.last_error.ok()) return search.last_error;
    return UnauthorizedError("wrong password or no key found");
  }
  const crypto::Key master = *search.master;
  const Id key_id = search.key_id;
  const std::vector<uint8_t>& plain = search.config;
  std::string_view cj(reinterpret_cast<const char*>(plain.data()), plain.size());
  auto cfg = format::DecodeConfig(cj);
  if (!cfg.ok()) {
    if (cfg.status().code() == Code::kUnsupported) {
      return Status(cfg.status()).Prepend("repository at " + b.Location());
    }
    return NotARepository(b, cfg.status().message());
  }
  if (Status s = chunker::CheckChunkerPolynomial(cfg->chunker_polynomial); !s.ok()) {
    return NotARepository(b, s.message());
  }
  return std::unique_ptr<Repository>(
      new RepositoryImpl(std::move(backend), opts, master, std::move(*cfg), key_id));
}

Result<std::unique_ptr<Repository>> Repository::Init(backend::BackendPtr backend,
                                                     std::string_view password,
                                                     const Options& opts) {
  if (!opts.clock || !opts.random)
    return InternalError("Repository::Init needs a clock and random");
  backend::Backend& b = *backend;
  Handle config_handle{FileType::kConfig, "config"};
  if (auto st = b.Stat(config_handle); st.ok()) {
    return AlreadyExistsError("config file already exists at " + b.Location() +
                              ": a repository is already initialized there");
  } else if (st.status().code() != Code::kNotFound) {
    return st.status();
  }
  STASH_RETURN_IF_ERROR(crypto::ValidateScryptParams(Scrypt(opts)));
  STASH_RETURN_IF_ERROR(b.Create());

  crypto::Key master = crypto::Key::Generate(*opts.random);
  uint8_t rid[32];
  opts.random->Fill(rid);
  format::Config cfg;
  cfg.version = 2;
  cfg.id = HexEncode(rid, sizeof rid);
  cfg.chunker_polynomial = chunker::DerivePolynomial(*opts.random);

  format::KeyFile kf;
  kf.created = format::LocalTimestamp(opts.clock->Now());
  kf.username = opts.username.empty() ? DefaultUser() : opts.username;
  kf.hostname = opts.hostname.empty() ? DefaultHost() : opts.hostname;
  kf.n = static_cast<int64_t>(opts.scrypt_n);
  kf.r = opts.scrypt_r;
  kf.p = opts.scrypt_p;
  kf.salt.resize(64);
  opts.random->Fill(kf.salt);
  STASH_ASSIGN_OR_RETURN(crypto::Key user, crypto::DeriveUserKey(password, kf.salt, Scrypt(opts)));
  kf.data = crypto::Seal(user, *opts.random, Bytes(format::EncodeMasterKey(DocOf(master))));
  std::string key_json = format::EncodeKeyFile(kf);
  Id key_id = crypto::Sha256(key_json);
  const Handle key_handle{FileType::kKey, key_id.Hex()};
  STASH_RETURN_IF_ERROR(b.Save(key_handle, Bytes(key_json)));
  std::vector<uint8_t> sealed_cfg =
      crypto::Seal(master, *opts.random, Bytes(format::EncodeConfig(cfg)));
  // Key first, then the config, only if none is there yet: of two
  // initialisations at once exactly one config lands, and the key that opens
  // it is already there when anyone sees it.
  Status saved = b.Save(config_handle, sealed_cfg);
  if (saved.ok() && !b.CreatesAtomically()) {
    // A store that can only look before it writes may have let a racing
    // init overwrite ours; after a moment the config must still be ours.
    opts.clock->SleepFor(kInitSettle);
    auto there = LoadAll(b, config_handle);
    if (!there.ok()) {
      saved = there.status();
    } else if (*there != std::string_view(reinterpret_cast<const char*>(sealed_cfg.data()),
                                          sealed_cfg.size())) {
      saved = AlreadyExistsError("config replaced");
    }
  }
  if (!saved.ok()) {
    // The loser takes its key back: it opens nothing.
    b.Remove(key_handle).IgnoreError();
    if (saved.code() == Code::kAlreadyExists) {
      return AlreadyExistsError("config file already exists at " + b.Location() +
                                ": another process initialized the repository at the same "
                                "time; open it instead");
    }
    return saved;
  }
  return std::unique_ptr<Repository>(
      new RepositoryImpl(std::move(backend), opts, master, std::move(cfg), key_id));
}

std::string RepositoryImpl::MasterKeyJson() const {
  return format::EncodeMasterKey(DocOf(master_));
}

Result<std::string> RepositoryImpl::LoadUnpacked(FileType type, const Id& id) {
  Handle h{type, id.Hex()};
  std::vector<uint8_t> buf;
  STASH_RETURN_IF_ERROR(backend_->Load(h, 0, 0, &buf));
  if (crypto::Sha256(buf) != id) {
    return DataLossError(h.ToString() + ": content does not match its name (file is corrupt)");
  }
  auto n = crypto::Open(master_, buf, buf.data() + crypto::kIvSize);
  if (!n.ok()) return Status(n.status()).Prepend(h.ToString());
  std::span<const uint8_t> plain(buf.data() + crypto::kIvSize, *n);
  auto framing = format::ClassifyUnpacked(plain);
  if (!framing.ok()) return Status(framing.status()).Prepend(h.ToString());
  if (*framing == format::UnpackedFraming::kRawJson) return std::string(plain.begin(), plain.end());
  STASH_ASSIGN_OR_RETURN(std::vector<uint8_t> json,
                         ZstdDecompress(plain.subspan(1), 0, h.ToString()));
  return std::string(json.begin(), json.end());
}

Result<std::vector<Id>> RepositoryImpl::ListIds(FileType type) {
  std::vector<Id> ids;
  STASH_RETURN_IF_ERROR(backend_->List(type, [&](const backend::FileInfo& fi) -> Status {
    if (auto id = Id::FromHex(fi.name); id.ok()) ids.push_back(*id);
    return Status::Ok();
  }));
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<Id> RepositoryImpl::ResolvePrefix(FileType type, std::string_view prefix) {
  if (prefix.size() == 64) {
    if (auto id = Id::FromHex(prefix); id.ok()) return *id;
  }
  STASH_ASSIGN_OR_RETURN(std::vector<Id> ids, ListIds(type));
  std::optional<Id> found;
  for (const Id& id : ids) {
    if (id.Hex().rfind(prefix, 0) != 0) continue;
    if (found) {
      return InvalidError("multiple IDs with prefix \"" + std::string(prefix) +
                          "\" found; give more digits");
    }
    found = id;
  }
  if (!found) {
    return NotFoundError("no matching ID found for prefix \"" + std::string(prefix) + "\"");
  }
  return *found;
}

Status RepositoryImpl::LoadIndex() {
  STASH_ASSIGN_OR_RETURN(std::vector<Id> listed, ListIds(FileType::kIndex));
  // Index files are only ever added, except by prune, which removes some:
  // when every loaded file is still there, loading the new ones is enough.
  bool incremental;
  std::vector<Id> files;
  {
    std::shared_lock lock(index_mu_);
    std::set<Id> have(index_files_.begin(), index_files_.end());
    std::set<Id> now(listed.begin(), listed.end());
    incremental = !have.empty() && std::includes(now.begin(), now.end(), have.begin(), have.end());
    for (const Id& id : listed) {
      if (!incremental || !have.count(id)) files.push_back(id);
    }
  }
  if (incremental && files.empty()) return Status::Ok();
  std::vector<std::vector<format::IndexPack>> loaded(files.size());
  std::vector<Status> errors(files.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < files.size();) {
      auto json = LoadUnpacked(FileType::kIndex, files[i]);
      if (!json.ok()) {
        errors[i] = json.status();
        continue;
      }
      // format's pull parser: no DOM, so a large index costs little beyond
      // its entries while loading.
      auto file = format::DecodeIndex(*json);
      if (!file.ok()) {
        errors[i] = DataLossError("index " + files[i].ShortHex() + ": " + file.status().message());
        continue;
      }
      loaded[i] = std::move(file->packs);
    }
  };
  size_t nthreads = std::min<size_t>(files.size(), std::max(2, backend_->Connections()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < nthreads; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < files.size(); ++i) {
    if (!errors[i].ok()) return Status(errors[i]).Prepend("loading index " + files[i].ShortHex());
  }
  std::unique_lock lock(index_mu_);
  if (!incremental) {
    index_.Clear();
    index_files_.clear();
  }
  index_files_.insert(index_files_.end(), files.begin(), files.end());
  for (auto& packs : loaded) {
    for (const format::IndexPack& p : packs) {
      uint32_t n = index_.AddPack(p.id);
      for (const auto& b : p.blobs) {
        index_.Add(b.id, b.type, n, b.offset, b.length, b.uncompressed_length);
      }
    }
    packs.clear();
    packs.shrink_to_fit();
  }
  if (opts_.on_index_loaded) {
    std::unordered_set<std::string> tree_packs;
    index_.ForEach([&](const Id&, const BlobLocation& loc) {
      if (loc.kind == BlobKind::kTree) tree_packs.insert(loc.pack.Hex());
    });
    lock.unlock();
    opts_.on_index_loaded(tree_packs);
  }
  return Status::Ok();
}

std::optional<BlobLocation> RepositoryImpl::Lookup(BlobKind kind, const Id& id) const {
  std::shared_lock lock(index_mu_);
  return index_.Find(kind, id);
}

bool RepositoryImpl::Has(BlobKind kind, const Id& id) const { return Lookup(kind, id).has_value(); }

void RepositoryImpl::ForEachBlob(
    const std::function<void(const Id&, const BlobLocation&)>& fn) const {
  std::shared_lock lock(index_mu_);
  index_.ForEach(fn);
}

size_t RepositoryImpl::IndexedBlobCount() const {
  std::shared_lock lock(index_mu_);
  return index_.size();
}

std::vector<Id> RepositoryImpl::LoadedIndexFiles() const {
  std::shared_lock lock(index_mu_);
  return index_files_;
}

Result<std::vector<Repository::PackedBlob>> RepositoryImpl::ListPack(const Id& pack,
                                                                     uint64_t size) {
  Handle h{FileType::kPack, pack.Hex()};
  if (size == 0) {
    STASH_ASSIGN_OR_RETURN(backend::FileInfo fi, backend_->Stat(h));
    size = fi.size;
  }
  std::string name = pack.Hex();
  auto where = [&](const Status& s) { return Status(s).Prepend("pack " + name); };
  if (size < format::kPackTrailerSize + format::kSealOverhead) {
    return DataLossError("pack " + name + ": file of " + std::to_string(size) +
                         " bytes is too small to hold a header");
  }
  uint64_t tail_len = std::min<uint64_t>(size, format::kEagerTailSize);
  std::vector<uint8_t> tail;
  STASH_RETURN_IF_ERROR(backend_->Load(h, size - tail_len, tail_len, &tail));
  if (tail.size() != tail_len) return DataLossError("pack " + name + ": short read of header");
  auto hlen = format::DecodePackTrailer(tail, size);
  if (!hlen.ok()) return where(hlen.status());
  std::vector<uint8_t> sealed;
  if (*hlen + format::kPackTrailerSize <= tail_len) {
    sealed.assign(tail.end() - format::kPackTrailerSize - *hlen,
                  tail.end() - format::kPackTrailerSize);
  } else {
    STASH_RETURN_IF_ERROR(
        backend_->Load(h, size - format::kPackTrailerSize - *hlen, *hlen, &sealed));
  }
  auto header = crypto::Open(master_, sealed);
  if (!header.ok()) return Status(header.status()).Prepend("pack " + name + " header");
  auto entries = format::DecodePackHeader(*header);
  if (!entries.ok()) return where(entries.status());
  std::vector<PackedBlob> out;
  out.reserve(entries->size());
  uint64_t offset = 0;
  for (const format::PackEntry& e : *entries) {
    if (offset > UINT32_MAX) return DataLossError("pack " + name + ": blob offsets exceed 4 GiB");
    out.push_back({e.id, BlobLocation{pack, e.type, static_cast<uint32_t>(offset), e.length,
                                      e.uncompressed_length}});
    offset += e.length;
  }
  return out;
}

namespace {

// "data blob <id> in pack <id>": the object every blob error names.
std::string BlobWhere(const Id& id, const BlobLocation& loc) {
  return std::string(loc.kind == BlobKind::kTree ? "tree" : "data") + " blob " + id.Hex() +
         " in pack " + loc.pack.Hex();
}

template <typename Where>
Status CheckSealedSize(size_t size, const Where& where) {
  if (size >= crypto::kSealOverhead) return Status();
  return DataLossError(where() + ": sealed blob of " + std::to_string(size) +
                       " bytes is too short");
}

}  // namespace

Result<std::vector<uint8_t>> RepositoryImpl::OpenBlob(const Id& id, const BlobLocation& loc,
                                                      std::span<const uint8_t> sealed) {
  auto where = [&] { return BlobWhere(id, loc); };
  STASH_RETURN_IF_ERROR(CheckSealedSize(sealed.size(), where));
  std::vector<uint8_t> plain(sealed.size() - crypto::kSealOverhead);
  auto n = crypto::Open(master_, sealed, plain.data());
  if (!n.ok()) return Status(n.status()).Prepend(where());
  if (loc.uncompressed_length) {
    STASH_ASSIGN_OR_RETURN(plain, ZstdDecompress(plain, loc.uncompressed_length, where()));
  }
  if (crypto::Sha256(plain) != id) {
    return DataLossError(where() + ": content does not match the blob id (data is corrupt)");
  }
  return plain;
}

// OpenBlobInPlace up to, not including, the id check.
Result<std::span<const uint8_t>> RepositoryImpl::DecodeInPlace(const Id& id,
                                                               const BlobLocation& loc,
                                                               std::span<uint8_t> sealed,
                                                               std::vector<uint8_t>* scratch) {
  auto where = [&] { return BlobWhere(id, loc); };
  STASH_RETURN_IF_ERROR(CheckSealedSize(sealed.size(), where));
  uint8_t* plain_at = sealed.data() + crypto::kIvSize;
  auto n = crypto::Open(master_, sealed, plain_at);
  if (!n.ok()) return Status(n.status()).Prepend(where());
  std::span<const uint8_t> plain(plain_at, *n);
  if (loc.uncompressed_length) {
    if (scratch->size() < loc.uncompressed_length) scratch->resize(loc.uncompressed_length);
    STASH_RETURN_IF_ERROR(ZstdDecompressTo(
        plain, std::span<uint8_t>(scratch->data(), loc.uncompressed_length), where()));
    plain = std::span<const uint8_t>(scratch->data(), loc.uncompressed_length);
  }
  return plain;
}

namespace {

Status IdMismatch(const Id& id, const BlobLocation& loc) {
  return DataLossError(BlobWhere(id, loc) +
                       ": content does not match the blob id (data is corrupt)");
}

}  // namespace

Result<std::span<const uint8_t>> RepositoryImpl::OpenBlobInPlace(const Id& id,
                                                                 const BlobLocation& loc,
                                                                 std::span<uint8_t> sealed,
                                                                 std::vector<uint8_t>* scratch) {
  STASH_ASSIGN_OR_RETURN(auto plain, DecodeInPlace(id, loc, sealed, scratch));
  if (crypto::Sha256(plain) != id) return IdMismatch(id, loc);
  return plain;
}

Repository::OpenedPair RepositoryImpl::OpenBlobPairInPlace(const SealedBlob& a,
                                                           const SealedBlob& b) {
  OpenedPair out{DecodeInPlace(a.id, a.loc, a.sealed, a.scratch),
                 DecodeInPlace(b.id, b.loc, b.sealed, b.scratch)};
  if (out.first.ok() && out.second.ok()) {
    auto [ha, hb] = crypto::Sha256x2(*out.first, *out.second);
    if (ha != a.id) out.first = IdMismatch(a.id, a.loc);
    if (hb != b.id) out.second = IdMismatch(b.id, b.loc);
    return out;
  }
  if (out.first.ok() && crypto::Sha256(*out.first) != a.id) out.first = IdMismatch(a.id, a.loc);
  if (out.second.ok() && crypto::Sha256(*out.second) != b.id) {
    out.second = IdMismatch(b.id, b.loc);
  }
  return out;
}

Result<std::vector<uint8_t>> RepositoryImpl::LoadBlob(BlobKind kind, const Id& id) {
  auto loc = Lookup(kind, id);
  if (!loc) {
    return NotFoundError(std::string(kind == BlobKind::kTree ? "tree" : "data") + " blob " +
                         id.Hex() + " not found in the index");
  }
  std::vector<uint8_t> sealed;
  STASH_RETURN_IF_ERROR(
      backend_->Load(Handle{FileType::kPack, loc->pack.Hex(), kind == BlobKind::kTree}, loc->offset,
                     loc->length, &sealed));
  return OpenBlob(id, *loc, sealed);
}

}  // namespace stash::repo
