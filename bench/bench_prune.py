#!/usr/bin/env python3
"""prune that repacks: stash vs restic 0.14 (and optionally a baseline stash build), same data.

Each tool backs up a tree (v1), then the tree with half its files replaced (v2), forgets the
first snapshot and prunes with --max-unused 0, so every pack of v1 is partly used and repacked:
half of its blobs are copied into new packs, the rest dropped. Only the prune is timed. Two data
sets: incompressible (random) and compressible (a tar of /usr/lib), --size-mib each.

Page cache: both repositories are evicted before every prune. Every measurement is taken
--rounds times, tools rotating which goes first; the table shows medians with their range, the
speedup against restic and, with --baseline, against the baseline build (for before/after
comparisons of a change).

Usage: bench/bench_prune.py [--stash build/bin/stash] [--baseline OTHER/bin/stash]
                            [--dir /tmp/stash-bench-prune] [--size-mib 512] [--rounds 3]
Not part of the test suite: it takes minutes and wants an otherwise idle machine.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_backup import PASSWORD, du, evict, sh  # noqa: E402

FILE_MIB = 4


def make_sets(d, size_mib):
    """Three file sets of size_mib/2 each (A, B, C) per kind; v1 = A+B, v2 = B+C."""
    store = os.path.join(d, "store")
    n = max(2, size_mib // FILE_MIB // 2)
    if not os.path.exists(store):
        os.makedirs(store)
        tar = os.path.join(d, "usrlib.tar")
        subprocess.run("tar cf - /usr/lib 2>/dev/null | head -c %d > %s"
                       % (3 * n * FILE_MIB << 20, tar), shell=True, check=True)
        with open("/dev/urandom", "rb") as rnd, open(tar, "rb") as t:
            for s in "ABC":
                for i in range(n):
                    with open(os.path.join(store, "random-%s%03d" % (s, i)), "wb") as f:
                        f.write(rnd.read(FILE_MIB << 20))
                    with open(os.path.join(store, "tar-%s%03d" % (s, i)), "wb") as f:
                        f.write(t.read(FILE_MIB << 20))
    return store, n


def tree(d, store, kind, sets, n):
    """A directory of hard links to the store's files of `sets` (cheap, stable inodes)."""
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for s in sets:
        for i in range(n):
            name = "%s-%s%03d" % (kind, s, i)
            os.link(os.path.join(store, name), os.path.join(d, name))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.path.join(here, "..", "build", "bin", "stash"))
    ap.add_argument("--baseline", help="another stash binary to compare with (before/after)")
    ap.add_argument("--restic", default=shutil.which("restic") or "restic")
    ap.add_argument("--dir", default="/tmp/stash-bench-prune")
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    store, n = make_sets(os.path.join(a.dir, "data"), a.size_mib)
    env = dict(os.environ, RESTIC_PASSWORD=PASSWORD, GOMAXPROCS="2",
               TMPDIR=os.path.join(a.dir, "tmp"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    tools = {"restic": [a.restic, "--no-cache"], "stash": [os.path.abspath(a.stash)]}
    if a.baseline:
        tools["baseline"] = [os.path.abspath(a.baseline)]
    results = {}  # workload -> tool -> [(seconds, RSS MiB)]
    after = {}    # workload -> tool -> repository bytes after prune
    src = os.path.join(a.dir, "src")

    def run(tool, repo, *args):
        subprocess.run([*tools[tool], "-r", repo, *args], env=env, check=True,
                       capture_output=True)

    for rnd_i in range(a.rounds):
        names = list(tools)
        order = names[rnd_i % len(names):] + names[:rnd_i % len(names)]
        for kind in ("random", "tar"):
            repos = {}
            for tool in order:
                repo = os.path.join(a.dir, "repos", "%s-%s" % (tool, kind))
                shutil.rmtree(repo, ignore_errors=True)
                run(tool, repo, "init", "-q")
                tree(src, store, kind, "AB", n)
                run(tool, repo, "backup", "-q", "--host", "h", "--compression", "auto", src)
                out = subprocess.run([*tools[tool], "-r", repo, "snapshots", "--json"], env=env,
                                     check=True, capture_output=True).stdout
                first = json.loads(out)[0]["id"]
                tree(src, store, kind, "BC", n)
                run(tool, repo, "backup", "-q", "--host", "h", "--compression", "auto", src)
                run(tool, repo, "forget", first)
                repos[tool] = repo
            for tool in order:
                for r in repos.values():
                    evict(r)
                results.setdefault("prune " + kind, {}).setdefault(tool, []).append(
                    sh([*tools[tool], "-r", repos[tool], "prune", "--max-unused", "0"], env))
                after.setdefault(kind, {})[tool] = du(repos[tool])
        print("round %d done" % (rnd_i + 1), flush=True)

    for kind, sizes in after.items():
        print("%s: repository after prune: %s" % (kind, ", ".join(
            "%s %.1f MiB" % (t, b / 2**20) for t, b in sizes.items())))
    print("\nmedian of %d rounds (min-max), seconds; speedup = other / stash; RSS: the highest"
          % a.rounds)
    cols = list(tools)
    print("%-14s" % "workload" + "".join("%20s" % (t + " s") for t in cols)
          + "".join("%12s" % ("vs " + t) for t in cols if t != "stash")
          + "".join("%10s" % (t + " RSS") for t in cols))
    for workload, res in results.items():
        med = {t: statistics.median(x[0] for x in res[t]) for t in cols}
        line = "%-14s" % workload
        for t in cols:
            ts = [x[0] for x in res[t]]
            line += "%20s" % ("%.2f (%.2f-%.2f)" % (med[t], min(ts), max(ts)))
        for t in cols:
            if t != "stash":
                line += "%11.2fx" % (med[t] / med["stash"])
        for t in cols:
            line += "%9.0fM" % max(x[1] for x in res[t])
        print(line)


if __name__ == "__main__":
    main()
