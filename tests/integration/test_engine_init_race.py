"""Two `stash init` of one new repository at the same moment, 20 times per
store (local directory, REST via rclone, S3 via moto): exactly one wins, the
other says the repository already exists, the repository has exactly one key,
and both stash and restic 0.14 open it with the password.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import peerlib  # noqa: E402
from helpers import STASH  # noqa: E402

RESTIC = shutil.which("restic")
ROUNDS = 20
BATCH = 5


def env(extra=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("RESTIC_", "AWS_"))}
    e["RESTIC_PASSWORD"] = "race-pw"
    e.update(extra or {})
    return e


class InitRaceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-init-race-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def race(self, repo, extra_env, count_keys):
        # Rounds run BATCH at a time (each on its own repository): the pair of
        # each round still starts together, and the suite spends less time.
        for first in range(0, ROUNDS, BATCH):
            rounds = range(first, min(first + BATCH, ROUNDS))
            procs = {i: [subprocess.Popen([STASH, "-r", repo(i), "init"], stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, env=env(extra_env))
                         for _ in range(2)] for i in rounds}
            for i in rounds:
                results = [p.communicate(timeout=300) + (p.returncode,) for p in procs[i]]
                codes = sorted(r[2] for r in results)
                self.assertEqual(codes, [0, 1], "round %d: %r" % (i, results))
                loser = [r for r in results if r[2] == 1][0]
                self.assertIn("already", loser[1], "round %d" % i)
                self.assertEqual(count_keys(i), 1, "round %d: %r" % (i, results))
                r = subprocess.run([STASH, "-r", repo(i), "snapshots", "--json"],
                                   capture_output=True, text=True, env=env(extra_env))
                self.assertEqual((r.returncode, r.stdout.strip()), (0, "[]"), r.stderr)
        return repo(ROUNDS - 1)

    def restic_opens(self, url, extra_env):
        if not RESTIC:
            return
        r = subprocess.run([RESTIC, "-r", url, "key", "list", "--json", "--no-cache"],
                           capture_output=True, text=True, env=env(extra_env), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count('"id"'), 1, r.stdout)

    def test_local(self):
        base = os.path.join(self.tmp, "local")
        last = self.race(lambda i: os.path.join(base, str(i)), None,
                         lambda i: len(os.listdir(os.path.join(base, str(i), "keys"))))
        self.restic_opens(last, None)

    def test_rest(self):
        root = os.path.join(self.tmp, "rclone")
        try:
            server = peerlib.start_rclone(self.tmp, root)
        except (OSError, RuntimeError) as e:
            if peerlib.in_ci():
                raise
            self.skipTest("rclone: %s" % e)
        try:
            last = self.race(lambda i: "rest:http://127.0.0.1:%d/r%d/" % (server.port, i), None,
                             lambda i: len(os.listdir(os.path.join(root, "r%d" % i, "keys"))))
            self.restic_opens(last, None)
        finally:
            server.stop()

    def test_s3(self):
        try:
            server = peerlib.start_moto(self.tmp)
        except (OSError, RuntimeError) as e:
            if peerlib.in_ci():
                raise
            self.skipTest("moto: %s" % e)
        creds = {"AWS_ACCESS_KEY_ID": "AKIARACE", "AWS_SECRET_ACCESS_KEY": "race-secret"}

        def keys(i):
            url = "http://127.0.0.1:%d/race?list-type=2&prefix=r%d/keys/" % (server.port, i)
            with urllib.request.urlopen(url) as r:
                return r.read().decode().count("<Key>")
        try:
            last = self.race(lambda i: "s3:http://127.0.0.1:%d/race/r%d" % (server.port, i),
                             creds, keys)
            self.restic_opens(last, creds)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
