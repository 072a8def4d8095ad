"""stash backup behaviour a user notices: incremental backups that read no
unchanged file (issue Must-show 4), unreadable files reported with exit code 3,
excludes, and crash safety under kill -9 (Must-show 5) checked by restic 0.14."""
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import enginelib as el


def opens(stderr):
    m = re.search(rb"stash-debug: content opens: (\d+)", stderr)
    assert m, stderr
    return int(m.group(1))


class IncrementalTest(unittest.TestCase):
    def setUp(self):
        self.tmp = el.TempDir()
        self.repo = os.path.join(self.tmp.path, "repo")
        el.stash(self.repo, "init")

    def tearDown(self):
        self.tmp.cleanup()

    def test_second_backup_of_100k_unchanged_files_reads_none(self):
        src = os.path.join(self.tmp.path, "many")
        for d in range(100):
            sub = os.path.join(src, "d%03d" % d)
            os.makedirs(sub)
            for f in range(1000):
                with open(os.path.join(sub, "f%04d" % f), "w") as fh:
                    fh.write("file %d %d\n" % (d, f))
        dbg = {"STASH_DEBUG_COUNT_READS": "1"}
        # A relative target keeps /tmp (whose times change meanwhile) out of
        # the snapshot's root tree.
        first = el.stash(self.repo, "backup", "--json", "many", extra_env=dbg, cwd=self.tmp.path)
        self.assertEqual(el.summary(first.stdout)["files_new"], 100000)
        self.assertEqual(opens(first.stderr), 100000)
        t0 = time.monotonic()
        second = el.stash(self.repo, "backup", "--json", "many", extra_env=dbg,
                          cwd=self.tmp.path)
        elapsed = time.monotonic() - t0
        s = el.summary(second.stdout)
        self.assertEqual(s["files_unmodified"], 100000)
        self.assertEqual(s["files_new"] + s["files_changed"], 0)
        self.assertEqual(s["data_added"], 0)
        self.assertEqual(s["dirs_unmodified"], 101)
        self.assertEqual(opens(second.stderr), 0)
        print("\nno-change backup of 100k files: %.2fs" % elapsed)

    def test_changed_file_is_read_again_and_counted(self):
        src = os.path.join(self.tmp.path, "src")
        os.makedirs(src)
        for n in ("a", "b", "c"):
            with open(os.path.join(src, n), "w") as f:
                f.write(n * 100)
        dbg = {"STASH_DEBUG_COUNT_READS": "1"}
        el.stash(self.repo, "backup", src)
        with open(os.path.join(src, "b"), "a") as f:
            f.write("more")
        with open(os.path.join(src, "d"), "w") as f:
            f.write("new")
        p = el.stash(self.repo, "backup", "--json", src, extra_env=dbg)
        s = el.summary(p.stdout)
        self.assertEqual((s["files_new"], s["files_changed"], s["files_unmodified"]), (1, 1, 2))
        self.assertEqual(opens(p.stderr), 2)

    def test_excludes_leave_matching_entries_out(self):
        src = os.path.join(self.tmp.path, "src")
        os.makedirs(os.path.join(src, "cache"))
        for n in ("keep.txt", "drop.tmp", "cache/x"):
            with open(os.path.join(src, n), "w") as f:
                f.write(n)
        excl = os.path.join(self.tmp.path, "excludes")
        with open(excl, "w") as f:
            f.write("# comment\ncache\n")
        p = el.stash(self.repo, "backup", "--json", "--exclude", "*.tmp", "--exclude-file", excl,
                     src)
        self.assertEqual(el.summary(p.stdout)["files_new"], 1)

    def test_human_output_matches_restic_shape(self):
        src = os.path.join(self.tmp.path, "src")
        os.makedirs(src)
        with open(os.path.join(src, "a"), "w") as f:
            f.write("a")
        out = el.stash(self.repo, "backup", src).stdout.decode()
        self.assertIn("no parent snapshot found, will read all files", out)
        self.assertRegex(out, r"Files: +1 new, +0 changed, +0 unmodified")
        self.assertRegex(out, r"processed 1 files, 1 B in \d+:\d\d")
        self.assertRegex(out, r"snapshot [0-9a-f]{8} saved")
        out = el.stash(self.repo, "backup", src).stdout.decode()
        self.assertRegex(out, r"using parent snapshot [0-9a-f]{8}")


class UnreadableFileTest(unittest.TestCase):
    def test_unreadable_file_is_reported_and_exit_code_is_3(self):
        tmp = el.TempDir()
        try:
            repo = os.path.join(tmp.path, "repo")
            src = os.path.join(tmp.path, "src")
            os.makedirs(src)
            for n in ("ok", "secret"):
                with open(os.path.join(src, n), "w") as f:
                    f.write(n)
            os.chmod(os.path.join(src, "secret"), 0)
            el.stash(repo, "init")
            cmd = [el.STASH, "-r", repo, "backup", "--json", src]
            if os.geteuid() == 0:
                # root reads anything: drop the capabilities that bypass modes.
                caps = "-dac_override,-dac_read_search"
                cmd = ["setpriv", "--inh-caps", caps, "--bounding-set", caps, *cmd]
            p = el.run(cmd, check=False)
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertIn(b"open " + os.fsencode(src) + b"/secret: permission denied", p.stderr)
            self.assertIn(b"Warning: at least one source file could not be read", p.stderr)
            s = el.summary(p.stdout)
            self.assertEqual(s["files_new"], 1)
            # The snapshot was still written and holds the readable file.
            if el.RESTIC:
                ls = el.restic(repo, "ls", "latest").stdout
                self.assertIn(b"/ok\n", ls)
                self.assertNotIn(b"/secret", ls)
        finally:
            tmp.cleanup()


@unittest.skipUnless(el.RESTIC, "restic is not installed")
class KillTest(unittest.TestCase):
    """kill -9 at several moments of a backup: restic check still passes and
    the next backup succeeds, reusing what was uploaded and indexed."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = el.TempDir()
        cls.src = os.path.join(cls.tmp.path, "src")
        os.makedirs(cls.src)
        for i in range(12):
            el.write_random(os.path.join(cls.src, "f%02d" % i), 16 << 20, 100 + i)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def kill_when(self, name, ready):
        repo = os.path.join(self.tmp.path, "repo-" + name)
        el.stash(repo, "init")
        e = el.env({"STASH_TEST_INDEX_INTERVAL": "0.2"})
        proc = subprocess.Popen([el.STASH, "-r", repo, "--pack-size", "4", "backup", self.src],
                                env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not ready(repo) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The killed backup leaves its (now stale: dead pid) lock, as restic
        # does; `unlock` removes stale locks only.
        el.restic(repo, "unlock")
        el.restic(repo, "check")
        p = el.stash(repo, "backup", "--json", self.src)
        s = el.summary(p.stdout)
        el.restic(repo, "check", "--read-data")
        return s

    @staticmethod
    def count(repo, kind):
        n = 0
        for _, _, files in os.walk(os.path.join(repo, kind)):
            n += sum(1 for f in files if "-tmp-" not in f)
        return n

    def test_kill_after_some_packs(self):
        s = self.kill_when("packs", lambda r: self.count(r, "data") >= 3)
        self.assertEqual(s["files_new"] + s["files_changed"], 12)

    def test_kill_after_index_written_reuses_uploaded_data(self):
        # Enough packs (12 x 4 MiB of 192 MiB) and two index flushes, so the
        # index on disk covers a real share of the data even on a loaded
        # machine where the first flushes list only a pack or two.
        s = self.kill_when("index",
                           lambda r: self.count(r, "index") >= 2 and self.count(r, "data") >= 12)
        total = 12 * (16 << 20)
        self.assertLess(s["data_added"], total * 0.9, s)

    def test_kill_immediately(self):
        s = self.kill_when("early", lambda r: False if time.sleep(0.05) else True)
        self.assertEqual(s["files_new"] + s["files_changed"], 12)


if __name__ == "__main__":
    unittest.main()
