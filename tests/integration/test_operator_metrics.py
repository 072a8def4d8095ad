"""Prometheus metrics of `stash server --metrics-listen`, scraped by Debian's
prometheus during the Pause Backup guide (local repository, 2-second
schedule): the PromQL query for pause-backup's last-success time returns the
session's end within a scrape of it, `promtool check metrics` accepts the
exposition, Stash's families carry both prefixes and Stash's labels, and the
operator's own health (work queues, process) is there too.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from operator_env import OperatorEnv, seed  # noqa: E402

SCHEDULE = "*/2 * * * * *"
SCRAPE_SECONDS = 1
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


def go_duration_seconds(d):
    total = 0.0
    for value, unit in re.findall(r"([\d.]+)(h|ms|m|s)", d):
        total += float(value) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return total


def session_end(bs):
    created = datetime.strptime(bs["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    return created.replace(tzinfo=timezone.utc).timestamp() + go_duration_seconds(
        bs["status"]["sessionDuration"])


class Prometheus:
    def __init__(self, target, tmp):
        self.port = peerlib.free_port()
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: %ds\n  scrape_timeout: %ds\n"
                    "scrape_configs:\n- job_name: stash\n  static_configs:\n"
                    "  - targets: ['%s']\n" % (SCRAPE_SECONDS, SCRAPE_SECONDS, target))
        self.server = peerlib.Server(
            "prometheus", [PROMETHEUS, "--config.file", cfg, "--storage.tsdb.path",
                           os.path.join(tmp, "tsdb"), "--web.listen-address",
                           "127.0.0.1:%d" % self.port], self.port, tmp, timeout=60)

    def query(self, promql):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.port, urllib.parse.urlencode({"query": promql}))
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def targets_up(self):
        try:
            return self.query('up{job="stash"} == 1')
        except (urllib.error.URLError, ConnectionError):  # 503 until its storage is ready
            return None

    def stop(self):
        self.server.stop()


@unittest.skipUnless(PROMETHEUS and PROMTOOL or peerlib.in_ci(),
                     "prometheus/promtool not installed (scripts/setup.sh installs them)")
class MetricsDuringTheGuide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-metrics-")
        cls.env = OperatorEnv()
        cls.env.server.extra_args += ["--metrics-listen", "127.0.0.1:0"]
        cls.env.start()
        lines = "".join(cls.env.server.stderr_lines)
        m = re.search(r"Prometheus metrics on :(\d+)/metrics", lines)
        assert m, lines
        cls.metrics_url = "http://127.0.0.1:%s/metrics" % m.group(1)
        cls.prom = Prometheus("127.0.0.1:" + m.group(1), cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.prom.stop()
        cls.env.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def exposition(self):
        with urllib.request.urlopen(self.metrics_url, timeout=10) as r:
            self.assertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
            return r.read().decode()

    def succeeded(self):
        bs = self.env.get_json("backupsession", "-n", "demo") or {"items": []}
        return [b for b in bs["items"] if b.get("status", {}).get("phase") == "Succeeded"]

    def test_guide_scraped_by_prometheus(self):
        env, prom = self.env, self.prom
        env.wait_for("prometheus scraping stash", prom.targets_up, timeout=60)
        env.guide_workload()
        env.kubectl("apply", "-f", "-", input=seed("backupconfiguration.yaml").replace(
            '"*/5 * * * *"', '"%s"' % SCHEDULE))

        # The first Succeeded session: Prometheus has its end within a scrape.
        first = env.wait_for("a Succeeded BackupSession", self.succeeded, timeout=120)
        seen_at = time.time()
        end = max(session_end(b) for b in first)
        query = ('stash_backup_last_success_time_seconds'
                 '{invoker_name="pause-backup",namespace="demo"}')

        def reported():
            r = prom.query(query)
            return r if r and float(r[0]["value"][1]) >= end - 1 else None
        got = env.wait_for("the last-success time in Prometheus", reported, timeout=30,
                           interval=0.2)
        lag = time.time() - seen_at
        print("last success %.1f, session end %.1f, in Prometheus %.2fs after kubectl saw it"
              % (float(got[0]["value"][1]), end, lag), file=sys.stderr)
        self.assertLessEqual(lag, SCRAPE_SECONDS + 1.5)
        labels = got[0]["metric"]
        self.assertEqual(labels["invoker_kind"], "BackupConfiguration")
        self.assertEqual(labels["driver"], "Restic")
        self.assertEqual(labels["repository"], "gcs-repo")

        # Pause (the guide): the value stays at the last succeeded session's end.
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec":{"paused":true}}')

        def idle():
            bs = env.get_json("backupsession", "-n", "demo") or {"items": []}
            running = [b for b in bs["items"]
                       if b.get("status", {}).get("phase") in (None, "Pending", "Running")]
            return not running
        env.wait_for("no running session", idle, timeout=60)
        last = max(session_end(b) for b in self.succeeded())

        def settled():
            r = prom.query(query)
            return r if r and abs(float(r[0]["value"][1]) - last) <= 1.0 else None
        env.wait_for("Prometheus at the last session's end", settled, timeout=10, interval=0.2)
        r = prom.query("time() - " + query)
        self.assertLess(float(r[0]["value"][1]), 60)
        for q in ('stash_appscode_com_backupsession_success{invoker_name="pause-backup"}',
                  'stash_backup_host_backup_success{hostname="host-0",kind="Deployment",'
                  'name="stash-demo",group="apps"}',
                  'stash_appscode_com_backupsession_host_files_total{hostname="host-0"}',
                  'stash_repository_snapshot_count{backend="local",name="gcs-repo"}',
                  'workqueue_adds_total', 'process_start_time_seconds'):
            self.assertTrue(prom.query(q), q)
        self.assertEqual(prom.query(
            'stash_backup_session_success{invoker_name="pause-backup"}')[0]["value"][1], "1")

        # promtool accepts the exposition as served.
        text = self.exposition()
        for name in ("stash_backup_session_success", "stash_appscode_com_backupsession_success",
                     "stash_backup_target_success", "stash_appscode_com_backupsession_target_success",
                     "stash_backup_host_data_size_bytes", "stash_repository_integrity",
                     "stash_appscode_com_repository_size_bytes", "workqueue_depth"):
            self.assertIn("\n# TYPE %s " % name, "\n" + text)
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
