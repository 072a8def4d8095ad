#!/usr/bin/env python3
"""stash vs restic 0.14 on the same data, same compression, same cores, in one run.

Workloads (issue targets in brackets):
  1. first backup of 1 GiB incompressible data        [stash >= 4x restic throughput]
  2. first backup of 1 GiB compressible data (tar of /usr/lib)  [>= 3x, stored size within 3%]
  3. no-change second backup of 100,000 small files   [>= 5x faster]
  4. full restore of 1., 2. and 3.                    [>= 3x faster]
Peak RSS (from /usr/bin/time -v) should be no higher than restic's.
Debian's borg 1.2 runs the same workloads beside them when installed (apt-get install
borgbackup; --borg '' leaves it out): see class Borg for the settings that make it the same job.

Page cache: every restore starts with both repositories evicted (os.sync(), then
posix_fadvise(DONTNEED) on each file), and every first backup with its source tree evicted,
so neither tool reads from memory what the other reads from disk (stash's backup drops its
pack pages after fsync; restic's does not).

Rounds: every measurement is taken --rounds times (default 3; the 1 GiB restores
--restore-repeats times per round, default 3), the two tools alternating which goes first,
and the table shows the median with the range: on a shared virtual machine one run of either
tool varies by +-30%, which a single pair of runs turns into a ratio off by half.

Usage: bench/bench_backup.py [--stash build/bin/stash] [--dir /tmp/stash-bench] [--size-mib 1024]
                             [--rounds 3] [--restore-repeats 3] [--borg PATH] [--only random,tar,small]
Not part of the test suite: it takes minutes and wants an otherwise idle machine.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

PASSWORD = "bench"


def sh(cmd, env, cwd=None):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak RSS MiB, CPU seconds).

    CPU seconds (user + system) barely move with the machine's load, unlike
    wall time: on a shared machine they are the steadier comparison."""
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, cwd=cwd, capture_output=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("%s failed (%d):\n%s\n%s" % (" ".join(cmd), p.returncode, p.stdout.decode()[-2000:],
                                             p.stderr.decode()[-2000:]))
    m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    cpu = sum(float(x) for x in re.findall(rb"(?:User|System) time \(seconds\): ([\d.]+)",
                                           p.stderr))
    return dt, int(m.group(1)) / 1024 if m else 0.0, cpu


def du(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def evict(path):
    """Drops path's files from the page cache so the next reader gets them from disk."""
    os.sync()
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                fd = os.open(os.path.join(dirpath, name), os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue  # sockets, fifos, dangling links: nothing cached
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def make_data(d, size_mib, only=("random", "tar", "small")):
    rnd = os.path.join(d, "random")
    if "random" in only and not os.path.exists(rnd):
        os.makedirs(rnd)
        with open("/dev/urandom", "rb") as src, open(os.path.join(rnd, "data.bin"), "wb") as out:
            for _ in range(size_mib):
                out.write(src.read(1 << 20))
    tar = os.path.join(d, "tar")
    if "tar" in only and not os.path.exists(tar):
        os.makedirs(tar)
        out = os.path.join(tar, "usrlib.tar")
        subprocess.run("tar cf - /usr/lib 2>/dev/null | head -c %d > %s" % (size_mib << 20, out),
                       shell=True, check=True)
    small = os.path.join(d, "small")
    if "small" in only and not os.path.exists(small):
        os.makedirs(small)
        for i in range(100):
            sub = os.path.join(small, "d%03d" % i)
            os.makedirs(sub)
            for j in range(1000):
                with open(os.path.join(sub, "f%04d" % j), "w") as f:
                    f.write("small file %d/%d\n" % (i, j))
    return rnd, tar, small


class ResticLike:
    """restic 0.14 or stash: the same verbs and flags."""

    def __init__(self, name, argv, env):
        self.name, self.argv, self.env = name, argv, env

    def init(self, repo):
        subprocess.run([*self.argv, "-r", repo, "init", "-q"], env=self.env, check=True,
                       capture_output=True)

    def backup(self, repo, src, compression="auto"):
        return sh([*self.argv, "-r", repo, "backup", "-q", "--compression", compression, "."],
                  self.env, cwd=src)

    def restore(self, repo, target):
        return sh([*self.argv, "-r", repo, "restore", "-q", "latest", "--target", target],
                  self.env)


class Borg:
    """Debian's borg 1.2 doing the same jobs: authenticated encryption (repokey:
    AES-CTR + HMAC-SHA256, as restic's AES-CTR + Poly1305), content-defined
    chunks, zstd level 3 where the data compresses (auto: an lz4 probe first),
    its files cache for unchanged files. borg is single-threaded by design.
    Install: apt-get install borgbackup (the bench skips borg when it is missing)."""

    name = "borg"

    def __init__(self, binary, base):
        self.binary = binary
        self.env = dict(os.environ, BORG_PASSPHRASE=PASSWORD, BORG_BASE_DIR=base,
                        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK="yes",
                        BORG_RELOCATED_REPO_ACCESS_IS_OK="yes", BORG_DELETE_I_KNOW_WHAT_I_AM_DOING="YES")
        self.count = 0

    def init(self, repo):
        subprocess.run([self.binary, "init", "-e", "repokey", repo], env=self.env, check=True,
                       capture_output=True)

    def backup(self, repo, src, compression="auto"):
        self.count += 1
        comp = "none" if compression == "off" else "auto,zstd,3"
        return sh([self.binary, "create", "--compression", comp, "%s::a%d" % (repo, self.count),
                   "."], self.env, cwd=src)

    def restore(self, repo, target):
        os.makedirs(target, exist_ok=True)
        last = subprocess.run([self.binary, "list", "--last", "1", "--short", repo], env=self.env,
                              check=True, capture_output=True, text=True).stdout.strip()
        return sh([self.binary, "extract", "%s::%s" % (repo, last)], self.env, cwd=target)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin",
                                                    "stash"))
    ap.add_argument("--restic", default=shutil.which("restic") or "restic")
    ap.add_argument("--borg", default=shutil.which("borg") or "",
                    help="borg 1.2 binary ('' to leave borg out; apt-get install borgbackup)")
    ap.add_argument("--dir", default="/tmp/stash-bench")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--restore-repeats", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated workloads: random,tar,small")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    only = set(a.only.split(",")) if a.only else {"random", "tar", "small"}
    rnd, tar, small = make_data(os.path.join(a.dir, "data"), a.size_mib, only)
    env = dict(os.environ, RESTIC_PASSWORD=PASSWORD, GOMAXPROCS="2",
               TMPDIR=os.path.join(a.dir, "tmp"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    tools = {"restic": ResticLike("restic", [a.restic, "--no-cache"], env),
             "stash": ResticLike("stash", [os.path.abspath(a.stash)], env)}
    if a.borg:
        shutil.rmtree(os.path.join(a.dir, "borg-base"), ignore_errors=True)
        tools["borg"] = Borg(a.borg, os.path.join(a.dir, "borg-base"))
    # results[workload][tool] = list of (seconds, peak RSS MiB, CPU s), one per round
    results = {}
    stored = {}
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    print("page cache: source trees evicted before each first backup, all repositories "
          "before every restore; %d rounds, tools rotating which goes first" % a.rounds,
          flush=True)

    def record(workload, tool, value):
        results.setdefault(workload, {}).setdefault(tool, []).append(value)

    def repo_path(tool, name):
        return os.path.join(a.dir, "repos", "%s-%s" % (tool, name))

    def evict_repos(name):
        for tool in tools:
            evict(repo_path(tool, name))

    def fresh_repo(tool, name):
        r = repo_path(tool, name)
        shutil.rmtree(r, ignore_errors=True)
        os.makedirs(os.path.dirname(r), exist_ok=True)
        tools[tool].init(r)
        return r

    def restore(tool, name, keep=False):
        target = os.path.join(a.dir, "restore-%s-%s" % (tool, name))
        shutil.rmtree(target, ignore_errors=True)
        evict_repos(name)
        t = tools[tool].restore(repo_path(tool, name), target)
        if not keep:
            shutil.rmtree(target, ignore_errors=True)
        return t, target

    def report(rounds_done):
        for name in stored:
            r = stored[name]["restic"]
            print("%s: stored %s" % (name, ", ".join(
                "%s %.1f MiB (%+.2f%%)" % (t, st / 2**20, 100.0 * (st - r) / r)
                for t, st in stored[name].items())))
        sizes = {n: du(p) for n, p in (("random", rnd), ("tar", tar)) if n in only}
        print("\nload average now: %.2f %.2f %.2f" % os.getloadavg())
        print("median of %d rounds (restores of random/tar: %d runs) (min-max); speedups from the "
              "medians; RSS: the highest" % (rounds_done, rounds_done * a.restore_repeats))
        others = [t for t in names if t != "restic"]
        head = "%-22s" % "workload" + "".join("%19s" % (t + " s") for t in names)
        head += "".join("%14s" % ("restic/" + t) for t in others)
        head += "".join("%12s" % (t + " MB/s") for t in names)
        head += "  peak RSS MiB (" + "/".join(names) + ")"
        print(head)
        for workload, res in results.items():
            size = sizes.get(workload.split()[-1], 0)
            med, cols = {}, []
            for tool in names:
                ts = [x[0] for x in res[tool]]
                med[tool] = statistics.median(ts)
                cols.append("%19s" % ("%.2f (%.2f-%.2f)" % (med[tool], min(ts), max(ts))))
            line = "%-22s" % workload + "".join(cols)
            line += "".join("%13.2fx" % (med["restic"] / med[t]) for t in others)
            line += "".join("%12s" % ("%.0f" % (size / 2**20 / med[t]) if size else "-") for t in names)
            line += "  " + " / ".join("%.0f" % max(x[1] for x in res[t]) for t in names)
            print(line)
        print("\nCPU seconds (user + system), median; ratio = restic CPU / tool CPU")
        for workload, res in results.items():
            cpu = {t: statistics.median(x[2] for x in res[t]) for t in names}
            print("%-22s" % workload + "".join("%10s %6.2f" % (t, cpu[t]) for t in names) +
                  "".join("   restic/%s %.2fx" % (t, cpu["restic"] / cpu[t]) for t in others))

    names = list(tools)
    for rnd_i in range(a.rounds):
        k = rnd_i % len(names)
        order = names[k:] + names[:k]
        if rnd_i % 2:
            order.reverse()
        for name, src in (("random", rnd), ("tar", tar)):
            if name not in only:
                continue
            for tool in order:
                repo = fresh_repo(tool, name)
                evict(src)
                record("backup " + name, tool, tools[tool].backup(repo, src))
                stored.setdefault(name, {})[tool] = du(repo)
            # Restores are short, so each round takes several: their medians
            # come from rounds x --restore-repeats runs per tool.
            for rep in range(a.restore_repeats):
                for tool in (order if rep % 2 == 0 else list(reversed(order))):
                    record("restore " + name, tool, restore(tool, name)[0])
        if "small" not in only:
            print("round %d done, load %.2f" % (rnd_i + 1, os.getloadavg()[0]), flush=True)
            if rnd_i + 1 < a.rounds:
                report(rnd_i + 1)
            continue
        for tool in order:
            repo = fresh_repo(tool, "small")
            evict(small)
            tools[tool].backup(repo, small)
            record("no-change 100k files", tool, tools[tool].backup(repo, small))
        targets = []
        for tool in order:
            t, target = restore(tool, "small", keep=True)
            restored = sum(len(f) for _, _, f in os.walk(target))
            if restored != 100000:
                sys.exit("%s restored %d of 100000 small files" % (tool, restored))
            record("restore 100k files", tool, t)
            # Kept until all restores are done: for some seconds after deleting
            # 100k files, ext4 scans past their inodes on every create
            # (recently_deleted), which would slow down the next tool's restore.
            targets.append(target)
        for target in targets:
            shutil.rmtree(target, ignore_errors=True)
        print("round %d done, load %.2f" % (rnd_i + 1, os.getloadavg()[0]), flush=True)
        if rnd_i + 1 < a.rounds:
            report(rnd_i + 1)  # so far, in case the run is cut short

    report(a.rounds)

if __name__ == "__main__":
    main()
