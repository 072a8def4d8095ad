// Checker: verifies a repository as `restic check` 0.14 does, with the same
// phases and messages:
//   load indexes      every index file decodes; hints for packs listed in
//                     several index files or mixing tree and data blobs
//   check all packs   every indexed pack exists with the size its index
//                     entries imply, blobs contiguous from offset 0; packs in
//                     no index are reported (non-critical)
//   check snapshots, trees and blobs
//                     every snapshot's trees load and decode, every file blob
//                     and subtree is indexed
//   read all data     (--read-data / --read-data-subset) every selected pack
//                     is downloaded: SHA-256 equals its name, the header
//                     decrypts and matches the index, every blob authenticates
//                     (MAC), decompresses and hashes to its id. A failure
//                     names the pack and the blob.
//
// Thread-safety: one Run() at a time; internally parallel. The output
// callbacks are called from the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "stash/core/random.h"
#include "stash/core/result.h"
#include "stash/repo/repository.h"

namespace stash::engine {

struct CheckOptions {
  bool read_data = false;
  // --read-data-subset: "n/t" (packs whose first id byte % t == n-1) or "p%"
  // (a random share of the packs). Empty: none (or all with read_data).
  std::string read_data_subset;
  bool check_unused = false;
  bool show_progress = true;  // the final "[0:00] 100.00%  n / n …" lines
  int workers = 0;            // pack readers; 0: max(connections, cores)
};

struct CheckOutput {
  std::function<void(const std::string&)> info;   // stdout lines (restic Verbosef/Printf)
  std::function<void(const std::string&)> error;  // stderr lines (restic Warnf)
};

class Checker {
 public:
  Checker(repo::Repository& repo, CheckOptions opts, CheckOutput out, Random& random);

  // Runs every phase. Returns true when the repository has errors (the CLI
  // then prints "Fatal: repository contains errors"); a Status error only when
  // the check itself cannot run (bad --read-data-subset, listing failed).
  Result<bool> Run();

 private:
  struct PackInfo;
  bool LoadIndexes();
  void CheckPacks();
  void CheckStructure();
  Status ReadData();
  std::string CheckPack(const Id& pack, const PackInfo& info);
  void Info(const std::string& s);
  void Error(const std::string& s);

  repo::Repository& repo_;
  CheckOptions opts_;
  CheckOutput out_;
  Random& random_;
  bool errors_found_ = false;
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace stash::engine
