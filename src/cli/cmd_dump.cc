// `stash dump`: writes a file from a snapshot to stdout, as restic 0.14.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cmd_read_common.h"
#include "commands.h"
#include "stash/engine/dump.h"

namespace stash::cli {

namespace {

struct DumpFlags {
  FilterFlags filter;
  std::string archive = "tar";
  std::vector<std::string> args;
};

int RunDump(const ResticOptions& ro, const DumpFlags& f) {
  if (f.args.size() != 2) {
    std::cerr << "Fatal: no file and no snapshot ID specified\n";
    return kExitError;
  }
  if (f.archive != "tar" && f.archive != "zip") {
    std::cerr << "unknown archive format \"" << f.archive << "\"\n";
    return kExitError;
  }
  auto opened = OpenForVerb(ro, VerbLock::kShared);
  if (auto* code = std::get_if<int>(&opened)) return *code;
  repo::Repository& repo = *std::get<OpenedRepo>(opened).repo;
  auto found = SnapshotToRead(repo, f.args[0], f.filter);
  if (auto* code = std::get_if<int>(&found)) return *code;
  const engine::SnapshotEntry* entry = &std::get<engine::SnapshotEntry>(found);
  auto is_dir = engine::IsDirectory(repo, *entry, f.args[1]);
  if (!is_dir.ok()) {
    std::cerr << "cannot dump file: " << is_dir.status().message() << "\n";
    return 2;
  }
  if (*is_dir) {
    if (f.archive != "tar") {
      std::cerr << "cannot dump file: the zip archive format is not supported by stash yet; use "
                   "--archive tar\n";
      return 2;
    }
    if (isatty(STDOUT_FILENO)) {
      std::cerr << "cannot dump file: stdout is the terminal, please redirect output\n";
      return 2;
    }
  }
  auto dump = *is_dir ? engine::DumpTar : engine::DumpFile;
  Status s = dump(repo, *entry, f.args[1], [](std::span<const uint8_t> data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = write(STDOUT_FILENO, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status(Code::kInternal, std::string("Write: ") + std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    std::cerr << "cannot dump file: " << s.message() << "\n";
    return 2;  // restic exits 2 here
  }
  return kExitOk;
}

}  // namespace

void RegisterDump(CLI::App& app, GlobalOptions& global, int* exit_code) {
  ResticOptions* ro = AddResticFlags(app);
  auto* cmd = app.add_subcommand("dump", "Print a backed-up file to stdout");
  auto flags = std::make_shared<DumpFlags>();
  flags->filter.Add(cmd, " when the snapshot ID is \"latest\"");
  cmd->add_option("-a,--archive", flags->archive, "archive format for directories (tar or zip)");
  cmd->add_option("args", flags->args, "snapshotID file");
  cmd->callback([ro, flags, exit_code] { *exit_code = RunDump(*ro, *flags); });
}

}  // namespace stash::cli
