#!/usr/bin/env python3
"""Big repositories: stash vs restic 0.14, time and peak RSS of each operation.

Two repositories per tool, built and measured in one run:
  many-blobs  --files small unique files (default 2,000,000: one data blob each)
  history     --snapshots snapshots (default 50) of a --tree-gib tree (default 10 GiB)
              of random files, a few MiB of it rewritten between snapshots (as a
              volume changes), so the repository holds the tree plus ~1% per snapshot
On each: the first backup (many-blobs) or the last one (history, with changes),
a no-change backup, restore of one file, `snapshots`, `check`, and `forget
--keep-last N --prune` after a backup that drops a tenth of the tree (so prune has
blobs to delete and packs to repack).

Memory: stash's peak RSS should be at most half of restic's on each, and grow
slower than the repository; the bench prints bytes per indexed blob, the slope of
peak RSS over blob count between --files and --files/4 (--slope).

Data: generated under --dir (check free space first: many-blobs takes ~4 KiB of
disk per file, history ~--tree-gib; each repository about as much again) and
deleted at the end unless --keep. Time: at the defaults this runs for hours on
2 cores; scale with --files/--tree-gib/--snapshots.

Usage: bench/bench_bigrepo.py [--stash build/bin/stash] [--dir /tmp/stash-bigrepo]
           [--files 2000000] [--tree-gib 10] [--snapshots 50] [--only many,history]
           [--slope] [--keep]
Not part of the test suite.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_backup import PASSWORD, evict, sh  # noqa: E402

PER_DIR = 1000
FILE_MIB = 64  # history: files of the tree


def make_many(d, files):
    stamp = os.path.join(d, ".done-%d" % files)
    if os.path.exists(stamp):
        return
    shutil.rmtree(d, ignore_errors=True)
    salt = os.urandom(8).hex()
    for i in range((files + PER_DIR - 1) // PER_DIR):
        sub = os.path.join(d, "d%05d" % i)
        os.makedirs(sub)
        for j in range(min(PER_DIR, files - i * PER_DIR)):
            with open(os.path.join(sub, "f%04d" % j), "w") as f:
                f.write("unique file %s %d/%d\n" % (salt, i, j))
    open(stamp, "w").close()


def make_tree(d, gib):
    stamp = os.path.join(d, ".done-%d" % gib)
    if os.path.exists(stamp):
        return
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    n = gib * 1024 // FILE_MIB
    with open("/dev/urandom", "rb") as src:
        for i in range(n):
            sub = os.path.join(d, "d%02d" % (i % 16))
            os.makedirs(sub, exist_ok=True)
            with open(os.path.join(sub, "f%05d.bin" % i), "wb") as out:
                for _ in range(FILE_MIB):
                    out.write(src.read(1 << 20))
    open(stamp, "w").close()


def mutate_tree(d, rng):
    """Rewrites 1 MiB in each of four files: what a volume's daily churn looks like."""
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if f.endswith(".bin"))
    for path in rng.sample(files, min(4, len(files))):
        with open(path, "r+b") as f:
            f.seek(rng.randrange(FILE_MIB) << 20)
            f.write(os.urandom(1 << 20))


def blob_count(stash, repo, env):
    out = subprocess.run([stash, "-r", repo, "stats", "--mode", "raw-data", "--json"], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out).get("total_blob_count", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin",
                                                    "stash"))
    ap.add_argument("--restic", default=shutil.which("restic") or "restic")
    ap.add_argument("--dir", default="/tmp/stash-bigrepo")
    ap.add_argument("--files", type=int, default=2000000)
    ap.add_argument("--tree-gib", type=int, default=10)
    ap.add_argument("--snapshots", type=int, default=50)
    ap.add_argument("--only", default="many,history")
    ap.add_argument("--slope", action="store_true",
                    help="also measure many-blobs at --files/4 for the bytes-per-blob slope")
    ap.add_argument("--keep", action="store_true", help="keep data and repositories")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    stash = os.path.abspath(a.stash)
    env = dict(os.environ, RESTIC_PASSWORD=PASSWORD, GOMAXPROCS="2", TZ="UTC",
               TMPDIR=os.path.join(a.dir, "tmp"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    tools = {"restic": [a.restic, "--no-cache"], "stash": [stash]}
    rows = []  # (repository, operation, {tool: (s, MiB)}, blobs)
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)

    def run(tool, repo, *args, cwd=None):
        return sh([*tools[tool], "-r", repo, *args], env, cwd=cwd)

    def init(tool, repo):
        # Both repositories are made by restic: its key's scrypt parameters
        # (calibrated to the machine at init) set a memory floor of 16-32 MiB
        # for every command, and they must be the same for both tools.
        shutil.rmtree(repo, ignore_errors=True)
        subprocess.run([*tools["restic"], "-r", repo, "init", "-q"], env=env, check=True,
                       capture_output=True)

    def measure_ops(label, src, repos, one_file, drop_dir, first):
        """first: timed first backup; then no-change, restore of one file,
        snapshots, check, forget --prune after a backup without drop_dir."""
        ops = {}
        for tool, repo in repos.items():
            if first:
                evict(src)
                ops.setdefault("backup", {})[tool] = run(tool, repo, "backup", "-q", ".", cwd=src)
            ops.setdefault("no-change backup", {})[tool] = run(tool, repo, "backup", "-q", ".",
                                                               cwd=src)
            target = os.path.join(a.dir, "restore-one")
            shutil.rmtree(target, ignore_errors=True)
            evict(repo)
            ops.setdefault("restore one file", {})[tool] = run(
                tool, repo, "restore", "-q", "latest", "--target", target, "--include",
                "/" + one_file)
            if not os.path.isfile(os.path.join(target, one_file)):
                sys.exit("%s did not restore %s" % (tool, one_file))
            shutil.rmtree(target, ignore_errors=True)
            ops.setdefault("snapshots", {})[tool] = run(tool, repo, "snapshots", "-q")
            ops.setdefault("check", {})[tool] = run(tool, repo, "check", "-q")
            run(tool, repo, "backup", "-q", "--exclude", drop_dir, ".", cwd=src)
            ops.setdefault("forget --prune", {})[tool] = run(
                tool, repo, "forget", "-q", "--keep-last", "1", "--prune")
        blobs = blob_count(stash, repos["stash"], env)
        for op, res in ops.items():
            rows.append((label, op, res, blobs))
            print("%s %s: %s" % (label, op, res), flush=True)
        return blobs

    sizes = []
    if "many" in a.only:
        counts = [a.files // 4, a.files] if a.slope else [a.files]
        for files in counts:
            src = os.path.join(a.dir, "many-src")
            make_many(src, files)
            repos = {t: os.path.join(a.dir, "repos", "%s-many" % t) for t in tools}
            for t, r in repos.items():
                init(t, r)
            label = "many-blobs %dk files" % (files // 1000)
            blobs = measure_ops(label, src, repos, "d00000/f0000", "d0000*", True)
            sizes.append((label, blobs))
            if not a.keep:
                for r in repos.values():
                    shutil.rmtree(r, ignore_errors=True)
                shutil.rmtree(src, ignore_errors=True)

    if "history" in a.only:
        src = os.path.join(a.dir, "history-src")
        make_tree(src, a.tree_gib)
        rng = random.Random(1)
        repos = {t: os.path.join(a.dir, "repos", "%s-history" % t) for t in tools}
        for t, r in repos.items():
            init(t, r)
        # The history itself is not timed: each tool writes its own
        # snapshots of the same sequence of trees.
        for i in range(a.snapshots - 1):
            for t, r in repos.items():
                subprocess.run([*tools[t], "-r", r, "backup", "-q", "."], env=env, cwd=src,
                               check=True, capture_output=True)
            mutate_tree(src, rng)
        ops = {}
        for t, r in repos.items():
            ops[t] = run(t, r, "backup", "-q", ".", cwd=src)  # the last, with changes
        label = "history %d x %d GiB" % (a.snapshots, a.tree_gib)
        at = len(rows)
        rows.append((label, "backup (changes)", ops, 0))
        one = sorted(os.listdir(os.path.join(src, "d00")))[0]
        blobs = measure_ops(label, src, repos, "d00/" + one, "d00", False)
        rows[at] = (label, "backup (changes)", ops, blobs)
        sizes.append((label, blobs))
        if not a.keep:
            for r in repos.values():
                shutil.rmtree(r, ignore_errors=True)
            shutil.rmtree(src, ignore_errors=True)

    print("\nload average at end: %.2f %.2f %.2f" % os.getloadavg())
    print("%-24s %-18s %9s %9s %8s %11s %10s %7s %13s" % (
        "repository", "operation", "restic s", "stash s", "speedup", "restic MiB", "stash MiB",
        "s/r RSS", "stash B/blob"))
    for label, op, res, blobs in rows:
        (rs, rm), (ss, sm) = res["restic"][:2], res["stash"][:2]
        print("%-24s %-18s %9.2f %9.2f %7.2fx %11.0f %10.0f %7.2f %13.0f" % (
            label, op, rs, ss, rs / ss, rm, sm, sm / rm, sm * 2**20 / blobs if blobs else 0))
    if a.slope and len(sizes) >= 2:
        small = [r for r in rows if r[0] == sizes[0][0]]
        big = [r for r in rows if r[0] == sizes[1][0]]
        print("\ngrowth of peak RSS per added blob (%d -> %d blobs):" % (sizes[0][1], sizes[1][1]))
        for (_, op, r1, b1), (_, _, r2, b2) in zip(small, big):
            print("  %-18s restic %6.0f B/blob  stash %6.0f B/blob" % (
                op, (r2["restic"][1] - r1["restic"][1]) * 2**20 / (b2 - b1),
                (r2["stash"][1] - r1["stash"][1]) * 2**20 / (b2 - b1)))


if __name__ == "__main__":
    main()
