"""A repository URL naming a host that does not resolve, or a port nobody listens
on, fails within seconds with a message naming the backend and the host, on
every remote backend (it used to be retried for ~90 s). restic 0.14 fails these
at once too: it opens the config file before it wraps the backend in retries.
Transient faults of a server that did answer are still retried; the
backend.http_faults and integration.backend_remote tests show that."""
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import peerlib  # noqa: E402
from helpers import STASH  # noqa: E402

RESTIC = shutil.which("restic")
HOST = "no-such-host.invalid"


def env(extra):
    e = dict(os.environ)
    for k in ("RESTIC_REPOSITORY", "RESTIC_PASSWORD_FILE", "STORAGE_EMULATOR_HOST",
              "AZURE_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        e.pop(k, None)
    e.update({"RESTIC_PASSWORD": "pw", "AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "s",
              "AZURE_ACCOUNT_NAME": "acct", "AZURE_ACCOUNT_KEY": "a2V5",
              "GOOGLE_PROJECT_ID": "p"})
    e.update(extra)
    return e


class FailFastTest(unittest.TestCase):
    def run_stash(self, repo, extra=None, verb="snapshots"):
        start = time.monotonic()
        p = subprocess.run([STASH, "-r", repo, verb], capture_output=True, text=True,
                           env=env(extra or {}), timeout=120)
        took = time.monotonic() - start
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertLess(took, 10, p.stderr)
        self.assertNotIn("retrying", p.stderr)
        return p.stderr.strip().splitlines()[-1], took

    def test_unresolvable_host(self):
        cases = [
            ("rest:http://%s:8000/repo/" % HOST, {}, "rest:http://%s:8000/repo/" % HOST),
            ("s3:http://%s:9000/bucket/repo" % HOST, {}, "s3:%s:9000/bucket/repo" % HOST),
            ("azure:ctr:/repo", {"AZURE_ENDPOINT": "http://%s:10000/acct" % HOST}, "azure:ctr:/repo"),
            ("gs:bkt:/repo", {"STORAGE_EMULATOR_HOST": "%s:9023" % HOST}, "gs:bkt:/repo"),
        ]
        for repo, extra, location in cases:
            with self.subTest(repo=repo):
                last, took = self.run_stash(repo, extra)
                self.assertIn(location, last)
                self.assertIn(HOST, last)
                self.assertIn("check the host name", last)
                print("%s: failed in %.2f s: %s" % (repo, took, last), file=sys.stderr)

    def test_refused_port(self):
        port = peerlib.free_port()
        for verb in ("snapshots", "init"):
            with self.subTest(verb=verb):
                last, took = self.run_stash("rest:http://127.0.0.1:%d/repo/" % port, verb=verb)
                self.assertIn("rest:http://127.0.0.1:%d/repo/" % port, last)
                self.assertIn("refused", last.lower())
        last, _ = self.run_stash("s3:http://127.0.0.1:%d/bucket/repo" % port)
        self.assertIn("s3:127.0.0.1:%d/bucket/repo" % port, last)

    @unittest.skipUnless(RESTIC, "restic not installed")
    def test_restic_fails_at_once_too(self):
        port = peerlib.free_port()
        for repo in ("rest:http://%s:8000/repo/" % HOST, "rest:http://127.0.0.1:%d/" % port):
            start = time.monotonic()
            p = subprocess.run([RESTIC, "-r", repo, "snapshots"], capture_output=True, text=True,
                               env=env({}), timeout=120)
            self.assertNotEqual(p.returncode, 0)
            self.assertLess(time.monotonic() - start, 10)


if __name__ == "__main__":
    unittest.main()
