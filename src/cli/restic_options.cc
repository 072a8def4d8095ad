#include "restic_options.h"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "stash/backend/cache.h"
#include "stash/backend/factory.h"
#include "stash/backend/rate.h"
#include "stash/cli/app.h"
#include "stash/engine/dry_run.h"
#include "stash/kube/duration.h"

namespace stash::cli {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

namespace {

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::optional<std::string> ReadFileFirstLine(const std::string& path, std::string* err) {
  std::ifstream in(path);
  if (!in) {
    *err = "Fatal: " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string line;
  std::getline(in, line);
  return TrimNewline(line);
}

std::optional<std::string> RunPasswordCommand(const std::string& cmd, std::string* err) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    *err = "Fatal: password command failed to start: " + cmd;
    return std::nullopt;
  }
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) {
    *err = "Fatal: password command exited with status " + std::to_string(rc);
    return std::nullopt;
  }
  std::string first = out.substr(0, out.find('\n'));
  return TrimNewline(first);
}

// restic reads the password from the terminal (without echo), or when stdin
// is not a terminal, the first line of stdin.
std::optional<std::string> ReadPasswordInteractively() {
  std::string line;
  if (isatty(STDIN_FILENO)) {
    std::cerr << "enter password for repository: " << std::flush;
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~ECHO;
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  } else if (!std::getline(std::cin, line)) {
    return std::nullopt;
  }
  return TrimNewline(line);
}

std::map<CLI::App*, std::unique_ptr<ResticOptions>>& Registry() {
  static std::map<CLI::App*, std::unique_ptr<ResticOptions>> r;
  return r;
}

}  // namespace

ResticOptions* AddResticFlags(CLI::App& app) {
  auto& reg = Registry();
  if (auto it = reg.find(&app); it != reg.end() && app.get_option_no_throw("--repo")) {
    return it->second.get();
  }
  auto opts = std::make_unique<ResticOptions>();
  ResticOptions* o = opts.get();
  reg[&app] = std::move(opts);
  const char* g = "restic global flags";
  app.add_option("-r,--repo", o->repo,
                 "Repository to back up to or restore from (RESTIC_REPOSITORY)")
      ->group(g);
  app.add_option("--repository-file", o->repository_file,
                 "File to read the repository location from (RESTIC_REPOSITORY_FILE)")
      ->group(g);
  app.add_option("-p,--password-file", o->password_file,
                 "File to read the repository password from (RESTIC_PASSWORD_FILE)")
      ->group(g);
  app.add_option("--password-command", o->password_command,
                 "Shell command to obtain the repository password from (RESTIC_PASSWORD_COMMAND)")
      ->group(g);
  app.add_option("--key-hint", o->key_hint,
                 "Key ID of key to try decrypting first (RESTIC_KEY_HINT)")
      ->group(g);
  app.add_flag("--json", o->json, "Set output mode to JSON for commands that support it")->group(g);
  app.add_flag("-q,--quiet", o->quiet, "Do not output comprehensive progress report")->group(g);
  app.add_flag("-v,--verbose", o->verbose, "Be verbose (specify multiple times)")->group(g);
  app.add_flag("--no-cache", o->no_cache, "Do not use a local cache")->group(g);
  app.add_option("--cache-dir", o->cache_dir,
                 "Set the cache directory (default: RESTIC_CACHE_DIR, else "
                 "$XDG_CACHE_HOME/restic or ~/.cache/restic)")
      ->group(g);
  app.add_flag("--cleanup-cache", o->cleanup_cache, "Auto remove old cache directories")->group(g);
  app.add_flag("--no-lock", o->no_lock, "Do not lock the repository")->group(g);
  app.add_option("--retry-lock", o->retry_lock,
                 "Retry to lock the repository if it is already locked, takes a value like 5m or "
                 "2h (default: no retries)")
      ->group(g);
  app.add_option("--pack-size", o->pack_size_mib, "Set target pack size in MiB (RESTIC_PACK_SIZE)")
      ->group(g);
  app.add_option("--compression", o->compression,
                 "Compression mode: auto|off|max (RESTIC_COMPRESSION)")
      ->group(g);
  app.add_option("-o,--option", o->extended_options,
                 "Set extended option (key=value; stash knows <backend>.connections)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false)
      ->group(g);
  app.add_option("--cacert", o->cacerts, "File to load root certificates from")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false)
      ->group(g);
  app.add_option("--tls-client-cert", o->tls_client_cert,
                 "Path to a file containing PEM encoded TLS client certificate and private key")
      ->group(g);
  app.add_flag("--insecure-tls", o->insecure_tls, "Skip TLS certificate verification")->group(g);
  app.add_option("--limit-upload", o->limit_upload,
                 "Limits uploads to a maximum rate in KiB/s. (default: unlimited)")
      ->group(g);
  app.add_option("--limit-download", o->limit_download,
                 "Limits downloads to a maximum rate in KiB/s. (default: unlimited)")
      ->group(g);
  return o;
}

std::variant<ResticContext, CliError> ResolveResticContext(const ResticOptions& o,
                                                           bool need_password) {
  ResticContext ctx;
  ctx.clock = std::make_unique<RealClock>();
  ctx.random = std::make_unique<SystemRandom>();
  std::string err;

  ctx.repo = o.repo.empty() ? Env("RESTIC_REPOSITORY") : o.repo;
  std::string repo_file =
      o.repository_file.empty() ? Env("RESTIC_REPOSITORY_FILE") : o.repository_file;
  if (ctx.repo.empty() && !repo_file.empty()) {
    auto r = ReadFileFirstLine(repo_file, &err);
    if (!r) return CliError{kExitError, err};
    ctx.repo = *r;
  }
  if (ctx.repo.empty()) {
    return CliError{kExitError,
                    "Fatal: Please specify repository location (-r or --repository-file)"};
  }
  ctx.repo_display = RedactRepository(ctx.repo);
  if (!o.retry_lock.empty()) {
    auto retry = kube::ParseGoDuration(o.retry_lock);
    if (!retry.ok() || retry->count() < 0) {
      return CliError{kExitUsage, "Fatal: invalid value \"" + o.retry_lock +
                                      "\" for flag --retry-lock: " +
                                      (retry.ok() ? "negative" : retry.status().message())};
    }
    ctx.lock_timing.retry = *retry;
  }

  if (need_password) {
    std::string pw_file = o.password_file.empty() ? Env("RESTIC_PASSWORD_FILE") : o.password_file;
    std::string pw_cmd =
        o.password_command.empty() ? Env("RESTIC_PASSWORD_COMMAND") : o.password_command;
    std::optional<std::string> pw;
    if (!pw_file.empty()) {
      pw = ReadFileFirstLine(pw_file, &err);
      if (!pw) return CliError{kExitError, "Fatal: Load(<password file>): " + err.substr(7)};
    } else if (!pw_cmd.empty()) {
      pw = RunPasswordCommand(pw_cmd, &err);
      if (!pw) return CliError{kExitError, err};
    } else if (const char* p = std::getenv("RESTIC_PASSWORD")) {
      pw = p;
    } else {
      pw = ReadPasswordInteractively();
      if (!pw) {
        return CliError{kExitError,
                        "Fatal: unable to read password: no password given (set RESTIC_PASSWORD, "
                        "--password-file or --password-command)"};
      }
    }
    ctx.password = *pw;
  }

  if (o.limit_upload < 0 || o.limit_download < 0) {
    return CliError{kExitUsage, std::string("Fatal: --limit-") +
                                    (o.limit_upload < 0 ? "upload" : "download") +
                                    " must be a rate in KiB/s (0 or more), not " +
                                    std::to_string(std::min(o.limit_upload, o.limit_download))};
  }
  ctx.limit_upload = backend::KibPerSecond(static_cast<uint64_t>(o.limit_upload));
  ctx.limit_download = backend::KibPerSecond(static_cast<uint64_t>(o.limit_download));
  ctx.extended_options = o.extended_options;
  ctx.no_cache = o.no_cache;
  ctx.cache_dir = o.cache_dir;
  ctx.cleanup_cache = o.cleanup_cache;
  ctx.quiet = o.quiet;
  ctx.json = o.json;
  ctx.cacerts = o.cacerts;
  ctx.tls_client_cert = o.tls_client_cert;
  ctx.insecure_tls = o.insecure_tls;
  repo::Options& ro = ctx.repo_options;
  ro.clock = ctx.clock.get();
  ro.random = ctx.random.get();
  ro.key_hint = o.key_hint.empty() ? Env("RESTIC_KEY_HINT") : o.key_hint;
  std::string compression = o.compression.empty() ? Env("RESTIC_COMPRESSION") : o.compression;
  if (compression.empty() || compression == "auto") {
    ro.compression = repo::Compression::kAuto;
  } else if (compression == "off") {
    ro.compression = repo::Compression::kOff;
  } else if (compression == "max") {
    ro.compression = repo::Compression::kMax;
  } else {
    return CliError{kExitUsage, "Fatal: invalid compression mode \"" + compression +
                                    "\": use auto, off or max"};
  }
  std::optional<uint64_t> pack_mib = o.pack_size_mib;
  if (!pack_mib) {
    if (std::string s = Env("RESTIC_PACK_SIZE"); !s.empty()) {
      char* end = nullptr;
      uint64_t v = std::strtoull(s.c_str(), &end, 10);
      if (!end || *end) {
        return CliError{kExitUsage, "Fatal: RESTIC_PACK_SIZE=\"" + s + "\" is not a number"};
      }
      pack_mib = v;
    }
  }
  if (pack_mib && *pack_mib != 0) {
    if (*pack_mib < 4 || *pack_mib > 128) {
      return CliError{kExitUsage, "Fatal: pack size " + std::to_string(*pack_mib) +
                                      " MiB is outside the allowed range 4..128 MiB"};
    }
    ro.pack_size = *pack_mib << 20;
  }
  // Test knob: write index files this often (seconds) during a backup, so
  // crash tests see indexed packs early.
  if (std::string i = Env("STASH_TEST_INDEX_INTERVAL"); !i.empty()) {
    ro.index_max_age =
        std::chrono::milliseconds(static_cast<int64_t>(std::strtod(i.c_str(), nullptr) * 1000));
  }
  if (std::string n = Env("STASH_TEST_SCRYPT_N"); !n.empty()) {
    ro.scrypt_n = std::strtoull(n.c_str(), nullptr, 10);
  }
  return ctx;
}

std::map<std::string, std::string> ProcessEnvironment() {
  backend::Env env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
  }
  return env;
}

Status ApplyExtendedOptions(const std::vector<std::string>& options, backend::BackendSpec* spec) {
  std::string_view scheme;
  switch (spec->kind) {
    case backend::BackendKind::kLocal:
      scheme = "local";
      break;
    case backend::BackendKind::kRest:
      scheme = "rest";
      break;
    case backend::BackendKind::kS3:
      scheme = "s3";
      break;
    case backend::BackendKind::kGcs:
      scheme = "gs";
      break;
    case backend::BackendKind::kAzure:
      scheme = "azure";
      break;
  }
  for (const std::string& kv : options) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos)
      return InvalidError("invalid option \"" + kv + "\": want key=value");
    const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    const size_t dot = key.find('.');
    // As restic: options of other backends do not apply to this one.
    if (dot != std::string::npos && key.substr(0, dot) != scheme) continue;
    if (key == std::string(scheme) + ".connections") {
      char* end = nullptr;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1 || n > 1024) {
        return InvalidError("option " + key +
                            " must be a number of connections from 1 to 1024, not \"" + value +
                            "\"");
      }
      spec->max_connections = static_cast<int>(n);
      continue;
    }
    return InvalidError("option \"" + key + "\" is not supported (stash knows " +
                        std::string(scheme) + ".connections)");
  }
  return Status::Ok();
}

std::variant<backend::BackendPtr, CliError> OpenResticBackend(const ResticContext& ctx) {
  backend::Env env = ProcessEnvironment();
  // One path per line: restic trusts the certificates of every --cacert.
  std::string cacerts;
  for (const std::string& path : ctx.cacerts) cacerts += (cacerts.empty() ? "" : "\n") + path;
  if (!cacerts.empty()) env["STASH_CACERT"] = cacerts;
  if (!ctx.tls_client_cert.empty()) env["STASH_TLS_CLIENT_CERT"] = ctx.tls_client_cert;
  if (ctx.insecure_tls) env["STASH_INSECURE_TLS"] = "true";
  auto spec = backend::ParseRepository(ctx.repo, env);
  if (!spec.ok()) return FatalError(spec.status());
  if (Status s = ApplyExtendedOptions(ctx.extended_options, &*spec); !s.ok()) {
    return CliError{kExitUsage, "Fatal: " + s.message()};
  }
  spec->limit_upload = ctx.limit_upload;
  spec->limit_download = ctx.limit_download;
  auto b = backend::OpenBackend(*spec, *ctx.clock, *ctx.random);
  if (!b.ok()) return FatalError(b.status());
  return std::move(b).value();
}

namespace {

// restic's OpenRepository after the config is read: names the cache
// directory, then notes or removes repository caches unused for 30 days.
void AttachCache(const ResticContext& ctx, const repo::Repository& repo,
                 backend::CacheBackend& cache) {
  std::string base = ctx.cache_dir;
  if (base.empty()) {
    auto d = backend::DefaultCacheDir(ProcessEnvironment());
    if (!d.ok()) {
      std::cerr << "unable to open cache: " << d.status().message() << "\n";
      return;
    }
    base = *d;
  }
  auto created = cache.Attach(base, repo.repository_id(), ctx.clock->Now());
  if (!created.ok()) {
    std::cerr << "unable to open cache: " << created.status().message() << "\n";
    return;
  }
  const bool notes = isatty(STDOUT_FILENO) && !ctx.quiet && !ctx.json;
  if (*created && notes) std::cout << "created new cache in " << base << "\n";
  auto old = backend::OldCacheDirs(base, ctx.clock->Now());
  if (!old.ok()) {
    std::cerr << "unable to find old cache directories: " << old.status().message() << "\n";
    return;
  }
  if (old->empty()) return;
  if (!ctx.cleanup_cache) {
    if (notes) {
      std::cout << "found " << old->size() << " old cache directories in " << base
                << ", run `stash cache --cleanup` to remove them\n";
    }
    return;
  }
  if (notes) std::cout << "removing " << old->size() << " old cache dirs from " << base << "\n";
  for (const std::string& name : *old) {
    Status s = backend::RemoveTree(base + "/" + name);
    if (!s.ok())
      std::cerr << "unable to remove " << base << "/" << name << ": " << s.message() << "\n";
  }
}

}  // namespace

std::variant<std::unique_ptr<repo::Repository>, CliError> OpenRepository(const ResticContext& ctx) {
  auto be = OpenResticBackend(ctx);
  if (auto* e = std::get_if<CliError>(&be)) return *e;
  backend::BackendPtr store = std::move(std::get<backend::BackendPtr>(be));
  backend::CacheBackend* cache = nullptr;
  repo::Options options = ctx.repo_options;
  if (!ctx.no_cache) {
    auto c = std::make_unique<backend::CacheBackend>(std::move(store));
    cache = c.get();
    store = std::move(c);
    options.on_index_loaded = [cache](const std::unordered_set<std::string>& tree_packs) {
      cache->KeepOnlyPacks(tree_packs);
    };
  }
  if (ctx.dry_run) store = engine::NewDryRunBackend(std::move(store));
  auto r = repo::Repository::Open(std::move(store), ctx.password, options);
  if (r.ok()) {
    if (cache) AttachCache(ctx, **r, *cache);
    return std::move(r).value();
  }
  const Status& s = r.status();
  if (s.code() == Code::kNotFound) {
    std::string path = ctx.repo_display;
    if (path.rfind("local:", 0) == 0) path = path.substr(6);
    const bool local = path.find(':') == std::string::npos;
    std::string config = path;
    while (config.size() > 1 && config.back() == '/') config.pop_back();
    config += "/config";
    return CliError{kExitError, "Fatal: unable to open config file: " +
                                    (local ? "stat " + config + ": no such file or directory"
                                           : "<config/> does not exist") +
                                    "\nIs there a repository at the following location?\n" + path};
  }
  if (s.code() == Code::kUnauthorized) {
    return CliError{kExitError, "Fatal: wrong password or no key found"};
  }
  return FatalError(s);
}

std::string RedactRepository(std::string_view repo) {
  const size_t scheme = repo.find("://");
  if (scheme == std::string_view::npos) return std::string(repo);
  const size_t host = scheme + 3;
  const size_t at = repo.find('@', host);
  const size_t slash = repo.find('/', host);
  if (at == std::string_view::npos || (slash != std::string_view::npos && at > slash)) {
    return std::string(repo);
  }
  const size_t colon = repo.find(':', host);
  if (colon == std::string_view::npos || colon > at) return std::string(repo);
  return std::string(repo.substr(0, colon + 1)) + "***" + std::string(repo.substr(at));
}

CliError FatalError(const Status& s) { return CliError{kExitError, "Fatal: " + s.message()}; }

}  // namespace stash::cli
