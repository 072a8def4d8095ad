"""The Pause Backup guide end to end, against `stash server` with the real kubectl.

Steps as the guide: namespace, secret, Deployment + PVC (unchanged manifest),
Repository (local hostPath instead of GCS: no network here), BackupConfiguration
(the guide's manifest with a 4-second schedule, a stash extension, so the test
does not wait minutes), scheduled backup Succeeded, restic 0.14 restores
data.txt, pause, skipped ticks with the guide's event, the instant
BackupSession Skipped with the guide's Warning event, describe output, the pod
template unchanged, resume, and retention keeping 5 snapshots after 7 backups.
"""
import json
import os
import re
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv, seed  # noqa: E402

SCHEDULE = "*/4 * * * * *"


def succeeded_sessions(env):
    bs = env.get_json("backupsession", "-n", "demo")
    names = set()
    for item in (bs or {}).get("items", []):
        if item.get("status", {}).get("phase") == "Succeeded":
            names.add(item["metadata"]["name"])
    return names


class PauseBackupGuide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv().start()
        print("backup engine:", cls.env.engine or "stash", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def test_guide(self):
        env = self.env
        env.create_namespace_and_secret()
        r = env.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        self.assertIn("persistentvolumeclaim/source-pvc created", r.stdout)
        self.assertIn("deployment.apps/stash-demo created", r.stdout)
        # The PVC is a host directory; the busybox container does not run here, so the
        # user (this test) writes the guide's sample data into it.
        pvc = env.wait_for("the PVC directory", lambda: os.path.isdir(env.pvc_dir("source-pvc")))
        with open(os.path.join(env.pvc_dir("source-pvc"), "data.txt"), "w") as f:
            f.write("sample_data\n")
        env.wait_for("PVC Bound", lambda: (env.get_json("pvc", "-n", "demo", "source-pvc") or {})
                     .get("status", {}).get("phase") == "Bound")

        r = env.kubectl("apply", "-f", "-", input=env.local_repository())
        self.assertIn("repository.stash.appscode.com/gcs-repo created", r.stdout)
        bc_yaml = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"%s"' % SCHEDULE)
        r = env.kubectl("apply", "-f", "-", input=bc_yaml)
        self.assertIn("backupconfiguration.stash.appscode.com/pause-backup created", r.stdout)

        # The operator: finalizer, Ready, CronJob, sidecar.
        bc = env.wait_for("BackupConfiguration Ready", lambda: (
            lambda o: o if o and o.get("status", {}).get("phase") == "Ready" else None)(
                env.get_json("backupconfiguration", "-n", "demo", "pause-backup")))
        self.assertIn("stash.appscode.com", bc["metadata"]["finalizers"])
        types = {c["type"]: c["status"] for c in bc["status"]["conditions"]}
        for t in ("BackupTargetFound", "StashSidecarInjected", "CronJobCreated", "RepositoryFound",
                  "BackendSecretFound", "ValidationPassed"):
            self.assertEqual(types.get(t), "True", t)
        cj = env.get_json("cronjob", "-n", "demo", "stash-trigger-pause-backup")
        self.assertEqual(cj["spec"]["schedule"], SCHEDULE)
        self.assertIn("create-backupsession",
                      cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"])
        deploy = env.get_json("deploy", "-n", "demo", "stash-demo")
        containers = deploy["spec"]["template"]["spec"]["containers"]
        self.assertEqual([c["name"] for c in containers], ["busybox", "stash"])
        self.assertEqual(containers[1]["args"][0], "run-backup")
        self.assertIn({"name": "source-data", "mountPath": "/source/data"},
                      containers[1]["volumeMounts"])

        # A scheduled BackupSession succeeds.
        first = env.wait_for("a Succeeded BackupSession", lambda: succeeded_sessions(env),
                             timeout=90)
        name = sorted(first)[0]
        self.assertRegex(name, r"^pause-backup-\d{10}$")
        r = env.kubectl("get", "backupsession", "-n", "demo", name)
        self.assertRegex(r.stdout, r"NAME\s+INVOKER-TYPE\s+INVOKER-NAME\s+PHASE")
        self.assertRegex(r.stdout, name + r"\s+BackupConfiguration\s+pause-backup\s+Succeeded")
        bs = env.get_json("backupsession", "-n", "demo", name)
        stats = bs["status"]["targets"][0]["stats"][0]
        self.assertEqual(stats["hostname"], "host-0")
        self.assertEqual(stats["phase"], "Succeeded")
        self.assertEqual(stats["snapshots"][0]["path"], "/source/data")
        self.assertGreaterEqual(stats["snapshots"][0]["fileStats"]["totalFiles"], 1)
        self.assertTrue(bs["status"]["sessionDuration"].endswith("s"))
        repo = env.wait_for("Repository status", lambda: (
            lambda o: o if o and o.get("status", {}).get("snapshotCount") else None)(
                env.get_json("repository", "-n", "demo", "gcs-repo")))
        self.assertTrue(repo["status"]["integrity"])
        self.assertIn("lastBackupTime", repo["status"])

        # restic 0.14 restores data.txt from what the sidecar wrote.
        target = tempfile.mkdtemp(prefix="stash-restore-")
        r = env.restic("restore", "latest", "--target", target)
        self.assertEqual(r.returncode, 0, r.stderr)
        restored = [os.path.join(d, f) for d, _, fs in os.walk(target) for f in fs]
        self.assertTrue(any(p.endswith("/data.txt") for p in restored), restored)
        with open([p for p in restored if p.endswith("/data.txt")][0]) as f:
            self.assertEqual(f.read(), "sample_data\n")
        r = env.restic("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # Pause: the pod template stays as it is; ticks create no session, only the event.
        template_before = env.get_json("deploy", "-n", "demo", "stash-demo")["spec"]["template"]
        gen_before = env.get_json("deploy", "-n", "demo", "stash-demo")["metadata"].get("generation")
        r = env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup",
                        "--type=merge", "--patch", '{"spec": {"paused": true}}')
        self.assertIn("backupconfiguration.stash.appscode.com/pause-backup patched", r.stdout)
        time.sleep(1.5)  # a tick already running when the patch landed may still back up
        before = {i["metadata"]["name"] for i in
                  env.get_json("backupsession", "-n", "demo")["items"]}

        def skipped_event():
            r = env.kubectl("describe", "backupconfiguration", "-n", "demo", "pause-backup")
            return r.stdout if "Backup Skipped" in r.stdout else None
        describe = env.wait_for("the Backup Skipped event", skipped_event, timeout=30)
        time.sleep(5)  # at least one more tick
        after = {i["metadata"]["name"] for i in
                 env.get_json("backupsession", "-n", "demo")["items"]}
        self.assertEqual(after - before, set(), "ticks created sessions while paused")
        self.assertRegex(describe, r"Paused:\s+true")
        self.assertRegex(describe, r"Finalizers:\s*\n\s+stash\.appscode\.com")
        self.assertRegex(describe, r"Normal\s+Backup Skipped\s+\S+.*Backup Triggering CronJob\s+"
                         r"Skipping creating BackupSession\. Reason: Backup Configuration "
                         r"demo/pause-backup is paused\.")

        # The instant BackupSession ends Skipped with the guide's Warning event.
        r = env.kubectl("apply", "-f", "-", input=seed("backupsession.yaml"))
        self.assertIn("backupsession.stash.appscode.com/instant-backupsession created", r.stdout)
        env.wait_for("instant session Skipped", lambda: (env.get_json(
            "backupsession", "-n", "demo", "instant-backupsession") or {}).get(
                "status", {}).get("phase") == "Skipped", timeout=30)
        r = env.kubectl("get", "backupsession", "-n", "demo", "instant-backupsession")
        self.assertRegex(r.stdout, r"instant-backupsession\s+BackupConfiguration\s+pause-backup\s+"
                         r"Skipped")
        r = env.kubectl("describe", "backupsession", "-n", "demo", "instant-backupsession")
        self.assertRegex(r.stdout, r"Phase:\s+Skipped")
        self.assertRegex(r.stdout, r"Warning\s+BackupSessionSkipped\s+\S+.*BackupSession Controller"
                         r"\s+Backup Configuration is paused")

        deploy = env.get_json("deploy", "-n", "demo", "stash-demo")
        self.assertEqual(deploy["spec"]["template"], template_before)
        self.assertEqual(deploy["metadata"].get("generation"), gen_before)

        # Resume: the next tick backs up again; 7 backups in all leave 5 snapshots.
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec": {"paused": false}}')
        seen = set(first)
        resumed = set()

        def enough():
            now = succeeded_sessions(env)
            resumed.update(now - seen - before)
            seen.update(now)
            return len(seen) >= 7 and resumed
        env.wait_for("7 successful backups", enough, timeout=120, interval=0.5)
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec": {"paused": true}}')
        self.assertEqual(env.get_json("deploy", "-n", "demo", "stash-demo")["spec"]["template"],
                         template_before)

        def idle():
            items = env.get_json("backupsession", "-n", "demo")["items"]
            return not any(i.get("status", {}).get("phase") in (None, "Running") for i in items)
        time.sleep(1)
        env.wait_for("no backup running", idle, timeout=60)
        # Every backup applied keepLast 5 with prune before it Succeeded.
        r = env.restic("snapshots", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)), 5, r.stdout)
        self.assertEqual(env.restic("check").returncode, 0)

        # Deleting the BackupConfiguration removes the sidecar and the CronJob.
        env.kubectl("delete", "-n", "demo", "backupconfiguration", "pause-backup")
        env.wait_for("sidecar removed", lambda: [c["name"] for c in env.get_json(
            "deploy", "-n", "demo", "stash-demo")["spec"]["template"]["spec"]["containers"]] ==
            ["busybox"])
        env.wait_for("CronJob removed",
                     lambda: env.get_json("cronjob", "-n", "demo",
                                          "stash-trigger-pause-backup") is None)


if __name__ == "__main__":
    unittest.main()
