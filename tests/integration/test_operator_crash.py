"""kill -9 of the server during a backup: after the restart the interrupted
BackupSession ends Failed (not Running forever) and the next tick backs up."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv, seed  # noqa: E402


def phases(env):
    items = (env.get_json("backupsession", "-n", "demo") or {}).get("items", [])
    return {i["metadata"]["name"]: i.get("status", {}).get("phase") for i in items}


class OperatorCrash(unittest.TestCase):
    def setUp(self):
        self.env = OperatorEnv().start()

    def tearDown(self):
        self.env.stop()

    def test_kill9_during_backup(self):
        env = self.env
        env.create_namespace_and_secret()
        env.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        env.wait_for("PVC dir", lambda: os.path.isdir(env.pvc_dir("source-pvc")))
        # Enough data that the backup is still running when the server dies.
        with open(os.path.join(env.pvc_dir("source-pvc"), "big.bin"), "wb") as f:
            for _ in range(48):
                f.write(os.urandom(8 << 20))
        with open(os.path.join(env.pvc_dir("source-pvc"), "data.txt"), "w") as f:
            f.write("sample_data\n")
        env.kubectl("apply", "-f", "-", input=env.local_repository())
        bc = (seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"*/5 * * * * *"')
              .replace("keepLast: 5", "keepLast: 50"))
        env.kubectl("apply", "-f", "-", input=bc)

        running = env.wait_for("a Running session", lambda: [
            n for n, p in phases(env).items() if p == "Running"], timeout=90, interval=0.1)[0]
        # Killed once the backup is under way: its first packs are stored.
        env.wait_for("the backup's first packs", lambda: any(
            files for _, _, files in os.walk(os.path.join(env.repo_dir, "data"))),
            timeout=60, interval=0.05)
        env.kill9()
        env.restart()
        # kubectl talks to the restarted server (same data dir, same port is not promised).
        env.wait_for("the interrupted session Failed",
                     lambda: phases(env).get(running) == "Failed", timeout=60)
        bs = env.get_json("backupsession", "-n", "demo", running)
        stats = bs["status"]["targets"][0]["stats"][0]
        self.assertEqual(stats["phase"], "Failed")
        self.assertIn("interrupted", stats["error"])
        self.assertTrue(bs["status"].get("sessionDuration"))
        env.wait_for("a later session Succeeded", lambda: [
            n for n, p in phases(env).items() if p == "Succeeded" and n > running],
            timeout=180, interval=0.5)
        # Quiesce the schedule so restic's check does not queue behind backups and prunes.
        ticks = env.event_count("Backup Skipped")
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec": {"paused": true}}')
        env.wait_paused_ticks(since=ticks)  # no tick in flight starts another backup
        env.wait_for("no backup running", lambda: "Running" not in phases(env).values(),
                     timeout=120)
        r = env.restic("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
