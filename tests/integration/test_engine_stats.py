"""`stash stats` against restic 0.14's on the same repository: every counting
mode, text and --json, several snapshot selections (all, latest, id prefixes,
--host/--tag/--path, unknown ids), on a repository restic wrote, one stash
wrote (both compressed, format v2) and a restic v1 repository. The tree has
hard links, duplicate files at several paths, a symlink, empty and sparse
files, compressible and random data, and files that change between
snapshots."""
import json
import os
import shutil
import unittest

import enginelib as el

MODES = ("restore-size", "files-by-contents", "raw-data", "blobs-per-file")


def make_tree(src):
    os.makedirs(os.path.join(src, "sub", "deeper"))
    j = lambda *p: os.path.join(src, *p)  # noqa: E731
    with open(j("a.txt"), "wb") as f:
        for i in range(20000):
            f.write(b"line %d of a compressible text file\n" % i)
    el.write_random(j("dup1.bin"), 3 << 20, 7)
    shutil.copy(j("dup1.bin"), j("sub", "dup2.bin"))
    shutil.copy(j("dup1.bin"), j("sub", "deeper", "dup3.bin"))
    el.write_random(j("hard1"), 300000, 8)
    os.link(j("hard1"), j("sub", "hard2"))
    open(j("empty"), "wb").close()
    open(j("sub", "empty2"), "wb").close()
    os.symlink("a.txt", j("link"))
    el.write_random(j("rnd.bin"), 2 << 20, 9)
    with open(j("zeros"), "wb") as f:
        f.truncate(5 << 20)


def change_tree(src):
    with open(os.path.join(src, "a.txt"), "ab") as f:
        f.write(b"appended\n")
    el.write_random(os.path.join(src, "rnd.bin"), 2 << 20, 10)  # same path, new content
    with open(os.path.join(src, "sub", "new"), "wb") as f:
        f.write(b"new file\n")


@unittest.skipUnless(el.RESTIC, "restic 0.14 not installed")
class StatsTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = el.TempDir()
        cls.repos = {}
        for writer in ("restic", "stash"):
            cls.repos[writer] = cls.build(writer)

    @classmethod
    def build(cls, writer, v1=False):
        base = os.path.join(cls.tmp.path, writer + ("-v1" if v1 else ""))
        src = os.path.join(base, "src")
        repo = os.path.join(base, "repo")
        os.makedirs(base)
        make_tree(src)
        if v1:
            el.restic(repo, "init", "--repository-version", "1")
        else:
            el.stash(repo, "init")  # cheap keys; the data is the writer's

        def backup(*args):
            tool = el.restic if writer == "restic" else el.stash
            tool(repo, "backup", *args, cwd=base)

        backup("--host", "h1", "--tag", "t1", "src")
        change_tree(src)
        backup("--host", "h2", "--tag", "t2,t3", "src")
        backup("--host", "h1", "src/sub")
        backup("--host", "h1", "--tag", "t2", "src")  # unchanged: same trees as the 2nd
        return repo

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def both(self, repo, *args):
        # --no-lock: a lock costs restic's 200 ms race check per run (the
        # lock itself is checked in test_engine_features' ReadLockTest).
        r = el.restic(repo, "--no-lock", "stats", *args, check=False)
        s = el.stash(repo, "--no-lock", "stats", *args, check=False)
        return r, s

    def assertSame(self, repo, *args):
        r, s = self.both(repo, *args)
        self.assertEqual(r.returncode, s.returncode, (args, r.stderr, s.stderr))
        self.assertEqual(r.stdout.decode(), s.stdout.decode(), args)
        self.assertEqual(r.stderr.decode(), s.stderr.decode(), args)
        return s

    def ids(self, repo):
        snaps = json.loads(el.restic(repo, "snapshots", "--json").stdout)
        return [sn["short_id"] for sn in sorted(snaps, key=lambda sn: sn["time"])]

    def selections(self, repo):
        ids = self.ids(repo)
        src = os.path.join(os.path.dirname(repo), "src")
        return [
            [], ["latest"], [ids[0]], [ids[0], ids[2], ids[0][:5]], ["--host", "h1"],
            ["--tag", "t2,t3"], ["--tag", "t1", "--tag", "t2"], ["--path", src],
            ["latest", "--host", "h2"], ["latest", "--host", "nobody"], ["deadbeef", ids[1]],
            [ids[1], "--host", "h1"],
        ]

    def check_repo(self, repo):
        for mode in MODES:
            for sel in self.selections(repo):
                self.assertSame(repo, "--json", "--mode", mode, *sel)
            self.assertSame(repo, "--mode", mode)
            self.assertSame(repo, "--mode", mode, "latest")

    def test_restic_written_repository(self):
        self.check_repo(self.repos["restic"])

    def test_stash_written_repository(self):
        self.check_repo(self.repos["stash"])

    def test_restic_v1_repository(self):
        repo = self.build("restic", v1=True)
        # Only these two read blob sizes, which differ without compression.
        for mode in ("raw-data", "blobs-per-file"):
            self.assertSame(repo, "--json", "--mode", mode)

    def test_numbers_mean_what_they_say(self):
        # Independent of restic: the restore size of one snapshot is what a
        # restore writes, counting the hard-linked file once.
        repo = self.repos["stash"]
        first = self.ids(repo)[0]
        s = el.json_lines(el.stash(repo, "stats", "--json", first).stdout)[0]
        text = sum(len(b"line %d of a compressible text file\n" % i) for i in range(20000))
        src_size = text + 3 * (3 << 20) + 300000 + (2 << 20) + (5 << 20)
        self.assertEqual(s["total_size"], src_size)
        self.assertEqual(s["snapshots_count"], 1)
        raw = el.json_lines(el.stash(repo, "stats", "--json", "--mode", "raw-data").stdout)[0]
        packs = sum(os.path.getsize(os.path.join(d, f))
                    for d, _, fs in os.walk(os.path.join(repo, "data")) for f in fs)
        self.assertLess(raw["total_size"], packs)  # blobs without pack headers
        self.assertGreater(raw["total_size"], packs * 0.9)

    def test_unknown_mode(self):
        repo = self.repos["stash"]
        r, s = self.both(repo, "--mode", "everything")
        self.assertEqual((r.returncode, s.returncode), (1, 1))
        self.assertEqual(r.stderr, s.stderr)
        self.assertIn(b"unknown counting mode: everything", s.stderr)
        self.assertEqual(os.listdir(os.path.join(repo, "locks")), [])

if __name__ == "__main__":
    unittest.main()
