"""backupHistoryLimit applies to Skipped BackupSessions too, with the real kubectl.

Two ways sessions end Skipped, both pruned to the newest `backupHistoryLimit`:
- instant BackupSessions made by `kubectl create` (the guide's manifest, which
  carries only the backup-configuration label) while the BackupConfiguration
  is paused: the sidecar skips them;
- scheduled ticks of a BackupConfiguration whose target workload does not
  exist: the operator skips them (the issue's 288 a day at a 5-minute
  schedule).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorTestMixin, seed  # noqa: E402

LIMIT = 2


def with_history_limit(bc_yaml, limit=LIMIT):
    return bc_yaml.replace("\nspec:\n", "\nspec:\n  backupHistoryLimit: %d\n" % limit, 1)


class SkippedHistory(OperatorTestMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.guide_workload()  # namespace demo, Secret, Deployment, Repository

    def sessions(self, invoker):
        """{name: phase} of the BackupSessions of `invoker` in demo."""
        items = (self.env.get_json("backupsession", "-n", "demo") or {}).get("items", [])
        return {i["metadata"]["name"]: i.get("status", {}).get("phase") for i in items
                if i["metadata"].get("labels", {}).get(
                    "stash.appscode.com/backup-configuration") == invoker or
                i["spec"].get("invoker", {}).get("name") == invoker}

    def skipped_names(self, prefix):
        """Every session named `prefix`* the operator or a sidecar ever
        skipped, deleted or not (each has its BackupSessionSkipped event)."""
        items = (self.env.get_json("events", "-n", "demo") or {}).get("items", [])
        return {e["involvedObject"]["name"] for e in items
                if e.get("reason") == "BackupSessionSkipped" and
                e["involvedObject"].get("name", "").startswith(prefix)}

    def test_paused_instant_sessions_keep_the_newest(self):
        env = self.env
        bc = with_history_limit(seed("backupconfiguration.yaml")).replace(
            "\nspec:\n", "\nspec:\n  paused: true\n", 1)
        env.kubectl("apply", "-f", "-", input=bc)
        env.wait_for("3 sidecars running", lambda: len(
            [p for p in env.node_processes() if "run-backup" in p[1]]) == 3, timeout=90)
        names = ["instant-%d" % i for i in range(1, 5)]
        for name in names:
            env.kubectl("create", "-f", "-", input=seed("backupsession.yaml").replace(
                "name: instant-backupsession", "name: " + name))
            env.wait_for(name + " Skipped",
                         lambda: self.sessions("pause-backup").get(name) == "Skipped" or
                         name in self.skipped_names(name), timeout=60)
        # Four skipped, two kept: the newest.
        env.wait_for("only the newest %d sessions" % LIMIT,
                     lambda: self.sessions("pause-backup") == {n: "Skipped" for n in names[-LIMIT:]},
                     timeout=60)
        self.assertEqual(self.skipped_names("instant-"), set(names))

    def test_ticks_skipped_for_a_missing_target_keep_the_newest(self):
        env = self.env
        bc = with_history_limit(seed("backupconfiguration.yaml")
                                .replace("name: pause-backup", "name: orphan-backup")
                                .replace("name: stash-demo", "name: no-such-deployment")
                                .replace('"*/5 * * * *"', '"*/2 * * * * *"'))
        env.kubectl("apply", "-f", "-", input=bc)
        env.wait_for("4 ticks skipped", lambda: len(self.skipped_names("orphan-backup-")) >= 4,
                     timeout=90)
        # No more ticks (one in flight may still come), then the history settles.
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "orphan-backup", "--type=merge",
                    "-p", '{"spec": {"schedule": "0 0 1 1 *"}}')

        def settled():
            now = self.sessions("orphan-backup")
            seen = self.skipped_names("orphan-backup-") | set(now)
            newest = sorted(seen, key=lambda n: int(n.rsplit("-", 1)[1]))[-LIMIT:]
            return now if now == {n: "Skipped" for n in newest} else None
        kept = env.wait_for("only the newest %d skipped ticks" % LIMIT, settled, timeout=60)
        self.assertEqual(len(kept), LIMIT)
        self.assertGreaterEqual(len(self.skipped_names("orphan-backup-")), 4)
        bs = env.get_json("backupsession", "-n", "demo", sorted(kept)[-1])
        self.assertIn("no-such-deployment", bs["status"]["conditions"][0]["message"])


if __name__ == "__main__":
    unittest.main()
