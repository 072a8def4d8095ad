#!/usr/bin/env python3
"""stash vs restic 0.14 on slow stores: S3 (moto_server) and REST (rclone serve
restic), each behind a fixed round trip (bench/delay_proxy.py, default 20 ms),
in one run, medians of --rounds rounds, tools alternating which goes first.

Workloads per store:
  1. first backup of --size-mib MiB of random data (default 1 GiB)
  2. no-change second backup of --files small files (default 100,000)
  3. restore of 1. (the repository is the one 1. wrote)
Both tools use their defaults (restic 0.14: 5 connections per store; stash: 5),
so what shows is how well each keeps requests in flight: at 20 ms a request
that waits for the one before it costs a round trip.

The proxy, not `tc netem`: netem needs the sch_netem kernel module, which
minimal VMs lack; the proxy delays each direction by half the round trip and
streams (it is not stop-and-wait), and both tools go through the same one.

Usage: bench/bench_slowstore.py [--stash build/bin/stash] [--dir /tmp/stash-slowstore]
           [--data /tmp/stash-bench/data] [--size-mib 1024] [--files 100000]
           [--rounds 3] [--rtt-ms 20] [--stores rest,s3]
Needs restic, rclone, moto_server (scripts/setup.sh installs the first two; moto
comes with the test peers). Not part of the test suite.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_backup import PASSWORD, evict, sh  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit("server for port %d exited (%d)" % (port, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit("server on port %d did not start" % port)


def make_small(d, files):
    if os.path.exists(os.path.join(d, "done")):
        return
    shutil.rmtree(d, ignore_errors=True)
    per_dir = 1000
    for i in range((files + per_dir - 1) // per_dir):
        sub = os.path.join(d, "d%04d" % i)
        os.makedirs(sub)
        for j in range(min(per_dir, files - i * per_dir)):
            with open(os.path.join(sub, "f%04d" % j), "w") as f:
                f.write("small file %d/%d\n" % (i, j))
    open(os.path.join(d, "done"), "w").close()


class Stores:
    """rclone and moto, each behind its own delay proxy; restartable per round."""

    def __init__(self, work, rtt_ms, log):
        self.work, self.rtt_ms, self.log = work, rtt_ms, log
        self.procs = []

    def start(self):
        self.stop()
        rest_root = os.path.join(self.work, "rest-root")
        shutil.rmtree(rest_root, ignore_errors=True)
        os.makedirs(rest_root)
        rest, s3 = free_port(), free_port()
        self._spawn(["rclone", "serve", "restic", "--config", "/dev/null", "--addr",
                     "127.0.0.1:%d" % rest, rest_root], rest)
        self._spawn(["moto_server", "-H", "127.0.0.1", "-p", str(s3)], s3)
        self.urls = {}
        for name, port in (("rest", rest), ("s3", s3)):
            front = free_port()
            p = self._spawn([sys.executable, os.path.join(os.path.dirname(__file__),
                                                          "delay_proxy.py"),
                             "--listen", str(front), "--upstream", str(port),
                             "--rtt-ms", str(self.rtt_ms)], front)
            del p
            self.urls[name] = ("rest:http://127.0.0.1:%d/" % front if name == "rest"
                               else "s3:http://127.0.0.1:%d/bench/" % front)

    def _spawn(self, argv, port):
        p = subprocess.Popen(argv, stdout=self.log, stderr=self.log)
        self.procs.append(p)
        wait_port(port, p)
        return p

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin",
                                                    "stash"))
    ap.add_argument("--restic", default=shutil.which("restic") or "restic")
    ap.add_argument("--dir", default="/tmp/stash-slowstore")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rtt-ms", type=float, default=20.0)
    ap.add_argument("--stores", default="rest,s3")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    data = os.path.join(a.dir, "data")
    rnd = os.path.join(data, "random-%d" % a.size_mib)
    if not os.path.exists(rnd):
        os.makedirs(rnd)
        with open("/dev/urandom", "rb") as src, open(os.path.join(rnd, "data.bin"), "wb") as out:
            for _ in range(a.size_mib):
                out.write(src.read(1 << 20))
    small = os.path.join(data, "small-%d" % a.files)
    make_small(small, a.files)
    env = dict(os.environ, RESTIC_PASSWORD=PASSWORD, GOMAXPROCS="2", TZ="UTC",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret",
               TMPDIR=os.path.join(a.dir, "tmp"))
    env.pop("RESTIC_REPOSITORY", None)
    os.makedirs(env["TMPDIR"], exist_ok=True)
    tools = {"restic": [a.restic, "--no-cache"], "stash": [os.path.abspath(a.stash)]}
    log = open(os.path.join(a.dir, "servers.log"), "ab")
    stores = Stores(a.dir, a.rtt_ms, log)
    results = {}
    print("load average at start: %.2f %.2f %.2f; round trip %.0f ms; %d rounds" % (
        *os.getloadavg(), a.rtt_ms, a.rounds), flush=True)

    def record(workload, tool, value):
        results.setdefault(workload, {}).setdefault(tool, []).append(value)

    def run(tool, repo, *args, cwd=None):
        return sh([*tools[tool], "-r", repo, *args], env, cwd=cwd)

    try:
        for rnd_i in range(a.rounds):
            order = list(tools) if rnd_i % 2 == 0 else list(reversed(list(tools)))
            stores.start()  # fresh stores: moto keeps everything in memory
            for store in a.stores.split(","):
                base = stores.urls[store]
                for tool in order:
                    repo = base + tool + "-big"
                    subprocess.run([*tools[tool], "-r", repo, "init", "-q"], env=env, check=True,
                                   capture_output=True)
                    evict(rnd)
                    record("%s backup %d MiB" % (store, a.size_mib), tool,
                           run(tool, repo, "backup", "-q", ".", cwd=rnd))
                for tool in order:
                    target = os.path.join(a.dir, "restore-" + tool)
                    shutil.rmtree(target, ignore_errors=True)
                    record("%s restore %d MiB" % (store, a.size_mib), tool,
                           run(tool, base + tool + "-big", "restore", "-q", "latest", "--target",
                               target))
                    shutil.rmtree(target, ignore_errors=True)
                for tool in order:
                    repo = base + tool + "-small"
                    subprocess.run([*tools[tool], "-r", repo, "init", "-q"], env=env, check=True,
                                   capture_output=True)
                    run(tool, repo, "backup", "-q", ".", cwd=small)
                    record("%s no-change %dk files" % (store, a.files // 1000), tool,
                           run(tool, repo, "backup", "-q", ".", cwd=small))
            print("round %d done, load %.2f" % (rnd_i + 1, os.getloadavg()[0]), flush=True)
    finally:
        stores.stop()

    print("\nload average at end: %.2f %.2f %.2f" % os.getloadavg())
    print("median of %d rounds (min-max); speedup = restic / stash; RSS: the highest" % a.rounds)
    print("%-26s %18s %18s %8s %11s %11s %10s" % ("workload", "restic s", "stash s", "speedup",
                                                 "restic MB/s", "stash MB/s", "RSS r/s MiB"))
    for workload, res in results.items():
        med = {t: statistics.median(x[0] for x in res[t]) for t in tools}
        cols = ["%.2f (%.2f-%.2f)" % (med[t], min(x[0] for x in res[t]),
                                       max(x[0] for x in res[t])) for t in tools]
        mb = a.size_mib * 1.048576
        rates = ["%.0f" % (mb / med[t]) if "MiB" in workload else "-" for t in tools]
        print("%-26s %18s %18s %7.2fx %11s %11s %5.0f/%.0f" % (
            workload, cols[0], cols[1], med["restic"] / med["stash"], rates[0], rates[1],
            max(x[1] for x in res["restic"]), max(x[1] for x in res["stash"])))


if __name__ == "__main__":
    main()
