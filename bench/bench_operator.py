#!/usr/bin/env python3
"""Benchmark of the operator at scale: N BackupConfigurations (each with its
PVC and Deployment, all on one Repository) on one `stash server` with the
embedded operator and node and its default settings, every one on the same
schedule so that all N CronJobs fire at the same tick.

Measures, each beside issue 18's target:
  - setup: each BackupConfiguration's creation (its POST answered) → Ready
    (seen by a watch): p50/p99/max, and the time until all are Ready;
  - each cron tick → its BackupSessions: every BackupConfiguration must get
    one session per tick (counted from a list of the sessions, so none is
    missed by the watch), and the delay from the tick to each session's
    ADDED event on a watch: p50/p99/max, over --ticks ticks;
  - the server's memory: VmRSS empty, idle with N, the peak under the ticks
    (sampled) and VmHWM, the process's high-water mark;
  - the server's CPU when idle with N (schedules running, between ticks)
    and, with --pause, after every BackupConfiguration is patched
    `spec.paused: true` (the reconciles of that patch settled first): CPU
    seconds over --idle-seconds from /proc/PID/stat.

Usage: bench/bench_operator.py [--stash build/bin/stash] [--count 1000]
           [--replicas 0] [--period 30] [--ticks 2] [--pause] [--idle-seconds 60]
           [--trigger-processes]
--period is the schedule's period in seconds: under 60 it divides 60 ("*/P
* * * * *", stash's seconds field); from 60 on it is whole minutes dividing
60 ("0 */M * * * *"). Pick it longer than the setup takes, so the measured
ticks are real cron ticks of a settled server rather than of one still
creating objects (ticks during the setup still fire and load it).
By default the node runs each CronJob tick's create-backupsession in process
(with the CronJob's ServiceAccount token); --trigger-processes starts a
`stash create-backupsession` process per tick, as a Kubernetes node would.
With --replicas 0 (the default) no sidecar runs: the sessions stay Pending,
so the figures are the operator's and the trigger's alone. With replicas,
each pod runs a sidecar process that backs up at every tick (mind the cores).
Not a test: prints a table (and `uptime`, the machine's load, at its end).
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from scale_objects import Api, workload  # noqa: E402

NS = "bench"
STASH_V1BETA1 = "/apis/stash.appscode.com/v1beta1/namespaces/%s/" % NS

# Issue 18's targets at 10,000 BackupConfigurations.
TARGET_READY_S = 60.0
TARGET_TICK_P99_S = 1.0
TARGET_RSS_MIB = 1024.0


def rss_kib(pid, field="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def schedule_for(period):
    if period < 60:
        if 60 % period:
            sys.exit("--period under 60 must divide 60")
        return "*/%d * * * * *" % period
    if period % 60 or 60 % (period // 60):
        sys.exit("--period from 60 on must be whole minutes dividing 60")
    return "0 */%d * * * *" % (period // 60)


class Watch:
    """A watch of one collection from a resourceVersion, resumed from the last
    event seen when the server ends it; on_event(type, object, arrival time)."""

    def __init__(self, server, api, path, rv, on_event):
        self.server, self.api, self.path, self.rv = server, api, path, rv
        self.on_event = on_event
        self.stop = threading.Event()
        self.restarts = 0
        self.gone = False  # a resume met 410: events were missed
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            conn = http.client.HTTPSConnection("127.0.0.1", self.server.port,
                                               context=self.server.ssl_context(), timeout=3600)
            try:
                conn.request("GET", "%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s" %
                             (self.path, self.rv), headers=self.api.hdrs)
                r = conn.getresponse()
                buf = b""
                while not self.stop.is_set():
                    chunk = r.read1(1 << 20)
                    if not chunk:
                        break
                    buf += chunk
                    now = time.time()
                    *lines, buf = buf.split(b"\n")
                    for line in lines:
                        ev = json.loads(line)
                        if ev["type"] == "ERROR":
                            self.gone = True
                            self.stop.set()
                            break
                        self.rv = ev["object"]["metadata"]["resourceVersion"]
                        if ev["type"] != "BOOKMARK":
                            self.on_event(ev["type"], ev["object"], now)
            except (OSError, http.client.HTTPException):
                pass  # the server ended it: resume
            finally:
                conn.close()
            self.restarts += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.environ.get("STASH_BIN", "build/bin/stash"))
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--replicas", type=int, default=0)
    ap.add_argument("--period", type=int, default=30,
                    help="seconds between ticks: under 60 dividing 60, else whole minutes")
    ap.add_argument("--ticks", type=int, default=2)
    ap.add_argument("--pause", action="store_true",
                    help="then pause every BackupConfiguration and measure the idle CPU")
    ap.add_argument("--idle-seconds", type=float, default=60,
                    help="how long the idle CPU is measured")
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


def row(what, figure, target=""):
    print("%-46s %-42s %s" % (what, figure, target))


def run(server, args):
    pid = server.proc.pid
    api = Api(server, timeout=600)
    repo_dir = tempfile.mkdtemp(prefix="stash-bench-repo-")
    schedule = schedule_for(args.period)
    api.call("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    api.call("POST", "/api/v1/namespaces/%s/secrets" % NS,
             {"metadata": {"name": "secret"}, "stringData": {"RESTIC_PASSWORD": "bench"}})
    api.call("POST", "/apis/stash.appscode.com/v1alpha1/namespaces/%s/repositories" % NS,
             {"metadata": {"name": "repo"},
              "spec": {"backend": {"local": {"mountPath": "/repo",
                                             "hostPath": {"path": repo_dir}},
                                   "storageSecretName": "secret"}}})
    rss0 = rss_kib(pid)

    # Each BackupConfiguration's first Ready, from a watch started before any.
    ready_at, lock = {}, threading.Lock()

    def on_bc(kind, obj, now):
        if obj.get("status", {}).get("phase") == "Ready":
            with lock:
                ready_at.setdefault(obj["metadata"]["name"], now)
    _, lst = api.call("GET", STASH_V1BETA1 + "backupconfigurations")
    bc_watch = Watch(server, api, STASH_V1BETA1 + "backupconfigurations",
                     lst["metadata"]["resourceVersion"], on_bc)

    created_at = {}
    t0 = time.time()
    for i in range(args.count):
        name = "app-%05d" % i
        for path, obj in workload(NS, name, schedule, args.replicas):
            st, body = api.call("POST", path, obj)
            assert st == 201, (st, body)
        created_at[name] = time.time()
        if os.environ.get("BENCH_TRACE") and i % 500 == 499:
            print("%.1f s: %d created, %d Ready" % (time.time() - t0, i + 1, len(ready_at)),
                  file=sys.stderr)
    created = time.time() - t0
    while len(ready_at) < args.count:
        if bc_watch.gone:
            sys.exit("the BackupConfiguration watch met 410 Gone: Ready times unknown")
        if os.environ.get("BENCH_TRACE"):
            print("%.1f s: %d Ready" % (time.time() - t0, len(ready_at)), file=sys.stderr)
        if time.time() - t0 > 3600:
            sys.exit("BackupConfigurations not Ready after 60 min: %d" % len(ready_at))
        time.sleep(1)
    with lock:
        to_ready = [ready_at[n] - created_at[n] for n in created_at]
        all_ready = max(ready_at.values()) - t0
    bc_watch.stop.set()
    time.sleep(args.settle)  # let the last reconciles settle
    idle_rss = rss_kib(pid)
    cpu0 = cpu_seconds(pid)
    t_idle = time.time()
    time.sleep(args.idle_seconds)
    idle_cpu = (cpu_seconds(pid) - cpu0) / (time.time() - t_idle)
    uptime_idle = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    # Watch sessions from now on.
    st, lst = api.call("GET", STASH_V1BETA1 + "backupsessions")
    seen = {}

    def on_session(kind, obj, now):
        if kind == "ADDED":
            seen.setdefault(obj["metadata"]["name"], now)
    watch = Watch(server, api, STASH_V1BETA1 + "backupsessions",
                  lst["metadata"]["resourceVersion"], on_session)

    now = time.time()
    first_tick = (int(now) // args.period + 1) * args.period
    if first_tick - now < 2:
        first_tick += args.period
    ticks = [first_tick + k * args.period for k in range(args.ticks)]
    peak_rss, peak_procs = 0, 0
    end = ticks[-1] + min(args.period - 1, 60)
    while time.time() < end:
        peak_rss = max(peak_rss, rss_kib(pid))
        peak_procs = max(peak_procs, len(children(pid)))
        time.sleep(0.2)
    uptime_ticks = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    watch.stop.set()
    hwm = rss_kib(pid, "VmHWM")

    # Which BackupConfiguration has a session of which tick: from the list
    # (the truth), the delays from the watch.
    st, lst = api.call("GET", STASH_V1BETA1 + "backupsessions")
    per_tick = {t: set() for t in ticks}
    delays = {t: [] for t in ticks}
    unseen = 0
    for s in lst["items"]:
        name = s["metadata"]["name"]
        invoker, secs = name.rsplit("-", 1)
        tick = max((t for t in ticks if t <= int(secs)), default=None)
        if tick is None or int(secs) >= ticks[-1] + args.period:
            continue
        per_tick[tick].add(invoker)
        if name in seen:
            delays[tick].append(seen[name] - tick)
        else:
            unseen += 1

    ready_rows = None
    if args.pause:
        ready_rows = pause_and_measure(server, api, pid, args)

    all_delays = [d for t in ticks for d in delays[t]]
    print()
    print("stash operator benchmark: %d BackupConfigurations (Deployment replicas %d), "
          "schedule %r, %d ticks, %s triggers" % (
              args.count, args.replicas, schedule, args.ticks,
              "process" if args.trigger_processes else "in-process"))
    row("", "figure", "target")
    row("setup: create PVC+Deployment+BC (API)", "%.1f s" % created)
    row("setup: all BackupConfigurations Ready", "%.1f s after the first created" % all_ready)
    row("setup: each BC's creation -> Ready", "p50 %.1f s  p99 %.1f s  max %.1f s" % (
        pct(to_ready, 50), pct(to_ready, 99), max(to_ready)),
        "max <= %.0f s" % TARGET_READY_S)
    for t in ticks:
        d = delays[t]
        row("tick %s: sessions" % time.strftime("%H:%M:%S", time.gmtime(t)),
            "%d / %d; p50 %.2f s  p99 %.2f s  max %.2f s" % (
                len(per_tick[t]), args.count, pct(d, 50), pct(d, 99), max(d) if d else 0),
            "all, p99 <= %.0f s" % TARGET_TICK_P99_S)
    row("tick -> BackupSession, all ticks", "p50 %.2f s  p99 %.2f s  max %.2f s" % (
        pct(all_delays, 50), pct(all_delays, 99), max(all_delays) if all_delays else 0),
        "p99 <= %.0f s" % TARGET_TICK_P99_S)
    if unseen or watch.gone:
        row("sessions not seen by the watch", "%d%s" % (unseen, " (410 Gone)" if watch.gone
                                                       else ""))
    row("server RSS, empty", "%.0f MiB" % (rss0 / 1024.0))
    row("server RSS, idle with N BCs", "%.0f MiB" % (idle_rss / 1024.0),
        "<= %.0f MiB" % TARGET_RSS_MIB)
    row("server CPU, idle with N BCs (schedules on)", "%.1f%% of a core over %.0f s" % (
        idle_cpu * 100, args.idle_seconds))
    row("server RSS, peak under ticks (sampled)", "%.0f MiB" % (peak_rss / 1024.0),
        "<= %.0f MiB" % TARGET_RSS_MIB)
    row("server VmHWM after the ticks", "%.0f MiB" % (hwm / 1024.0),
        "<= %.0f MiB" % TARGET_RSS_MIB)
    kids = children(pid)
    row("node processes now (peak)", "%d (%d); their RSS now %.0f MiB" % (
        len(kids), peak_procs, sum(rss_kib(k) for k in kids) / 1024.0))
    for what, figure in ready_rows or []:
        row(what, figure)
    row("server VmHWM at the end", "%.0f MiB" % (rss_kib(pid, "VmHWM") / 1024.0),
        "<= %.0f MiB" % TARGET_RSS_MIB)
    print("load during the idle measure: %s" % uptime_idle)
    print("load after the ticks:         %s" % uptime_ticks)
    shutil.rmtree(repo_dir, ignore_errors=True)


def pause_and_measure(server, api, pid, args):
    """Pauses every BackupConfiguration, waits until the operator has
    observed every pause, then measures the server's CPU over
    --idle-seconds."""
    t0 = time.time()
    for i in range(args.count):
        st, body = api.call("PATCH", STASH_V1BETA1 + "backupconfigurations/app-%05d" % i,
                            {"spec": {"paused": True}}, "application/merge-patch+json")
        assert st == 200, (st, body)
    patched = time.time() - t0

    def observed():
        _, lst = api.call("GET", STASH_V1BETA1 + "backupconfigurations")
        return sum(1 for b in lst["items"] if b["spec"].get("paused") and
                   b.get("status", {}).get("observedGeneration") == b["metadata"]["generation"])
    while observed() < args.count:
        if time.time() - t0 > 1800:
            sys.exit("pauses not observed after 30 min")
        time.sleep(1)
    settled = time.time() - t0
    time.sleep(args.settle)
    rss = rss_kib(pid)
    cpu0 = cpu_seconds(pid)
    t_idle = time.time()
    time.sleep(args.idle_seconds)
    cpu = (cpu_seconds(pid) - cpu0) / (time.time() - t_idle)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return [("pause: PATCH spec.paused on every BC", "%.1f s" % patched),
            ("pause: every pause observed by the operator", "%.1f s" % settled),
            ("server CPU, all paused, idle", "%.1f%% of a core over %.0f s" % (
                cpu * 100, args.idle_seconds)),
            ("server RSS, all paused, idle", "%.0f MiB" % (rss / 1024.0)),
            ("load during the paused idle measure", load.split("load average:")[-1].strip())]


if __name__ == "__main__":
    main()
