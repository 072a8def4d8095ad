// Private to cli: restic's global flags and environment variables, shared by
// every restic-style verb (init, backup, restore, snapshots, ls, cat, dump,
// check), and OpenRepository(), which turns them into an open Repository
// with restic's error messages.
//
//   void RegisterFoo(CLI::App& app, GlobalOptions&, int* exit_code) {
//     ResticOptions* ro = AddResticFlags(app);   // idempotent per app
//     auto* cmd = app.add_subcommand("foo", ...);
//     cmd->callback([=] { auto repo = OpenRepository(*ro, env); ... });
//   }
//
// Flags live on the root app, so (with fallthrough) they are accepted before
// or after the verb, as restic accepts them.
//
// Thread-safety: parsing and opening happen on the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "stash/backend/factory.h"
#include "stash/core/clock.h"
#include "stash/core/random.h"
#include "stash/engine/lock.h"
#include "stash/repo/repository.h"

namespace stash::cli {

struct ResticOptions {
  std::string repo;
  std::string repository_file;
  std::string password_file;
  std::string password_command;
  std::string key_hint;
  bool json = false;
  bool quiet = false;
  int verbose = 0;
  bool no_cache = false;
  std::string cache_dir;
  bool cleanup_cache = false;
  bool no_lock = false;
  std::string retry_lock;  // Go duration; empty: no retries
  std::optional<uint64_t> pack_size_mib;
  std::string compression;
  std::vector<std::string> extended_options;  // -o key=value
  std::vector<std::string> cacerts;
  std::string tls_client_cert;
  bool insecure_tls = false;
  int limit_upload = 0;
  int limit_download = 0;
};

// Adds restic's global flags to the root `app` the first time it is called
// for that app and returns the struct they fill (the same one on every call).
ResticOptions* AddResticFlags(CLI::App& app);

// Exit-code carrying failure of a restic verb: `message` is printed on stderr
// as restic does ("Fatal: ..." included when appropriate).
struct CliError {
  int exit_code;
  std::string message;
};

// Everything a verb needs from a resolved command line.
struct ResticContext {
  std::string repo;                  // the repository location as given
  std::string repo_display;          // the same with any URL password replaced by ***
  std::string password;              // resolved from flag/env/file/command
  std::vector<std::string> cacerts;  // --cacert, each file's certificates trusted
  std::string tls_client_cert;       // --tls-client-cert: certificate and key, one PEM file
  bool insecure_tls = false;
  repo::Options repo_options;
  bool dry_run = false;            // backup --dry-run: the backend drops every write
  engine::LockTiming lock_timing;  // --retry-lock
  // The local cache (restic's --no-cache, --cache-dir, --cleanup-cache).
  bool no_cache = false;
  std::string cache_dir;  // empty: DefaultCacheDir (RESTIC_CACHE_DIR, XDG, HOME)
  bool cleanup_cache = false;
  bool quiet = false;  // the cache's notes are printed only on a terminal, without
  bool json = false;   // --quiet and --json, as restic's
  std::vector<std::string> extended_options;  // -o key=value, checked when the backend opens
  uint64_t limit_upload = 0;                  // bytes per second; 0: unlimited
  uint64_t limit_download = 0;
  std::unique_ptr<Clock> clock;
  std::unique_ptr<Random> random;
};

// Resolves flags + environment (RESTIC_REPOSITORY, RESTIC_REPOSITORY_FILE,
// RESTIC_PASSWORD, RESTIC_PASSWORD_FILE, RESTIC_PASSWORD_COMMAND,
// RESTIC_PACK_SIZE, RESTIC_COMPRESSION, RESTIC_KEY_HINT, STASH_TEST_SCRYPT_N).
// `need_password` false skips the password (none of our verbs, yet).
std::variant<ResticContext, CliError> ResolveResticContext(const ResticOptions& opts,
                                                           bool need_password = true);

// This process's environment, as restic reads its variables from it.
std::map<std::string, std::string> ProcessEnvironment();

// The value of environment variable `name`; "" when unset.
std::string Env(const char* name);

// Builds the backend for ctx.repo through the backend factory: local paths,
// rest:, s3:, gs:, azure: with restic's environment variables.
// -o options: "<scheme>.connections=N" sets the connections of this
// repository's backend; another backend's options are skipped, as restic
// does; any other option of this backend is refused (kInvalid naming it).
Status ApplyExtendedOptions(const std::vector<std::string>& options, backend::BackendSpec* spec);
std::variant<backend::BackendPtr, CliError> OpenResticBackend(const ResticContext& ctx);

// Opens the repository with restic's messages, behind the local cache
// unless ctx.no_cache (a cache that cannot be opened is a warning, as in
// restic, and the repository is used without it): no config → "Fatal: unable to
// open config file: stat <repo>/config: no such file or directory\nIs there a
// repository at the following location?\n<repo>"; wrong password → "Fatal:
// wrong password or no key found". Both exit 1.
std::variant<std::unique_ptr<repo::Repository>, CliError> OpenRepository(const ResticContext& ctx);

// The repository location for output: "rest:http://user:pass@host/" becomes
// "rest:http://user:***@host/", as restic prints it. Never print `repo` itself.
std::string RedactRepository(std::string_view repo);

// Prints "Fatal: ..." style message for an error status from a verb.
CliError FatalError(const Status& s);

// Prints the error of a resolved value, if it is one; its exit code.
template <typename T>
std::optional<int> ReportCliError(const std::variant<T, CliError>& v) {
  const CliError* e = std::get_if<CliError>(&v);
  if (e == nullptr) return std::nullopt;
  std::cerr << e->message << "\n";
  return e->exit_code;
}

}  // namespace stash::cli
