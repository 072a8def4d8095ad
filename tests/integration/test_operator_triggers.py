"""The trigger CronJob in both of the embedded node's modes.

By default the node runs each tick's `create-backupsession` in process, on a
client holding the CronJob's ServiceAccount token; `stash server
--trigger-processes` runs the command as a process per tick, as a kubelet
runs the CronJob's pod. Both must look the same to a user: sessions named
`<bc>-<unix seconds>` with Stash's labels and owner, and, when paused, no
session and the guide's Normal `Backup Skipped` event. (RBAC is enforced in
both: test_operator_pause.py walks the guide with the default mode.)
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv, seed  # noqa: E402

SCHEDULE = "*/1 * * * * *"  # every second (stash's seconds extension)


class InProcessTriggers(unittest.TestCase):
    SERVER_ARGS = []  # the default: in process
    PROCESSES = False

    @classmethod
    def setUpClass(cls):
        if os.environ.get("OPERATOR_MODE") == "separate":
            raise unittest.SkipTest("the trigger mode is a `stash server` flag")
        cls.env = OperatorEnv()
        cls.env.server.extra_args += cls.SERVER_ARGS
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

    def condition(self):
        bc = self.env.get_json("backupconfiguration", "-n", "demo", "pause-backup") or {}
        for c in bc.get("status", {}).get("conditions", []):
            if c["type"] == "BackupTriggerAuthorized":
                return c
        return None

    def test_a_denied_trigger_says_so_on_the_backupconfiguration(self):
        """Runs first (the other test pauses the BackupConfiguration)."""
        env = self.env
        role = env.wait_for("the trigger's Role", lambda: env.get_json(
            "role", "-n", "demo", "stash-backup-pause-backup"))
        original = json.loads(json.dumps(role))
        for rule in role["rules"]:
            if "backupsessions" in rule.get("resources", []):
                rule["verbs"] = [v for v in rule["verbs"] if v != "create"]
        for k in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
            role["metadata"].pop(k, None)
        env.kubectl("replace", "-f", "-", input=json.dumps(role))
        try:
            def denied():
                ev = env.get_json("events", "-n", "demo", "--field-selector",
                                  "involvedObject.name=pause-backup,reason=Permission Denied")
                return [e for e in (ev or {}).get("items", [])
                        if "stash-trigger-pause-backup" in e.get("message", "")]
            got = env.wait_for("a Permission Denied event on the BackupConfiguration", denied)
            self.assertEqual(got[0]["type"], "Warning")
            self.assertIn("backupsessions", got[0]["message"])
            self.assertIn("stash-backup-pause-backup", got[0]["message"])
            describe = env.kubectl("describe", "backupconfiguration", "-n", "demo",
                                   "pause-backup").stdout
            self.assertRegex(describe, r"Warning\s+Permission Denied")
            # And the condition, in the words of the server's Forbidden.
            cond = env.wait_for("BackupTriggerAuthorized=False", lambda: (
                lambda c: c if c and c["status"] == "False" else None)(self.condition()))
            self.assertEqual(cond["reason"], "PermissionDenied")
            self.assertRegex(cond["message"], r'stash-trigger-pause-backup was denied: .*User '
                             r'"system:serviceaccount:demo:stash-trigger-pause-backup" cannot '
                             r'create resource "backupsessions" in API group "stash.appscode.com" '
                             r'in the namespace "demo"')
        finally:
            role = env.get_json("role", "-n", "demo", "stash-backup-pause-backup")
            role["rules"] = original["rules"]
            env.kubectl("replace", "-f", "-", input=json.dumps(role))
        # The next tick that works clears it.
        cond = env.wait_for("BackupTriggerAuthorized=True", lambda: (
            lambda c: c if c and c["status"] == "True" else None)(self.condition()))
        self.assertEqual(cond["reason"], "PermissionGranted")

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
        # The node logs "CronJob … run finished with code N" for every
        # `stash create-backupsession` process it starts.
        ran = [l for l in env.server.stderr_lines if "run finished with code" in l]
        if self.PROCESSES:
            env.wait_for("a trigger process to finish", lambda: [
                l for l in env.server.stderr_lines if "run finished with code 0" in l])
        else:
            self.assertFalse(ran, "a trigger process ran")

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


class ProcessTriggers(InProcessTriggers):
    SERVER_ARGS = ["--trigger-processes"]
    PROCESSES = True


if __name__ == "__main__":
    unittest.main()
