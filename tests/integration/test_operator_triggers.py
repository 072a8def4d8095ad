"""The trigger CronJob in both of the embedded node's modes.

By default each tick runs `stash create-backupsession` as a process (the
walkthrough in test_operator_pause.py covers that); with
`stash server --in-process-triggers` the node runs the same function on its
own client. This checks that the fast mode is indistinguishable to a user:
sessions named `<bc>-<unix seconds>` with Stash's labels and owner, and, when
paused, no session and the guide's Normal `Backup Skipped` event.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv, seed  # noqa: E402

SCHEDULE = "*/1 * * * * *"  # every second (stash's seconds extension)


class InProcessTriggers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.environ.get("OPERATOR_MODE") == "separate":
            raise unittest.SkipTest("--in-process-triggers is a `stash server` flag")
        cls.env = OperatorEnv()
        cls.env.server.extra_args += ["--in-process-triggers"]
        cls.env.start()
        cls.env.create_namespace_and_secret()
        # No Deployment: sessions stay without a sidecar, so only the trigger acts.
        cls.env.kubectl("apply", "-f", "-", input=cls.env.local_repository())
        bc = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"%s"' % SCHEDULE)
        cls.env.kubectl("apply", "-f", "-", input=bc)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def sessions(self):
        o = self.env.get_json("backupsession", "-n", "demo")
        return {i["metadata"]["name"]: i for i in (o or {}).get("items", [])}

    def test_ticks_create_sessions_and_paused_ticks_write_the_event(self):
        env = self.env
        made = env.wait_for("a scheduled BackupSession", self.sessions, timeout=30)
        name, bs = sorted(made.items())[0]
        self.assertRegex(name, r"^pause-backup-\d{10}$")
        labels = bs["metadata"]["labels"]
        self.assertEqual(labels.get("stash.appscode.com/invoker-name"), "pause-backup")
        self.assertEqual(labels.get("stash.appscode.com/invoker-type"), "BackupConfiguration")
        self.assertEqual(bs["metadata"]["ownerReferences"][0]["name"], "pause-backup")
        self.assertEqual(bs["spec"]["invoker"]["name"], "pause-backup")
        # No `stash create-backupsession` process ran for it (the node logs
        # "CronJob … run finished with code N" for every process it starts).
        self.assertFalse([l for l in env.server.stderr_lines if "run finished with code" in l])

        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup",
                    "--type=merge", "--patch", '{"spec": {"paused": true}}')
        # Once a tick is skipped the pause is in force; sessions seen then may
        # still come from a tick that was running when the patch landed.
        ticks = env.wait_paused_ticks()
        before = set(self.sessions())
        describe = env.kubectl("describe", "backupconfiguration", "-n", "demo",
                               "pause-backup").stdout
        self.assertRegex(describe, r"Normal\s+Backup Skipped\s+\S+.*Backup Triggering CronJob\s+"
                         r"Skipping creating BackupSession\. Reason: Backup Configuration "
                         r"demo/pause-backup is paused\.")
        env.wait_paused_ticks(n=2, since=ticks)
        self.assertEqual(set(self.sessions()) - before, set(), "ticks created sessions while paused")


if __name__ == "__main__":
    unittest.main()
