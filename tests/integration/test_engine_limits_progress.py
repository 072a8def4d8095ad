"""restic's --limit-upload / --limit-download (KiB/s) and the backup's live
progress: the status line on a terminal and the --json "status" messages, in
restic 0.14's shapes.
"""
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import enginelib  # noqa: E402
from enginelib import stash  # noqa: E402
from helpers import STASH  # noqa: E402

MIB = 1 << 20
# restic 0.14's statusUpdate members.
STATUS_KEYS = {"message_type", "seconds_elapsed", "seconds_remaining", "percent_done",
               "total_files", "files_done", "total_bytes", "bytes_done", "error_count",
               "current_files"}


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for n in files:
            total += os.lstat(os.path.join(d, n)).st_size
    return total


class Limits(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stash-limit-")
        self.repo = os.path.join(self.tmp, "repo")
        stash(self.repo, "init")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_upload_limit_holds_twenty_mib_to_one_mib_per_second(self):
        src = os.path.join(self.tmp, "src")
        os.makedirs(src)
        enginelib.write_random(os.path.join(src, "big.bin"), 20 * MIB, seed=7)
        before = du(self.repo)
        t0 = time.monotonic()
        stash(self.repo, "--limit-upload", "1024", "--no-cache", "backup", src)
        elapsed = time.monotonic() - t0
        uploaded = du(self.repo) - before
        rate = uploaded / elapsed / MIB
        print("--limit-upload 1024: %.1f MiB in %.1f s = %.3f MiB/s (load %.1f)" % (
            uploaded / MIB, elapsed, rate, os.getloadavg()[0]), file=sys.stderr)
        self.assertGreater(uploaded, 20 * MIB)
        self.assertGreaterEqual(rate, 0.9)
        self.assertLessEqual(rate, 1.1)

    def test_download_limit_on_restore(self):
        src = os.path.join(self.tmp, "src")
        os.makedirs(src)
        enginelib.write_random(os.path.join(src, "f.bin"), 6 * MIB, seed=8)
        stash(self.repo, "--no-cache", "backup", src)
        t0 = time.monotonic()
        stash(self.repo, "--limit-download", "2048", "--no-cache", "restore", "latest",
              "--target", os.path.join(self.tmp, "out"))
        elapsed = time.monotonic() - t0
        # 6 MiB of packs (and small files) at 2 MiB/s: about 3 s.
        self.assertGreaterEqual(elapsed, 2.7)
        self.assertLess(elapsed, 6)

    def test_a_negative_limit_is_refused(self):
        r = stash(self.repo, "--limit-upload", "-5", "snapshots", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--limit-upload must be a rate in KiB/s", r.stderr.decode())

    def test_extended_options_are_applied_or_refused(self):
        # This backend's connections are taken, another backend's skipped (restic).
        stash(self.repo, "-o", "local.connections=1", "-o", "s3.connections=9", "snapshots")
        for bad, says in (("local.connections=0", "from 1 to 1024"),
                          ("local.layout=s3legacy", "is not supported"),
                          ("noequals", "want key=value")):
            r = stash(self.repo, "-o", bad, "snapshots", check=False)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn(says, r.stderr.decode())


class Progress(unittest.TestCase):
    """A backup held to 4 MiB/s with 4 MiB packs runs long enough to report
    several times: once the few packs in flight are full, reading waits for
    the uploads, so the time left is known for a few seconds (restic's ETA
    counts whole seconds elapsed: none in the first one)."""

    FLAGS = ["--pack-size", "4", "--limit-upload", "4096", "--no-cache"]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-progress-")
        cls.src = os.path.join(cls.tmp, "src")
        os.makedirs(cls.src)
        for i in range(4):
            enginelib.write_random(os.path.join(cls.src, "f%d.bin" % i), 8 * MIB, seed=20 + i)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def fresh_repo(self, name):
        repo = os.path.join(self.tmp, name)
        stash(repo, "init")
        return repo

    def test_json_status_messages(self):
        repo = self.fresh_repo("json")
        out = stash(repo, *self.FLAGS, "backup", "--json", self.src).stdout
        msgs = enginelib.json_lines(out)
        status = [m for m in msgs if m["message_type"] == "status"]
        self.assertGreaterEqual(len(status), 3, msgs[:5])
        for m in status:
            self.assertLessEqual(set(m), STATUS_KEYS, m)
            self.assertIsInstance(m["percent_done"], (int, float))
        done = [m.get("bytes_done", 0) for m in status]
        self.assertEqual(done, sorted(done))
        with_eta = [m for m in status if "seconds_remaining" in m]
        self.assertTrue(with_eta, status)
        self.assertEqual(with_eta[0]["total_bytes"], 32 * MIB)
        self.assertEqual(with_eta[0]["total_files"], 4)
        self.assertTrue(any(m.get("current_files") for m in status))
        self.assertEqual(msgs[-1]["message_type"], "summary")

    def test_terminal_status_line(self):
        repo = self.fresh_repo("tty")
        master, slave = pty.openpty()
        p = subprocess.Popen([STASH, "-r", repo, *self.FLAGS, "backup", self.src],
                             stdout=slave, stderr=subprocess.PIPE,
                             env=enginelib.env())
        os.close(slave)
        screen = b""
        while True:
            r, _, _ = select.select([master], [], [], 30)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        p.wait(timeout=60)
        os.close(master)
        self.assertEqual(p.returncode, 0, p.stderr.read())
        text = screen.decode(errors="replace")
        # restic 0.14: "[0:03] 37.50%  1 files 3.000 MiB, total 4 files 8.000 MiB, 0 errors ETA 0:05"
        lines = re.findall(r"\[(\d+):(\d\d)\] (\d+\.\d\d)%  (\d+) files ([\d.]+ \w?i?B), "
                           r"total 4 files 32\.000 MiB, 0 errors ETA (\d+):(\d\d)", text)
        self.assertGreaterEqual(len(lines), 3, text[-2000:])
        percents = [float(x[2]) for x in lines]
        self.assertEqual(percents, sorted(percents))
        self.assertLess(percents[0], percents[-1])
        # The files being read are listed below it, and the block is cleared at the end.
        self.assertRegex(text, re.escape(self.src) + r"/f\d\.bin")
        self.assertIn("snapshot ", text)
        self.assertIn("\x1b[J", text)


if __name__ == "__main__":
    unittest.main()
