"""Live progress of a Running BackupSession (embedded operator, the Pause
Backup guide's objects, a 256 MiB volume backed up to a REST repository
(rclone) behind a proxy that passes 4 MiB/s per connection, so the backup
lasts long enough on any machine): the sidecar writes status.progress (bytes
and files done and in total, rate, ETA) every few seconds, rising in at
least three updates; `kubectl get backupsession -o wide` shows it while the
guide's default columns stay as they are; the field goes when the session
ends.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from helpers import STASH  # noqa: E402
from operator_env import OperatorEnv, seed  # noqa: E402

SIZE = 256 << 20


class Progress(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stash-progress-")
        self.env = OperatorEnv()
        self.env.start()

    def tearDown(self):
        self.env.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_running_session_reports_rising_progress(self):
        env = self.env
        env.create_namespace_and_secret()
        env.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        env.wait_for("the PVC directory", lambda: os.path.isdir(env.pvc_dir("source-pvc")))
        with open(os.path.join(env.pvc_dir("source-pvc"), "big.bin"), "wb") as f:
            for _ in range(SIZE >> 26):
                f.write(os.urandom(64 << 20))  # data that neither compresses nor dedups
        rclone = peerlib.start_rclone(self.tmp, os.path.join(self.tmp, "rest"))
        self.addCleanup(rclone.stop)
        slow = peerlib.SlowProxy(rclone.port, rate=4 << 20)
        self.addCleanup(slow.stop)
        env.kubectl("apply", "-f", "-", input=(
            "apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
            "  name: gcs-repo\n  namespace: demo\nspec:\n  backend:\n    rest:\n"
            "      url: http://127.0.0.1:%d/\n    storageSecretName: gcs-secret\n" % slow.port))
        env.kubectl("apply", "-f", "-", input=seed("backupconfiguration.yaml").replace(
            '"*/5 * * * *"', '"0 0 1 1 *"'))
        env.wait_for("the BackupConfiguration Ready", lambda: (env.get_json(
            "backupconfiguration", "-n", "demo", "pause-backup") or {}).get(
                "status", {}).get("phase") == "Ready")
        subprocess.run([STASH, "create-backupsession", "--invoker-name", "pause-backup", "-n",
                        "demo", "--kubeconfig", env.server.kubeconfig], check=True,
                       capture_output=True, timeout=60)

        seen, wide, first_at = [], None, [None]

        def finished():
            nonlocal wide
            items = (env.get_json("backupsession", "-n", "demo") or {"items": []})["items"]
            if not items:
                return None
            st = items[0].get("status", {})
            p = st.get("progress")
            if st.get("phase") == "Running" and p and (not seen or seen[-1] != p):
                if not seen:
                    first_at[0] = time.time()
                seen.append(p)
                if wide is None and len(seen) >= 2:
                    wide = env.kubectl("get", "backupsession", "-n", "demo", "-o", "wide").stdout
            return st if st.get("phase") in ("Succeeded", "Failed") else None
        final = env.wait_for("the session to end", finished, timeout=600, interval=0.5)
        self.assertEqual(final["phase"], "Succeeded", final)
        self.assertNotIn("progress", final)
        done = [p["bytesDone"] for p in seen]
        print("progress updates: %s" % [(p["percent"], p.get("eta"), p["rate"]) for p in seen],
              file=sys.stderr)
        # The sidecar writes progress every 2 s; the store lets the backup
        # run for well over three intervals.
        ran = time.time() - first_at[0]
        self.assertGreater(ran, 7, seen)
        self.assertGreaterEqual(len(set(done)), 3, (ran, seen))
        self.assertEqual(done, sorted(done))
        self.assertTrue(any("eta" in p for p in seen), seen)
        self.assertTrue(all(p["totalBytes"] >= SIZE for p in seen if "eta" in p), seen)
        self.assertIsNotNone(wide)
        header = wide.splitlines()[0].split()
        self.assertIn("PROGRESS", header)
        self.assertIn("ETA", header)
        default = env.kubectl("get", "backupsession", "-n", "demo").stdout.splitlines()[0].split()
        self.assertEqual(default, ["NAME", "INVOKER-TYPE", "INVOKER-NAME", "PHASE", "AGE"])


if __name__ == "__main__":
    unittest.main()
