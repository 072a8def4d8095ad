#!/usr/bin/env python3
"""Benchmark of the operator at scale: N BackupConfigurations (each with its
PVC and Deployment, all on one Repository) on one `stash server` with the
embedded operator and node, every one on the same schedule so that all N
CronJobs fire at the same tick.

Measures
  - setup: time until every BackupConfiguration is Ready with its CronJob;
  - delay from each cron tick to its BackupSession (as seen by a watcher:
    p50/p99/max), over --ticks ticks;
  - the server's memory (VmRSS; VmHWM is the peak) when idle and under the
    ticks, and how many processes the node runs.

Usage: bench/bench_operator.py [--stash build/bin/stash] [--count 1000]
           [--replicas 0] [--period 30] [--ticks 2] [--trigger-processes]
Run it with and without --trigger-processes: by default the node runs each
CronJob tick's create-backupsession in process (with the CronJob's
ServiceAccount token); --trigger-processes starts a `stash
create-backupsession` process per tick, as a Kubernetes node would.
With --replicas 0 (the default) no sidecar runs: the sessions stay Pending,
so the figures are the operator's and the trigger's alone. With replicas,
each pod runs a sidecar process that backs up at every tick (mind the cores).
Not a test: prints a table.
"""
import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from scale_objects import Api, workload  # noqa: E402

NS = "bench"


def rss_kib(pid, field="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    """Descendants of pid (the node's processes)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.environ.get("STASH_BIN", "build/bin/stash"))
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--replicas", type=int, default=0)
    ap.add_argument("--period", type=int, default=30, help="seconds between ticks (divides 60)")
    ap.add_argument("--ticks", type=int, default=2)
    ap.add_argument("--log", help="write the server's log here")
    ap.add_argument("--trigger-processes", action="store_true",
                    help="pass --trigger-processes to the server (a process per tick)")
    ap.add_argument("--settle", type=float, default=10,
                    help="seconds after all are Ready before measuring idle")
    args = ap.parse_args()
    os.environ["STASH_BIN"] = os.path.abspath(args.stash)
    from operator_env import OperatorServer  # after STASH_BIN is set

    server = OperatorServer()
    if args.trigger_processes:
        server.extra_args = ["--trigger-processes"]
    server.start()
    try:
        run(server, args)
    finally:
        if args.log:
            with open(args.log, "w") as f:
                f.writelines(server.stderr_lines)
        server.cleanup()


def run(server, args):
    pid = server.proc.pid
    api = Api(server)
    repo_dir = tempfile.mkdtemp(prefix="stash-bench-repo-")
    schedule = "*/%d * * * * *" % args.period
    api.call("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    api.call("POST", "/api/v1/namespaces/%s/secrets" % NS,
             {"metadata": {"name": "secret"}, "stringData": {"RESTIC_PASSWORD": "bench"}})
    api.call("POST", "/apis/stash.appscode.com/v1alpha1/namespaces/%s/repositories" % NS,
             {"metadata": {"name": "repo"},
              "spec": {"backend": {"local": {"mountPath": "/repo",
                                             "hostPath": {"path": repo_dir}},
                                   "storageSecretName": "secret"}}})
    rss0 = rss_kib(pid)
    t0 = time.time()
    for i in range(args.count):
        for path, obj in workload(NS, "app-%04d" % i, schedule, args.replicas):
            st, body = api.call("POST", path, obj)
            assert st == 201, (st, body)
    created = time.time() - t0

    def ready_count():
        st, body = api.call("GET", "/apis/stash.appscode.com/v1beta1/namespaces/%s/"
                            "backupconfigurations" % NS)
        n = sum(1 for b in body["items"] if b.get("status", {}).get("phase") == "Ready")
        st, cjs = api.call("GET", "/apis/batch/v1/namespaces/%s/cronjobs" % NS)
        return min(n, len(cjs["items"]))
    while True:
        n = ready_count()
        if n >= args.count:
            break
        if os.environ.get("BENCH_TRACE"):
            print("%.1f s: %d Ready" % (time.time() - t0, n), file=sys.stderr)
        if time.time() - t0 > 1800:
            sys.exit("BackupConfigurations not Ready after 30 min: %d" % n)
        time.sleep(1)
    ready = time.time() - t0
    time.sleep(args.settle)  # let the last reconciles settle
    idle_rss = rss_kib(pid)
    idle_cpu = cpu_seconds(pid)
    time.sleep(10)
    idle_cpu = (cpu_seconds(pid) - idle_cpu) / 10.0

    # Watch sessions from now on.
    st, lst = api.call("GET", "/apis/stash.appscode.com/v1beta1/namespaces/%s/backupsessions" % NS)
    rv = lst["metadata"]["resourceVersion"]
    seen = {}
    stop = threading.Event()

    def watch():
        conn = http.client.HTTPSConnection("127.0.0.1", server.port,
                                           context=server.ssl_context(), timeout=600)
        conn.request("GET", "/apis/stash.appscode.com/v1beta1/namespaces/%s/backupsessions"
                     "?watch=1&resourceVersion=%s" % (NS, rv), headers=api.hdrs)
        r = conn.getresponse()
        buf = b""
        while not stop.is_set():
            try:
                chunk = r.read1(65536)
            except (OSError, http.client.HTTPException):
                break  # the server is going away
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                ev = json.loads(line)
                if ev["type"] == "ADDED":
                    seen.setdefault(ev["object"]["metadata"]["name"], time.time())
    threading.Thread(target=watch, daemon=True).start()

    now = time.time()
    first_tick = (int(now) // args.period + 1) * args.period
    if first_tick - now < 2:
        first_tick += args.period
    ticks = [first_tick + k * args.period for k in range(args.ticks)]
    peak_rss, peak_procs = 0, 0
    end = ticks[-1] + args.period - 1
    while time.time() < end:
        peak_rss = max(peak_rss, rss_kib(pid))
        peak_procs = max(peak_procs, len(children(pid)))
        time.sleep(0.2)
    stop.set()
    hwm = rss_kib(pid, "VmHWM")

    delays = []
    per_tick = {t: 0 for t in ticks}
    for name, at in seen.items():
        tick = max((t for t in ticks if t <= at), default=None)
        if tick is None:
            continue
        per_tick[tick] += 1
        delays.append(at - tick)
    kids = children(pid)
    kid_rss = sum(rss_kib(k) for k in kids)

    print()
    print("stash operator benchmark: %d BackupConfigurations (Deployment replicas %d), "
          "schedule %r, %d ticks" % (args.count, args.replicas, schedule, args.ticks))
    print("%-44s %s" % ("setup: create PVC+Deployment+BC (API)", "%.1f s" % created))
    print("%-44s %s" % ("setup: all BackupConfigurations Ready", "%.1f s" % ready))
    for t in ticks:
        print("%-44s %d / %d" % ("sessions from tick %s" % time.strftime("%H:%M:%S",
                                                                        time.gmtime(t)),
                                 per_tick[t], args.count))
    print("%-44s p50 %.2f s  p99 %.2f s  max %.2f s" % (
        "tick -> BackupSession (watch)", pct(delays, 50), pct(delays, 99),
        max(delays) if delays else float("nan")))
    print("%-44s %.1f MiB" % ("server RSS, empty", rss0 / 1024.0))
    print("%-44s %.1f MiB  (CPU %.0f%% of a core)" % ("server RSS, idle with N BCs",
                                                       idle_rss / 1024.0, idle_cpu * 100))
    print("%-44s %.1f MiB  (VmHWM %.1f MiB)" % ("server RSS, peak under ticks", peak_rss / 1024.0,
                                                 hwm / 1024.0))
    print("%-44s %d (peak %d); their RSS now %.1f MiB" % ("node processes now", len(kids),
                                                         peak_procs, kid_rss / 1024.0))
    shutil.rmtree(repo_dir, ignore_errors=True)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
