#!/usr/bin/env python3
"""`kubectl get snapshots` against a Repository with many snapshots (issue 14:
1,000 snapshots must list in under 1 s).

Builds a local repository with --snapshots snapshots (stash backups of a tiny
directory, 10 hosts, in parallel), serves it through `stash server`
(--no-operator: only the API) as the Repository `bench-repo`, and times, in
the same rounds, alternating:
  - `kubectl get snapshots -n demo` (the first call opens the repository and
    reads every snapshot file; later calls read only new ones),
  - the same with `-l repository=bench-repo,hostname=host-3`,
  - `restic snapshots --json` and `stash snapshots --json` on the repository
    (what Stash itself runs for each request).
Prints medians and ranges; not a test.

Usage: bench/bench_snapshots.py [--stash build/bin/stash] [--snapshots 1000] [--rounds 5]
                                [--repo DIR (kept, reused when it exists)]
"""
import argparse
import concurrent.futures
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
PASSWORD = "bench-password"


def timed(cmd, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr[-2000:]))
    return took, r.stdout


def build_repo(stash, repo, count, workers):
    env = dict(os.environ, RESTIC_PASSWORD=PASSWORD, STASH_TEST_SCRYPT_N="1024")
    subprocess.run([stash, "-r", repo, "init"], check=True, capture_output=True, env=env)
    src = tempfile.mkdtemp(prefix="stash-bench-src-")
    with open(os.path.join(src, "data.txt"), "w") as f:
        f.write("sample_data\n")

    def one(i):
        r = subprocess.run([stash, "-r", repo, "backup", "--host", "host-%d" % (i % 10), "--tag",
                            "n%d" % i, "--time", "2024-01-01 00:%02d:%02d" % (i // 60 % 60,
                                                                               i % 60), src],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        list(ex.map(one, range(count)))
    print("built %d snapshots in %.1f s" % (count, time.perf_counter() - t0), file=sys.stderr)


def stats(xs):
    return "median %.3f s (min %.3f, max %.3f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.environ.get("STASH_BIN", "build/bin/stash"))
    ap.add_argument("--snapshots", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--repo", help="use (and keep) this repository directory; built when missing")
    args = ap.parse_args()
    stash = os.path.abspath(args.stash)
    os.environ["STASH_BIN"] = stash
    from test_api_server import ApiServer, KUBECTL  # after STASH_BIN is set

    tmp = tempfile.mkdtemp(prefix="stash-bench-snapshots-")
    repo = os.path.abspath(args.repo) if args.repo else os.path.join(tmp, "repo")
    if not os.path.exists(os.path.join(repo, "config")):
        build_repo(stash, repo, args.snapshots, args.workers)
    server = ApiServer().start()
    try:
        kc = server.kubectl
        kc("create", "ns", "demo")
        kc("create", "secret", "generic", "-n", "demo", "bench-secret",
           "--from-literal=RESTIC_PASSWORD=" + PASSWORD)
        kc("apply", "-f", "-", input=(
            "apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
            "  name: bench-repo\n  namespace: demo\nspec:\n  backend:\n    local:\n"
            "      mountPath: /repo\n      hostPath:\n        path: %s\n"
            "    storageSecretName: bench-secret\n" % repo))
        kenv = server.env()
        first, out = timed([KUBECTL, "get", "snapshots", "-n", "demo"], kenv)
        rows = len(out.splitlines()) - 1
        assert rows == args.snapshots, (rows, out[-500:])
        print("first kubectl get snapshots (opens the repository, reads %d snapshot files): "
              "%.3f s" % (rows, first))
        renv = dict(os.environ, RESTIC_PASSWORD=PASSWORD)
        cols = {"kubectl get snapshots": [], "kubectl get snapshots -l repo,host": [],
                "kubectl get ns (baseline)": [], "restic snapshots --json": [],
                "stash snapshots --json": []}
        for _ in range(args.rounds):
            cols["kubectl get ns (baseline)"].append(timed([KUBECTL, "get", "ns"], kenv)[0])
            cols["kubectl get snapshots"].append(
                timed([KUBECTL, "get", "snapshots", "-n", "demo"], kenv)[0])
            cols["kubectl get snapshots -l repo,host"].append(timed(
                [KUBECTL, "get", "snapshots", "-n", "demo", "-l",
                 "repository=bench-repo,hostname=host-3"], kenv)[0])
            if shutil.which("restic"):
                cols["restic snapshots --json"].append(timed(
                    ["restic", "--no-cache", "-r", repo, "snapshots", "--json"], renv)[0])
            cols["stash snapshots --json"].append(
                timed([stash, "-r", repo, "snapshots", "--json"], renv)[0])
        print("%d snapshots, %d rounds, load %s" % (args.snapshots, args.rounds,
                                                    os.getloadavg()[0]))
        for k, v in cols.items():
            if v:
                print("  %-36s %s" % (k, stats(v)))
        base = statistics.median(cols["kubectl get snapshots"])
        if cols["restic snapshots --json"]:
            print("  restic snapshots / kubectl get snapshots: %.2fx" %
                  (statistics.median(cols["restic snapshots --json"]) / base))
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
