#!/usr/bin/env python3
"""One scheduled BackupSession of the Pause Backup guide, timed: the guide's
Deployment (3 replicas, one sidecar backs up) and BackupConfiguration on
`stash server` with the embedded operator and node, a volume of --sizes
random bytes, and a Repository on a hostPath directory (local) or on
moto_server (s3). For each binary given with --stash (e.g. main's build and
this one) and each case, rounds alternate the binaries; each round measures
the first scheduled session (repository init + full backup + forget/prune
+ check + stats) and the next one (nothing changed: an incremental backup).

Per session
  - wall: the host's backup duration the sidecar records (status.targets[0]
    .stats[0].duration: from its start on the session to the end of the
    repository size), and the time from the session's creation until it is
    seen Succeeded (polled every 50 ms);
  - cpu: user+system seconds of the sidecar processes and every process they
    waited for (/proc/<pid>/stat utime+stime+cutime+cstime), over the session.
  - procs: `stash` processes the sidecars started (count of children seen).

Usage: bench/bench_sidecar_session.py --stash /tmp/stash-before --stash build/bin/stash
           [--sizes 1M,1G] [--backends local,s3] [--rounds 3]
Prints medians (min..max) per binary and case and the ratio after/before.
Not a test.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import peerlib  # noqa: E402
from isolate import podman_leftovers  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
SEED = os.path.join(HERE, "..", "tests", "integration", "data", "seed")
SCHEDULE_PERIOD = 20  # seconds between ticks: room for a 1 GiB backup on a loaded machine


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def proc_stat(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), sum(int(x) for x in fields[11:15])  # ppid, ticks incl. children
    except (OSError, ValueError, IndexError):
        return None


def sidecars(root):
    """pid -> cpu ticks of every `run-backup` process (the sidecars) under the
    process `root` (this bench's server: another user's sidecars on the same
    machine are not counted)."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        st = proc_stat(int(d))
        if st:
            procs[int(d)] = (st[0], st[1], b"run-backup" in argv)

    def under_root(pid):
        seen = set()
        while pid in procs and pid not in seen:
            if pid == root:
                return True
            seen.add(pid)
            pid = procs[pid][0]
        return pid == root

    return {pid: ticks for pid, (_, ticks, sidecar) in procs.items()
            if sidecar and under_root(pid)}


def child_stash_processes(parents):
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st and st[0] in parents:
                n += 1
    return n


class Env:
    def __init__(self, stash, backend, size, moto):
        self.stash, self.backend, self.size, self.moto = stash, backend, size, moto
        self.dir = tempfile.mkdtemp(prefix="stash-bench-session-")
        self.server = None

    def kubectl(self, *args, input=None, check=True):
        r = subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, *args], input=input,
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("kubectl %s: %s" % (" ".join(args), r.stderr))
        return r

    def start(self):
        self.server = subprocess.Popen(
            [self.stash, "server", "--data-dir", self.dir + "/data", "--listen", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in self.server.stderr:
            if line.startswith("export KUBECONFIG="):
                self.kubeconfig = line.strip().split("=", 1)[1]
                break
        threading.Thread(target=lambda: self.server.stderr.read(), daemon=True).start()
        pw = os.path.join(self.dir, "RESTIC_PASSWORD")
        with open(pw, "w") as f:
            f.write("changeit")
        self.kubectl("create", "ns", "demo")
        args = ["create", "secret", "generic", "-n", "demo", "gcs-secret",
                "--from-file=RESTIC_PASSWORD=" + pw]
        if self.backend == "s3":
            args += ["--from-literal=AWS_ACCESS_KEY_ID=bench", "--from-literal=AWS_SECRET_ACCESS_KEY=x"]
        self.kubectl(*args)
        with open(os.path.join(SEED, "deployment.yaml")) as f:
            self.kubectl("apply", "-f", "-", input=f.read())
        pvc = os.path.join(self.dir, "data", "node", "volumes", "demo", "source-pvc")
        deadline = time.time() + 60
        while not os.path.isdir(pvc) and time.time() < deadline:
            time.sleep(0.1)
        with open(os.path.join(pvc, "data.bin"), "wb") as f:
            left = self.size
            while left > 0:
                n = min(left, 8 << 20)
                f.write(os.urandom(n))
                left -= n
        if self.backend == "local":
            backend = ("    local:\n      mountPath: /safe/data\n      hostPath:\n"
                       "        path: %s\n" % os.path.join(self.dir, "repo"))
        else:
            backend = ("    s3:\n      endpoint: http://127.0.0.1:%d\n      bucket: bench%d\n"
                       "      prefix: /guide\n" % (self.moto.port, os.getpid()))
        self.kubectl("apply", "-f", "-", input=(
            "apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
            "  name: gcs-repo\n  namespace: demo\nspec:\n  backend:\n" + backend +
            "    storageSecretName: gcs-secret\n"))
        with open(os.path.join(SEED, "backupconfiguration.yaml")) as f:
            bc = f.read().replace('"*/5 * * * *"', '"*/%d * * * * *"' % SCHEDULE_PERIOD)
        self.kubectl("apply", "-f", "-", input=bc)

    def sessions(self):
        r = self.kubectl("get", "backupsession", "-n", "demo", "-o", "json", check=False)
        return json.loads(r.stdout)["items"] if r.returncode == 0 else []

    def measure(self, count=2, timeout=1800):
        """The next `count` sessions: list of dicts."""
        results, seen = [], set(s["metadata"]["name"] for s in self.sessions())
        deadline = time.time() + timeout
        while len(results) < count and time.time() < deadline:
            fresh = [s for s in self.sessions() if s["metadata"]["name"] not in seen]
            if not fresh:
                time.sleep(0.05)
                continue
            name = fresh[0]["metadata"]["name"]
            seen.add(name)
            cpu0, t0, procs = sidecars(self.server.pid), time.monotonic(), 0
            while time.time() < deadline:
                procs = max(procs, child_stash_processes(set(cpu0)))
                s = [x for x in self.sessions() if x["metadata"]["name"] == name]
                phase = s[0].get("status", {}).get("phase") if s else None
                if phase in ("Succeeded", "Failed"):
                    break
                time.sleep(0.05)
            seen_after = time.monotonic() - t0
            cpu1 = sidecars(self.server.pid)
            ticks = sum(cpu1.get(p, c) - c for p, c in cpu0.items())
            host = s[0]["status"]["targets"][0]["stats"][0]
            results.append({"phase": phase, "duration": go_seconds(host.get("duration", "0s")),
                            "seen": seen_after, "cpu": ticks / CLK_TCK, "procs": procs})
        return results

    def stop(self):
        if self.server:
            self.server.terminate()
            try:
                self.server.wait(30)
            except subprocess.TimeoutExpired:
                self.server.kill()
        # A node's containers outlive it by design (a restarted node adopts
        # them); nothing will restart this one.
        podman_leftovers(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


def go_seconds(text):
    total, num = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "µs": 1e-6, "us": 1e-6}
    i = 0
    while i < len(text):
        c = text[i]
        if c.isdigit() or c == ".":
            num += c
            i += 1
            continue
        unit = text[i:i + 2] if text[i:i + 2] in units else c
        total += float(num) * units[unit]
        num, i = "", i + len(unit)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", action="append", required=True)
    ap.add_argument("--sizes", default="1M,1G")
    ap.add_argument("--backends", default="local,s3")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    moto_dir = tempfile.mkdtemp(prefix="stash-bench-moto-")
    moto = peerlib.start_moto(moto_dir)
    table = {}
    try:
        for size in a.sizes.split(","):
            for backend in a.backends.split(","):
                for r in range(a.rounds):
                    order = a.stash if r % 2 == 0 else list(reversed(a.stash))
                    for stash in order:
                        env = Env(stash, backend, parse_size(size), moto)
                        try:
                            env.start()
                            first, second = env.measure(2)
                        finally:
                            env.stop()
                        for kind, m in (("first", first), ("next", second)):
                            table.setdefault((size, backend, kind, stash), []).append(m)
                        print("%s %s round %d %s: first %s / next %s" % (
                            size, backend, r, stash, first, second), file=sys.stderr, flush=True)
    finally:
        moto.stop()
        shutil.rmtree(moto_dir, ignore_errors=True)
    print("%-4s %-5s %-5s %-28s %22s %22s %22s %5s" % ("size", "store", "sess", "binary",
                                                       "wall (sidecar) s", "wall (seen) s",
                                                       "cpu s", "procs"))
    for (size, backend, kind, stash), ms in sorted(table.items()):
        def col(key):
            v = [m[key] for m in ms]
            return "%.2f (%.2f..%.2f)" % (statistics.median(v), min(v), max(v))
        print("%-4s %-5s %-5s %-28s %22s %22s %22s %5d" % (
            size, backend, kind, stash[-28:], col("duration"), col("seen"), col("cpu"),
            max(m["procs"] for m in ms)))
    if len(a.stash) == 2:
        before, after = a.stash
        print("\nratio after/before (medians): wall (sidecar), cpu")
        for (size, backend, kind, stash), ms in sorted(table.items()):
            if stash != after:
                continue
            b = table[(size, backend, kind, before)]
            med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
            print("%-4s %-5s %-5s %.2f %.2f" % (size, backend, kind,
                                                med(ms, "duration") / med(b, "duration"),
                                                med(ms, "cpu") / max(med(b, "cpu"), 1e-3)))


if __name__ == "__main__":
    main()
