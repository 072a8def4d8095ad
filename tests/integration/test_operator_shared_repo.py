"""Two BackupConfigurations backing up into one Repository, as a user who
shares a bucket between workloads does:

- a new repository that both first backups initialise at the same tick ends
  with one key and both sessions Succeeded — 20 times, each round on a new
  repository (the Repository is pointed at a fresh REST path between rounds);
- a `restic snapshots` loop run by hand beside the scheduled backups (its
  short lock against their forget/prune) fails none of them.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from operator_env import OperatorEnv, seed  # noqa: E402

RESTIC = shutil.which("restic")
ROUNDS = 20
SCHEDULE = "*/3 * * * * *"  # every 3 s (stash's seconds extension)
FINAL = ("Succeeded", "Failed", "Skipped")


def repository(url):
    return ("apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
            "  name: shared\n  namespace: demo\nspec:\n  backend:\n    rest:\n"
            "      url: %s\n    storageSecretName: gcs-secret\n" % url)


class SharedRepository(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-shared-repo-")
        cls.root = os.path.join(cls.tmp, "rclone")
        cls.rest = peerlib.start_rclone(cls.tmp, cls.root)
        cls.env = OperatorEnv().start()
        env = cls.env
        env.create_namespace_and_secret()
        deploy = seed("deployment.yaml")
        for name in ("app-a", "app-b"):
            env.kubectl("apply", "-f", "-", input=deploy.replace("stash-demo", name)
                        .replace("source-pvc", name + "-pvc"))
            d = env.wait_for("the volume of " + name,
                             lambda: os.path.isdir(env.pvc_dir(name + "-pvc")) and
                             env.pvc_dir(name + "-pvc"))
            with open(os.path.join(d, "data.txt"), "w") as f:
                f.write("data of %s\n" % name)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
        cls.rest.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def url(self, i):
        return "http://127.0.0.1:%d/round-%d/" % (self.rest.port, i)

    def quiet(self):
        """True when no session of either BackupConfiguration is still going."""
        o = self.env.get_json("backupsession", "-n", "demo")
        return all(s.get("status", {}).get("phase") in FINAL for s in (o or {}).get("items", []))

    def sessions(self, bc, after):
        o = self.env.get_json("backupsession", "-n", "demo",
                              "-l", "stash.appscode.com/invoker-name=" + bc)
        out = []
        for s in (o or {}).get("items", []):
            if s["metadata"]["creationTimestamp"] >= after:
                out.append(s)
        return sorted(out, key=lambda s: s["metadata"]["name"])

    def first_final(self, bc, after):
        def done():
            got = self.sessions(bc, after)
            if got and got[0].get("status", {}).get("phase") in FINAL:
                return got[0]
            return None
        return self.env.wait_for("a finished session of %s" % bc, done, timeout=90)

    def test_shared_new_repository_and_a_reader_beside_the_backups(self):
        env = self.env
        env.kubectl("apply", "-f", "-", input=repository(self.url(0)))
        # Both in one apply, so their first ticks are the same.
        env.kubectl("apply", "-f", "-", input="---\n".join(
            seed("backupconfiguration.yaml")
            .replace("name: pause-backup", "name: " + name)
            .replace("name: gcs-repo", "name: shared")
            .replace("name: stash-demo", "name: " + name)
            .replace('"*/5 * * * *"', '"%s"' % SCHEDULE)
            # Keep every session: with the default limit (1) a round's first
            # session may be deleted before this test reads it.
            .replace("spec:\n", "spec:\n  backupHistoryLimit: 200\n", 1)
            for name in ("app-a", "app-b")))
        stop = threading.Event()
        reader_runs = [0]

        def reader(url_of):
            # restic 0.14 by hand, as a user would: a shared lock each time.
            while not stop.is_set():
                subprocess.run([RESTIC, "-r", "rest:" + url_of(), "snapshots", "--no-cache"],
                               capture_output=True, env=dict(os.environ, RESTIC_PASSWORD="changeit"),
                               timeout=60)
                reader_runs[0] += 1
        current = [0]
        thread = threading.Thread(target=reader, args=(lambda: self.url(current[0]),),
                                  daemon=True) if RESTIC else None
        if thread:
            thread.start()
        try:
            for i in range(ROUNDS):
                if i > 0:
                    # Paused, nothing runs; then the Repository moves to a new path
                    # and both resume together, so their next tick initialises it.
                    env.kubectl("patch", "bc", "app-a", "app-b", "-n", "demo", "--type=merge",
                                "-p", '{"spec":{"paused":true}}')
                    time.sleep(1.1)  # a tick already under way may still start a session
                    env.wait_for("no session running", self.quiet, timeout=120)
                    env.kubectl("patch", "repository", "-n", "demo", "shared", "--type=merge",
                                "-p", '{"spec":{"backend":{"rest":{"url":"%s"}}}}' % self.url(i))
                    current[0] = i
                    after = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                    env.kubectl("patch", "bc", "app-a", "app-b", "-n", "demo", "--type=merge",
                                "-p", '{"spec":{"paused":false}}')
                else:
                    after = "0"
                a = self.first_final("app-a", after)
                b = self.first_final("app-b", after)
                tick_a = int(a["metadata"]["name"].rsplit("-", 1)[1])
                tick_b = int(b["metadata"]["name"].rsplit("-", 1)[1])
                self.assertLessEqual(abs(tick_a - tick_b), 1, "round %d: not the same tick: %s %s\n%s" % (
                    i, a["metadata"]["name"], b["metadata"]["name"], env.logs()))
                for s in (a, b):
                    self.assertEqual(s["status"]["phase"], "Succeeded",
                                     "round %d: %s\n%s" % (i, s.get("status"), env.logs()))
                keys = os.listdir(os.path.join(self.root, "round-%d" % i, "keys"))
                self.assertEqual(len(keys), 1, "round %d: keys %s" % (i, keys))
        finally:
            stop.set()
            if thread:
                thread.join(90)
        if thread:
            self.assertGreater(reader_runs[0], ROUNDS)
        # Nothing failed at all, the reader notwithstanding.
        failed = [s["metadata"]["name"] for s in
                  env.get_json("backupsession", "-n", "demo")["items"]
                  if s.get("status", {}).get("phase") == "Failed"]
        self.assertEqual(failed, [])


if __name__ == "__main__":
    unittest.main()
