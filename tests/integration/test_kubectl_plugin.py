"""`kubectl stash`: the stash binary linked as kubectl-stash on PATH, run by the
real kubectl's plugin mechanism against `stash server` (operator and node):
pause backup / resume backup (a session while paused is Skipped, as the
guide has it; resumed, a triggered one backs up), trigger, cp, create, unlock, check and delete
snapshot, with kubectl's -n, --kubeconfig and --context; Stash's error for a
pause without a name.
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH  # noqa: E402
from operator_env import OperatorEnv, seed  # noqa: E402


class KubectlStash(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = tempfile.mkdtemp(prefix="stash-plugin-bin-")
        os.symlink(os.path.abspath(shutil.which(STASH) or STASH),
                   os.path.join(cls.bin, "kubectl-stash"))
        os.environ["PATH"] = cls.bin + os.pathsep + os.environ.get("PATH", "")
        cls.env = OperatorEnv().start()

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
        shutil.rmtree(cls.bin, ignore_errors=True)

    def kstash(self, *args, check=True):
        r = self.env.server.kubectl("stash", *args)
        if check and r.returncode != 0:
            raise AssertionError("kubectl stash %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def bc(self):
        return self.env.get_json("backupconfiguration", "-n", "demo", "pause-backup")

    def trigger(self):
        """`kubectl stash trigger pause-backup`: a BackupSession as Stash's plugin makes it."""
        r = self.kstash("trigger", "pause-backup", "-n", "demo")
        self.assertRegex(r.stdout, r"BackupSession demo/pause-backup-\w+ has been created")
        name = r.stdout.split("demo/")[1].split()[0]
        bs = self.env.get_json("backupsession", "-n", "demo", name)
        self.assertEqual(bs["spec"]["invoker"], {"apiGroup": "stash.appscode.com",
                                                 "kind": "BackupConfiguration",
                                                 "name": "pause-backup"})
        self.assertEqual(bs["metadata"]["ownerReferences"][0]["name"], "pause-backup")
        return name

    def test_plugin_commands(self):
        env = self.env
        listed = env.kubectl("plugin", "list", check=False)
        self.assertIn("kubectl-stash", listed.stdout)
        env.guide_workload()
        env.kubectl("apply", "-f", "-", input=seed("backupconfiguration.yaml"))
        env.wait_for("Ready", lambda: (self.bc() or {}).get("status", {}).get("phase") == "Ready")

        r = self.kstash("pause", "backup", "-n", "demo", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("neither BackupConfiguration nor BackupBatch name has been provided",
                      r.stderr)

        # The guide's pause, by the plugin: a session while paused is Skipped.
        r = self.kstash("pause", "backup", "--backupconfig=pause-backup", "-n", "demo")
        self.assertIn("paused successfully", r.stdout)
        self.assertTrue(self.bc()["spec"]["paused"])
        name = self.trigger()
        env.wait_for("the session while paused Skipped", lambda: (env.get_json(
            "backupsession", "-n", "demo", name) or {}).get("status", {}).get(
                "phase") == "Skipped", timeout=120)

        # Resumed, a triggered session backs up.
        r = self.kstash("resume", "backup", "--backupconfig", "pause-backup", "-n", "demo")
        self.assertIn("resumed successfully", r.stdout)
        self.assertFalse(self.bc()["spec"].get("paused", False))
        name = self.trigger()
        env.wait_for("the triggered session Succeeded", lambda: (env.get_json(
            "backupsession", "-n", "demo", name) or {}).get("status", {}).get(
                "phase") == "Succeeded", timeout=120)

        # Repository commands against the local repository.
        r = self.kstash("check", "gcs-repo", "-n", "demo")
        self.assertIn("no errors were found", r.stdout)
        r = self.kstash("unlock", "gcs-repo", "-n", "demo")
        self.assertIn("unlocked successfully", r.stdout)
        snaps = env.get_json("snapshots", "-n", "demo")["items"]
        self.assertTrue(snaps)
        victim = snaps[0]["metadata"]["name"]
        r = self.kstash("delete", "snapshot", victim, "-n", "demo")
        self.assertIn("has been deleted", r.stdout)
        left = [s["metadata"]["name"] for s in env.get_json("snapshots", "-n", "demo")["items"]]
        self.assertNotIn(victim, left)

        # cp with --kubeconfig and --context (a second context defaulting to demo).
        env.kubectl("create", "ns", "copy")
        kc = os.path.join(env.server.data_dir, "kubeconfig-ctx")
        shutil.copy(env.server.kubeconfig, kc)
        cur = env.kubectl("config", "current-context", "--kubeconfig", kc).stdout.strip()
        cfg = json.loads(env.kubectl("config", "view", "--raw", "-o", "json", "--kubeconfig",
                                     kc).stdout)
        ctx = [c for c in cfg["contexts"] if c["name"] == cur][0]["context"]
        env.kubectl("config", "set-context", "in-demo", "--cluster", ctx["cluster"], "--user",
                    ctx["user"], "--namespace", "demo", "--kubeconfig", kc)
        r = self.kstash("cp", "backupconfig", "pause-backup", "--to-namespace", "copy",
                        "--kubeconfig", kc, "--context", "in-demo")
        for kind, name in (("secret", "gcs-secret"), ("repository", "gcs-repo"),
                           ("backupconfiguration", "pause-backup")):
            self.assertIsNotNone(env.get_json(kind, "-n", "copy", name), kind)
        copied = env.get_json("backupconfiguration", "-n", "copy", "pause-backup")
        self.assertEqual(copied["spec"]["target"]["ref"]["name"], "stash-demo")

        # create repository|backupconfig|restoresession with Stash's flags.
        self.kstash("create", "repository", "s3-repo", "-n", "copy", "--provider=s3",
                    "--bucket=b", "--prefix=/p", "--endpoint=http://127.0.0.1:9", "--secret=s")
        repo = env.get_json("repository", "-n", "copy", "s3-repo")
        self.assertEqual(repo["spec"]["backend"]["s3"],
                         {"endpoint": "http://127.0.0.1:9", "bucket": "b", "prefix": "/p"})
        self.assertEqual(repo["spec"]["backend"]["storageSecretName"], "s")
        self.kstash("create", "backupconfig", "made", "-n", "copy", "--repo-name=s3-repo",
                    "--schedule=*/10 * * * *", "--target-apiversion=apps/v1",
                    "--target-kind=Deployment", "--target-name=app", "--paths=/a,/b",
                    "--volume-mounts=data:/a", "--keep-last=3", "--prune")
        made = env.get_json("backupconfiguration", "-n", "copy", "made")
        self.assertEqual(made["spec"]["target"]["paths"], ["/a", "/b"])
        self.assertEqual(made["spec"]["target"]["volumeMounts"],
                         [{"name": "data", "mountPath": "/a"}])
        self.assertEqual(made["spec"]["retentionPolicy"]["keepLast"], 3)
        self.assertTrue(made["spec"]["retentionPolicy"]["prune"])
        self.kstash("create", "restoresession", "rs", "-n", "copy", "--repo-name=s3-repo",
                    "--target-apiversion=apps/v1", "--target-kind=Deployment",
                    "--target-name=app", "--paths=/a", "--host=host-0",
                    "--volume-mounts=data:/a")
        rs = env.get_json("restoresession", "-n", "copy", "rs")
        self.assertEqual(rs["spec"]["target"]["rules"], [{"sourceHost": "host-0",
                                                         "paths": ["/a"]}])
        r = self.kstash("create", "backupconfig", "x", "-n", "copy",
                        "--driver=VolumeSnapshotter", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("VolumeSnapshotter", r.stderr)


if __name__ == "__main__":
    unittest.main()
