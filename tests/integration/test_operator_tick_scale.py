"""No tick is lost at scale: 200 BackupConfigurations on one schedule.

`stash server` with its defaults (the embedded operator and node, each
CronJob tick's `create-backupsession` run in the node's process on a client
holding the CronJob's ServiceAccount token; no --trigger-processes) and 200
BackupConfigurations, each with its own PVC and Deployment, all on the same
every-20-seconds schedule, so that 200 CronJobs fire at the same instant.
A watch on BackupSessions records each one's arrival; for each of two ticks
the test asserts that every BackupConfiguration got exactly one session of
that tick (none lost, none doubled) and prints the tick-to-session delays.
Which BackupConfigurations got a session of a tick is read from a list of
the sessions after the ticks, so a session the watch missed still counts
and one the watch saw but the store lost does not.

The Deployments have no replicas, so no sidecar runs and the sessions stay
Pending: what is measured is the operator's and the triggers' part alone
(bench/bench_operator.py measures the same at 1,000 and more).
"""
import http.client
import json
import os
import statistics
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import wait_for  # noqa: E402
from operator_env import OperatorServer  # noqa: E402
from scale_objects import Api, workload  # noqa: E402

NS = "scale"
COUNT = int(os.environ.get("STASH_TICK_SCALE_COUNT", "200"))
PERIOD = 20  # seconds; divides 60, so ticks fall at :00, :20, :40
TICKS = 2


class SessionWatch:
    """Records when each BackupSession was first seen ADDED, and for which
    BackupConfiguration (its invoker)."""

    def __init__(self, server, api, resource_version):
        self.seen = {}  # name -> (arrival time, invoker name)
        self.lock = threading.Lock()
        self.conn = http.client.HTTPSConnection("127.0.0.1", server.port,
                                                context=server.ssl_context(), timeout=600)
        self.conn.request("GET", "/apis/stash.appscode.com/v1beta1/namespaces/%s/backupsessions"
                          "?watch=1&resourceVersion=%s" % (NS, resource_version),
                          headers=api.hdrs)
        self.resp = self.conn.getresponse()
        self.error = None
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        buf = b""
        while True:
            try:
                chunk = self.resp.read1(65536)
            except (OSError, http.client.HTTPException) as e:
                self.error = e
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                ev = json.loads(line)
                if ev["type"] == "ERROR":
                    self.error = ev["object"]
                    return
                if ev["type"] != "ADDED":
                    continue
                obj = ev["object"]
                invoker = obj.get("spec", {}).get("invoker", {}).get("name", "")
                with self.lock:
                    self.seen.setdefault(obj["metadata"]["name"], (time.time(), invoker))

    def snapshot(self):
        with self.lock:
            return dict(self.seen)


class TickScale(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = OperatorServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_every_tick_creates_every_session(self):
        api = Api(self.server, timeout=60)
        api.create("/api/v1/namespaces", {"metadata": {"name": NS}})
        api.create("/api/v1/namespaces/%s/secrets" % NS,
                   {"metadata": {"name": "secret"}, "stringData": {"RESTIC_PASSWORD": "scale"}})
        api.create("/apis/stash.appscode.com/v1alpha1/namespaces/%s/repositories" % NS,
                   {"metadata": {"name": "repo"},
                    "spec": {"backend": {"local": {"mountPath": "/repo",
                                                   "hostPath": {"path": self.server.data_dir +
                                                                "/scale-repo"}},
                                         "storageSecretName": "secret"}}})
        names = ["app-%03d" % i for i in range(COUNT)]
        t0 = time.time()
        for name in names:
            for path, obj in workload(NS, name, "*/%d * * * * *" % PERIOD):
                api.create(path, obj)

        def all_ready():
            _, bcs = api.call("GET", "/apis/stash.appscode.com/v1beta1/namespaces/%s/"
                              "backupconfigurations" % NS)
            _, cjs = api.call("GET", "/apis/batch/v1/namespaces/%s/cronjobs" % NS)
            ready = sum(1 for b in bcs["items"] if b.get("status", {}).get("phase") == "Ready")
            return min(ready, len(cjs["items"])) >= COUNT
        wait_for("%d BackupConfigurations Ready" % COUNT, all_ready, timeout=300)
        print("%d BackupConfigurations Ready with their CronJobs %.1f s after the first was "
              "created" % (COUNT, time.time() - t0), file=sys.stderr)

        _, sessions = api.call("GET", "/apis/stash.appscode.com/v1beta1/namespaces/%s/"
                               "backupsessions" % NS)
        watch = SessionWatch(self.server, api, sessions["metadata"]["resourceVersion"])
        # The first tick at least 3 s away, so no tick is half observed.
        now = time.time()
        first = (int(now) // PERIOD + 1) * PERIOD
        if first - now < 3:
            first += PERIOD
        ticks = [first + k * PERIOD for k in range(TICKS)]
        # A session of the last tick may arrive until just before the next.
        end = ticks[-1] + PERIOD - 1
        wait_for("the ticks to pass", lambda: time.time() >= end or watch.error is not None,
                 timeout=end - time.time() + 30)
        self.assertIsNone(watch.error, "the BackupSession watch ended")

        # The sessions as stored; a session's name ends with the Unix second
        # its trigger ran at, which falls in the period of its tick.
        _, stored = api.call("GET", "/apis/stash.appscode.com/v1beta1/namespaces/%s/"
                             "backupsessions" % NS)
        seen = watch.snapshot()
        per_tick = {t: {} for t in ticks}
        unseen = []
        for item in stored["items"]:
            name = item["metadata"]["name"]
            secs = int(name.rsplit("-", 1)[1])
            tick = max((t for t in ticks if t <= secs), default=None)
            if tick is None or secs >= ticks[-1] + PERIOD:
                continue  # of a tick before the first measured one, or after the last
            if name not in seen:
                unseen.append(name)
                continue
            per_tick[tick].setdefault(item["spec"]["invoker"]["name"], []).append(
                (seen[name][0] - tick, name))
        self.assertEqual(unseen, [], "sessions stored but never seen ADDED by the watch")
        for tick in ticks:
            got = per_tick[tick]
            delays = sorted(d for sessions in got.values() for d, _ in sessions)
            if delays:
                print("tick %s: %d sessions, delay p50 %.2f s, p99 %.2f s, max %.2f s" % (
                    time.strftime("%H:%M:%S", time.localtime(tick)), len(delays),
                    statistics.median(delays), delays[min(len(delays) - 1,
                                                          int(0.99 * len(delays)))],
                    delays[-1]), file=sys.stderr)
            missing = sorted(set(names) - set(got))
            self.assertEqual(missing, [], "tick %s lost the sessions of %d BackupConfigurations"
                             % (time.strftime("%H:%M:%S", time.localtime(tick)), len(missing)))
            doubled = {k: v for k, v in got.items() if len(v) > 1}
            self.assertEqual(doubled, {}, "more than one session in one tick")


if __name__ == "__main__":
    unittest.main()
