"""A backup stopped in the middle of an upload (SIGTERM, as when its pod or
Repository goes away, or SIGKILL) leaves no temporary file in a local
repository; prune removes temporary files that older versions or other
file systems left, and check and prune leave none of their own. restic 0.14
checks the repository afterwards.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from helpers import STASH  # noqa: E402

RESTIC = shutil.which("restic")


def temporaries(repo):
    out = []
    for dirpath, _, files in os.walk(repo):
        out += [os.path.join(dirpath, f) for f in files if "-tmp-" in f]
    return out


class StoppedUploadTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stash-stopped-")
        self.repo = os.path.join(self.tmp, "repo")
        self.env = dict(os.environ, RESTIC_PASSWORD="pw", RESTIC_REPOSITORY=self.repo)
        self.env.pop("RESTIC_PASSWORD_FILE", None)
        self.run_ok("init")
        self.src = os.path.join(self.tmp, "src")
        os.makedirs(self.src)
        with open(os.path.join(self.src, "big.bin"), "wb") as f:
            for _ in range(96):
                f.write(os.urandom(1 << 20))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_ok(self, *args):
        r = subprocess.run([STASH, *args], capture_output=True, text=True, env=self.env,
                           timeout=300)
        self.assertEqual(r.returncode, 0, "%s: %s" % (args, r.stderr))
        return r

    def packs(self):
        return sum(len(files) for _, _, files in os.walk(os.path.join(self.repo, "data")))

    def stop_mid_upload(self, sig):
        p = subprocess.Popen([STASH, "backup", "--pack-size", "4", self.src],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        # Some packs are in, more are on their way.
        deadline = time.time() + 60
        while self.packs() < 2 and time.time() < deadline and p.poll() is None:
            time.sleep(0.005)
        p.send_signal(sig)
        p.wait(60)
        self.assertNotEqual(p.returncode, 0, "the backup finished before it was stopped")

    def check_clean(self):
        self.assertEqual(temporaries(self.repo), [])
        # The stopped process's lock is stale (its pid is gone): unlock, as restic.
        self.run_ok("unlock")
        self.run_ok("prune")
        self.run_ok("check")
        self.assertEqual(temporaries(self.repo), [])
        if RESTIC:
            r = subprocess.run([RESTIC, "check", "--no-cache"], capture_output=True, text=True,
                               env=self.env, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_sigterm(self):
        self.stop_mid_upload(signal.SIGTERM)
        self.check_clean()

    def test_sigkill(self):
        self.stop_mid_upload(signal.SIGKILL)
        self.check_clean()

    def test_prune_removes_leftovers_of_older_versions(self):
        self.run_ok("backup", self.src)
        leftover = os.path.join(self.repo, "data", "ab", "ab" + "0" * 62 + "-tmp-123456")
        with open(leftover, "wb") as f:
            f.write(b"half a pack")
        r = self.run_ok("prune")
        self.assertIn("removed 1 temporary files left by stopped uploads", r.stdout + r.stderr)
        self.assertFalse(os.path.exists(leftover))
        self.check_clean()


if __name__ == "__main__":
    unittest.main()
