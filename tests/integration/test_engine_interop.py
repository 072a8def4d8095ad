"""stash <-> restic 0.14 interop for the backup write path (issue Must-show 1
and 3): restic checks and restores what stash backed up, identically; and the
same tree backed up by the other tool adds no data (same chunks, same tree
bytes)."""
import json
import os
import unittest

import enginelib as el


@unittest.skipUnless(el.RESTIC, "restic is not installed")
class StashToResticTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = el.TempDir()
        cls.src = el.make_corpus(os.path.join(cls.tmp.path, "src"))
        cls.repo = os.path.join(cls.tmp.path, "repo")
        el.stash(cls.repo, "init")
        p = el.stash(cls.repo, "backup", "--json", "--host", "h1", "--tag", "a,b", cls.src)
        cls.summary = el.summary(p.stdout)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_summary_counts_every_file(self):
        s = self.summary
        self.assertEqual(s["files_unmodified"], 0)
        # small, big, text, empty, sparse + 9 odd + bottom + 600 wide + hardlink + 5 perm
        self.assertEqual(s["files_new"], 621)
        # restic 0.14 prints the short id in its summary; scripts pass it back to restic.
        self.assertEqual(len(s["snapshot_id"]), 8)
        self.assertGreater(s["data_added"], 12 << 20)

    def test_restic_check_read_data_passes(self):
        p = el.restic(self.repo, "check", "--read-data")
        self.assertIn(b"no errors were found", p.stdout)

    def test_restic_restore_is_identical(self):
        target = os.path.join(self.tmp.path, "restored")
        el.restic(self.repo, "restore", "latest", "--target", target)
        got = el.signature(os.path.join(target, self.src.lstrip("/")))
        want = el.signature(self.src)
        self.assertEqual(el.diff_signatures(want, got), [])

    def test_restic_sees_snapshot_metadata(self):
        snaps = json.loads(el.restic(self.repo, "snapshots", "--json").stdout)
        self.assertEqual(len(snaps), 1)
        self.assertEqual(snaps[0]["hostname"], "h1")
        self.assertEqual(snaps[0]["tags"], ["a", "b"])
        self.assertEqual(snaps[0]["paths"], [self.src])


@unittest.skipUnless(el.RESTIC, "restic is not installed")
class SameBytesTest(unittest.TestCase):
    """Both tools cut the same chunks and encode the same trees."""

    def setUp(self):
        self.tmp = el.TempDir()
        self.src = el.make_corpus(os.path.join(self.tmp.path, "src"), big_mib=6)

    def tearDown(self):
        self.tmp.cleanup()

    def test_restic_adds_nothing_after_stash(self):
        repo = os.path.join(self.tmp.path, "repo")
        el.stash(repo, "init")
        # Relative targets: the root tree holds only "src", whose metadata
        # does not change between the runs (unlike /tmp's).
        el.stash(repo, "backup", "--host", "h", "src", cwd=self.tmp.path)
        # --force: restic re-reads and re-chunks every file instead of
        # trusting stash's tree as its parent.
        p = el.restic(repo, "backup", "--json", "--force", "--host", "h", "src", cwd=self.tmp.path)
        s = el.summary(p.stdout)
        self.assertEqual(s["data_added"], 0, s)
        self.assertEqual(s["tree_blobs"], 0, s)
        el.restic(repo, "check")

    def test_stash_adds_nothing_after_restic(self):
        repo = os.path.join(self.tmp.path, "repo")
        el.restic(repo, "init")
        el.restic(repo, "backup", "--host", "h", "src", cwd=self.tmp.path)
        p = el.stash(repo, "backup", "--json", "--force", "--host", "h", "src", cwd=self.tmp.path)
        s = el.summary(p.stdout)
        self.assertEqual(s["data_added"], 0, s)
        self.assertEqual(s["tree_blobs"], 0, s)
        self.assertEqual(s["files_new"] + s["files_changed"], 621)
        el.restic(repo, "check", "--read-data")


if __name__ == "__main__":
    unittest.main()
