"""retryConfig and timeOut of a BackupConfiguration, on the embedded operator
with the Pause Backup guide's objects:

- a repository that cannot be written for the first two attempts, with
  `retryConfig: {maxRetry: 3, delay: 5s}`: each failed session is followed
  by a new one with spec.retryLeft one less, and the third one succeeds;
- `timeOut: 5s` on a slow store (a REST repository behind a proxy that
  trickles the bytes): the session ends Failed with DeadlineExceeded within
  a few seconds of its deadline, and its backup process is stopped.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from helpers import STASH  # noqa: E402
from operator_env import OperatorEnv, seed  # noqa: E402

NEVER = '"0 0 1 1 *"'  # sessions come from create-backupsession and retries only


def created_at(bs):
    return datetime.strptime(bs["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp()


class RetryAndTimeout(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stash-retry-")
        self.env = OperatorEnv()
        self.env.start()
        env = self.env
        env.guide_workload(repository=False)

    def tearDown(self):
        self.env.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sessions(self):
        bs = self.env.get_json("backupsession", "-n", "demo") or {"items": []}
        return sorted(bs["items"], key=lambda b: (created_at(b), b["metadata"]["name"]))

    def apply_bc(self, extra):
        bc = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', NEVER)
        self.env.kubectl("apply", "-f", "-", input=bc.rstrip("\n") + "\n" + extra)
        self.env.wait_for("the BackupConfiguration Ready", lambda: (self.env.get_json(
            "backupconfiguration", "-n", "demo", "pause-backup") or {}).get(
                "status", {}).get("phase") == "Ready")

    def trigger(self):
        subprocess.run([STASH, "create-backupsession", "--invoker-name", "pause-backup", "-n",
                        "demo", "--kubeconfig", self.env.server.kubeconfig], check=True,
                       capture_output=True, timeout=60)

    def test_failed_sessions_are_retried_until_one_succeeds(self):
        env = self.env
        # The repository's directory is a file for now: every write fails.
        blocker = os.path.join(self.tmp, "repo")
        with open(blocker, "w") as f:
            f.write("not a directory\n")
        env.kubectl("apply", "-f", "-", input=env.local_repository(path=blocker))
        # delay leaves the test time to mend the store after the second failure;
        # the history limit keeps every session visible.
        self.apply_bc("  backupHistoryLimit: 10\n  retryConfig:\n    maxRetry: 3\n"
                      "    delay: 5s\n")
        self.trigger()

        def failed(n):
            return lambda: [b for b in self.sessions()
                            if b.get("status", {}).get("phase") == "Failed"][n - 1:] or None
        env.wait_for("the first failure", failed(1), timeout=90)
        env.wait_for("the second failure", failed(2), timeout=90)
        os.remove(blocker)  # the store works from now on

        def succeeded():
            return [b for b in self.sessions() if b.get("status", {}).get("phase") == "Succeeded"]
        env.wait_for("a Succeeded retry", succeeded, timeout=90)
        all_ = self.sessions()
        self.assertEqual([b["spec"].get("retryLeft") for b in all_], [3, 2, 1], all_)
        self.assertEqual([b["status"]["phase"] for b in all_], ["Failed", "Failed", "Succeeded"])
        for b in all_[:2]:
            self.assertTrue(b["status"].get("retried"), b["status"])
        # delay: each retry starts no sooner than 5 s after the one before failed.
        self.assertGreaterEqual(created_at(all_[1]) - created_at(all_[0]), 5)

    def test_time_out_ends_the_session_deadline_exceeded(self):
        env = self.env
        rclone = peerlib.start_rclone(self.tmp, os.path.join(self.tmp, "rest"))
        self.addCleanup(rclone.stop)
        with open(os.path.join(env.pvc_dir("source-pvc"), "big.bin"), "wb") as f:
            f.write(os.urandom(32 << 20))
        slow = peerlib.SlowProxy(rclone.port, rate=256 << 10)  # 32 MiB takes minutes
        self.addCleanup(slow.stop)
        env.kubectl("apply", "-f", "-", input=(
            "apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
            "  name: gcs-repo\n  namespace: demo\nspec:\n  backend:\n    rest:\n"
            "      url: http://127.0.0.1:%d/\n    storageSecretName: gcs-secret\n" % slow.port))
        self.apply_bc("  timeOut: 5s\n")
        self.trigger()
        bs = env.wait_for("a Failed session", lambda: [
            b for b in self.sessions() if b.get("status", {}).get("phase") == "Failed"],
            timeout=120)[0]
        ended_at = time.time()
        status = bs["status"]
        deadline = datetime.strptime(status["sessionDeadline"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc).timestamp()
        self.assertEqual(deadline - created_at(bs), 5)
        conds = {c["type"]: c for c in status.get("conditions", [])}
        self.assertEqual(conds["DeadlineExceeded"]["status"], "True")
        self.assertEqual(conds["DeadlineExceeded"]["reason"], "FailedToCompleteWithinDeadline")
        self.assertEqual(conds["DeadlineExceeded"]["message"], "Failed to complete backup within 5s.")
        # Within a few seconds of the deadline (the watch adds its latency).
        print("ended %.1fs after the deadline" % (ended_at - deadline), file=sys.stderr)
        self.assertLess(ended_at - deadline, 8)
        # The backup process was stopped: nothing flows to the store any more.
        samples = []

        def quiet():
            samples.append(slow.bytes)
            return len(samples) >= 3 and samples[-1] == samples[-3]
        env.wait_for("the upload to stop", quiet, timeout=20, interval=1)
        self.assertFalse(os.listdir(os.path.join(self.tmp, "rest", "snapshots"))
                         if os.path.isdir(os.path.join(self.tmp, "rest", "snapshots")) else [])

if __name__ == "__main__":
    unittest.main()
