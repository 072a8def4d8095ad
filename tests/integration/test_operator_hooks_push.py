"""Backup hooks and the sidecar's metrics push, during the Pause Backup guide
(local repository, 2-second schedule) on the embedded operator:

- a preBackup httpGet hook to a local server is called before the backup and
  the postBackup hook after it;
- a failing preBackup hook fails the session without backing up, with its
  reason in the target's PreBackupHookExecutionSucceeded condition and in the
  Host Backup Failed event;
- with `stash server --pushgateway-url`, Debian's prometheus-pushgateway
  receives each session's metrics under Stash's job name.
"""
import datetime
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from operator_env import OperatorEnv, seed  # noqa: E402

SCHEDULE = "*/2 * * * * *"
PUSHGATEWAY = shutil.which("prometheus-pushgateway")


def restic_time(text):
    """restic's snapshot time (nanoseconds, an offset or Z) in Unix seconds."""
    m = re.match(r"(.*?T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(m.group(1) + (m.group(2) or ".0")[:7] + tz).timestamp()


class HookServer:
    """Records each hook call (path, time); answers `status` (200 or 500)."""

    def __init__(self):
        self.calls = []
        self.status = 200
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.calls.append((self.path, time.time()))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


@unittest.skipUnless(PUSHGATEWAY or peerlib.in_ci(),
                     "prometheus-pushgateway not installed (scripts/setup.sh installs it)")
class HooksAndPush(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-hooks-")
        cls.gw_port = peerlib.free_port()
        cls.gateway = peerlib.Server(
            "pushgateway", [PUSHGATEWAY, "--web.listen-address", "127.0.0.1:%d" % cls.gw_port],
            cls.gw_port, cls.tmp, timeout=60)
        cls.hooks = HookServer()
        cls.env = OperatorEnv()
        cls.env.server.extra_args += ["--pushgateway-url", "http://127.0.0.1:%d" % cls.gw_port]
        cls.env.start()

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
        cls.hooks.stop()
        cls.gateway.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def sessions(self, phase):
        bs = self.env.get_json("backupsession", "-n", "demo") or {"items": []}
        return [b for b in bs["items"] if b.get("status", {}).get("phase") == phase]

    def snapshots(self):
        r = self.env.restic("snapshots", "--json", "--no-lock")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def test_hooks_and_pushed_metrics(self):
        env, hooks = self.env, self.hooks
        env.guide_workload()
        hook = ("  backupHistoryLimit: 20\n  hooks:\n    preBackup:\n      httpGet:\n        host: 127.0.0.1\n"
                "        port: %d\n        path: /pre\n    postBackup:\n      httpGet:\n"
                "        host: 127.0.0.1\n        port: %d\n        path: /post\n"
                "      executionPolicy: Always\n" % (hooks.port, hooks.port))
        bc = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"%s"' % SCHEDULE)
        env.kubectl("apply", "-f", "-", input=bc.rstrip("\n") + "\n" + hook)

        # pre before the snapshot, post after it.
        first = env.wait_for("a Succeeded BackupSession", lambda: self.sessions("Succeeded"),
                             timeout=120)
        env.wait_for("the postBackup call", lambda: any(p == "/post" for p, _ in hooks.calls))
        snaps = self.snapshots()
        self.assertTrue(snaps)
        calls = list(hooks.calls)
        pre = next(t for p, t in calls if p == "/pre")
        post = next(t for p, t in calls if p == "/post")
        self.assertLess(pre, post)
        snap_time = min(restic_time(s["time"]) for s in snaps)
        self.assertLessEqual(pre, snap_time + 0.5, calls)
        conds = {c["type"]: c for c in first[0]["status"]["targets"][0].get("conditions", [])}
        self.assertEqual(conds["PreBackupHookExecutionSucceeded"]["status"], "True")
        self.assertEqual(conds["PostBackupHookExecutionSucceeded"]["status"], "True")

        # The pushgateway has the session's metrics under Stash's job name.
        def pushed():
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.gw_port) as r:
                text = r.read().decode()
            lines = [ln for ln in text.splitlines()
                     if ln.startswith("stash_backup_session_success{")
                     and 'job="backupconfiguration-demo-pause-backup"' in ln
                     and 'invoker_name="pause-backup"' in ln]
            return text if lines and lines[0].endswith(" 1") else None
        text = env.wait_for("the pushed session metrics", pushed, timeout=30)
        for name in ("stash_appscode_com_backupsession_success", "stash_backup_host_files_total",
                     "stash_repository_snapshot_count"):
            self.assertIn("\n" + name + "{", text)

        # A failing preBackup: the next session fails, nothing is backed up.
        hooks.status = 500
        def pre_failed():
            for b in self.sessions("Failed"):
                conds = b["status"]["targets"][0].get("conditions", [])
                if any(c["type"] == "PreBackupHookExecutionSucceeded" and c["status"] == "False"
                       for c in conds):
                    return [b]
            return None
        # (A session already past its preBackup hook may fail on postBackup.)
        failed = env.wait_for("a session failed by its preBackup hook", pre_failed, timeout=60)
        hooks.status = 200
        target = failed[0]["status"]["targets"][0]
        conds = {c["type"]: c for c in target.get("conditions", [])}
        pre = conds["PreBackupHookExecutionSucceeded"]
        self.assertEqual(pre["status"], "False")
        self.assertEqual(pre["reason"], "FailedToExecutePreBackupHook")
        self.assertIn("500", pre["message"])
        self.assertNotIn("snapshots", target["stats"][0])
        name = failed[0]["metadata"]["name"]

        def event():
            ev = env.get_json("events", "-n", "demo") or {"items": []}
            return [e for e in ev["items"] if e["involvedObject"].get("name") == name
                    and e["reason"] == "Host Backup Failed"
                    and "preBackup hook" in e["message"]]
        env.wait_for("the Host Backup Failed event", event)
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec":{"paused":true}}')


if __name__ == "__main__":
    unittest.main()
