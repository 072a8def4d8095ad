#!/usr/bin/env python3
"""Soak of `stash server`: create/update/delete traffic plus watches for a long
time, sampling the server's RSS, database size and descriptors every minute.

With compaction every --compaction-interval (kube-apiserver's default 5m) the
watch history, memory and database must go flat after the first compaction
window; a growing column is a leak. Not part of the test suite.

  bench/soak_api.py --stash build/bin/stash --minutes 30

Prints one row per sample and a summary comparing the last samples with the
first ones after the first compaction window.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time


class Server:
    def __init__(self, stash, data_dir, compaction, operator):
        args = [stash, "server", "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                "--compaction-interval", compaction]
        if not operator:
            args.append("--no-operator")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.data_dir = data_dir
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("stash server exited")
            if "serving the Kubernetes API on " in line:
                self.port = int(line.strip().rsplit(":", 1)[-1])
            if line.startswith("export KUBECONFIG="):
                break
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        with open(os.path.join(data_dir, "token")) as f:
            self.token = f.read().strip()
        self.ctx = ssl.create_default_context(cafile=os.path.join(data_dir, "ca.crt"))

    def conn(self, timeout=60):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                           timeout=timeout)

    def headers(self, ct="application/json"):
        return {"Authorization": "Bearer " + self.token, "Content-Type": ct,
                "Accept": "application/json"}

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0

    def db_mb(self):
        return sum(os.path.getsize(os.path.join(self.data_dir, f))
                   for f in os.listdir(self.data_dir) if f.startswith("state.db")) / 2**20

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.writes = 0
        self.errors = 0
        self.events = 0
        self.relists = 0

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)


def writer(server, ns, stop, counters, seed):
    rng = random.Random(seed)
    conn = server.conn()
    live = []
    base = f"/api/v1/namespaces/{ns}"
    while not stop.is_set():
        kind = rng.choice(["configmaps", "configmaps", "secrets"])
        size = rng.choice([200, 2000, 20000, 200000])
        try:
            if live and rng.random() < 0.45:
                kind_, name = live.pop(rng.randrange(len(live)))
                conn.request("DELETE", f"{base}/{kind_}/{name}", headers=server.headers())
            elif live and rng.random() < 0.5:
                kind_, name = rng.choice(live)
                field = "data" if kind_ == "configmaps" else "stringData"
                body = {field: {"v": os.urandom(size // 2).hex()[:size]}}
                conn.request("PATCH", f"{base}/{kind_}/{name}", body=json.dumps(body),
                             headers=server.headers("application/merge-patch+json"))
            else:
                name = f"soak-{seed}-{rng.randrange(10**9)}"
                field = "data" if kind == "configmaps" else "stringData"
                body = {"apiVersion": "v1", "kind": "Secret" if kind == "secrets" else "ConfigMap",
                        "metadata": {"name": name, "labels": {"soak": "yes"}},
                        field: {"v": os.urandom(size // 2).hex()[:size]}}
                conn.request("POST", f"{base}/{kind}", body=json.dumps(body),
                             headers=server.headers())
                live.append((kind, name))
            resp = conn.getresponse()
            resp.read()
            counters.add(writes=1, errors=int(resp.status >= 300))
            if len(live) > 200:
                kind_, name = live.pop(0)
                conn.request("DELETE", f"{base}/{kind_}/{name}", headers=server.headers())
                conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            counters.add(errors=1)
            conn = server.conn()


def watcher(server, path, stop, counters):
    """A client-go style watch: list, then watch from the list's resourceVersion,
    resume from the last event seen, relist on 410."""
    rv = None
    while not stop.is_set():
        try:
            conn = server.conn(timeout=120)
            if rv is None:
                conn.request("GET", path, headers=server.headers())
                resp = conn.getresponse()
                rv = json.loads(resp.read())["metadata"]["resourceVersion"]
                counters.add(relists=1)
            conn.request("GET", f"{path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=60"
                         f"&resourceVersion={rv}", headers=server.headers())
            resp = conn.getresponse()
            for line in resp:
                if stop.is_set():
                    break
                event = json.loads(line)
                if event["type"] == "ERROR":
                    rv = None  # 410: relist
                    break
                rv = event["object"]["metadata"]["resourceVersion"]
                counters.add(events=1)
            conn.close()
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            time.sleep(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stash", default="build/bin/stash")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--compaction-interval", default="5m")
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--watchers", type=int, default=8)
    ap.add_argument("--sample-seconds", type=float, default=60)
    ap.add_argument("--operator", action="store_true", help="run the operator and node too")
    args = ap.parse_args()

    data_dir = tempfile.mkdtemp(prefix="stash-soak-")
    server = Server(os.path.abspath(args.stash), data_dir, args.compaction_interval, args.operator)
    stop = threading.Event()
    counters = Counters()
    threads = []
    for ns in ("soak-a", "soak-b"):
        c = server.conn()
        c.request("POST", "/api/v1/namespaces", headers=server.headers(),
                  body=json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": ns}}))
        c.getresponse().read()
    for i in range(args.writers):
        threads.append(threading.Thread(target=writer, daemon=True,
                                        args=(server, ("soak-a", "soak-b")[i % 2], stop, counters,
                                              i)))
    paths = ["/api/v1/configmaps", "/api/v1/secrets", "/api/v1/namespaces/soak-a/configmaps",
             "/api/v1/namespaces/soak-b/secrets"]
    for i in range(args.watchers):
        threads.append(threading.Thread(target=watcher, daemon=True,
                                        args=(server, paths[i % len(paths)], stop, counters)))
    for t in threads:
        t.start()

    print(f"soak: {args.minutes} min, {args.writers} writers, {args.watchers} watchers, "
          f"compaction every {args.compaction_interval}, load {os.getloadavg()[0]:.1f}",
          flush=True)
    print(f"{'min':>5} {'RSS MB':>8} {'DB MB':>8} {'fds':>5} {'writes':>8} {'errors':>7} "
          f"{'events':>9} {'relists':>8} {'load':>5}", flush=True)
    samples = []
    start = time.monotonic()
    end = start + args.minutes * 60
    try:
        while True:
            now = time.monotonic()
            row = ((now - start) / 60, server.rss_mb(), server.db_mb(), server.fds(),
                   counters.writes, counters.errors, counters.events, counters.relists,
                   os.getloadavg()[0])
            samples.append(row)
            print(f"{row[0]:5.1f} {row[1]:8.1f} {row[2]:8.1f} {row[3]:5d} {row[4]:8d} {row[5]:7d} "
                  f"{row[6]:9d} {row[7]:8d} {row[8]:5.1f}", flush=True)
            if server.proc.poll() is not None:
                print("soak: the server exited", flush=True)
                return 1
            if now >= end:
                break
            time.sleep(min(args.sample_seconds, max(0.0, end - now)))
    finally:
        stop.set()
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    interval_min = {"s": 1 / 60, "m": 1, "h": 60}[args.compaction_interval[-1]] * \
        float(args.compaction_interval[:-1] or 0)
    settled = [s for s in samples if s[0] >= 2 * interval_min] or samples
    first, last = settled[0], samples[-1]
    peak_rss = max(s[1] for s in settled)
    peak_db = max(s[2] for s in settled)
    print(f"after the first compaction window ({2 * interval_min:.0f} min): RSS {first[1]:.1f} -> "
          f"{last[1]:.1f} MB (peak {peak_rss:.1f}), DB {first[2]:.1f} -> {last[2]:.1f} MB "
          f"(peak {peak_db:.1f}); {last[4]} writes, {last[6]} watch events, "
          f"{last[5]} errors", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
