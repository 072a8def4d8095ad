"""stash → stash (and restic as the second opinion): what stash backs up,
stash restores bit-exact with metadata, and restic 0.14 restores the same
tree from the same repository."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import readlib  # noqa: E402
from readlib import must, restic, stash  # noqa: E402


@unittest.skipUnless(readlib.have_restic(), "restic 0.14 is not installed")
class StashRoundTrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = readlib.TempDir()
        cls.src = os.path.join(cls.tmp.path, "src")
        readlib.make_corpus(cls.src, seed=2)
        cls.repo = os.path.join(cls.tmp.path, "repo")
        must(stash(cls.repo, "init"))
        must(stash(cls.repo, "backup", "src", "--host", "rt", cwd=cls.tmp.path))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_restore_equals_source_and_restics_restore(self):
        ours = os.path.join(self.tmp.path, "stash-restore")
        theirs = os.path.join(self.tmp.path, "restic-restore")
        out = must(stash(self.repo, "restore", "latest", "--target", ours, "--verify"))
        self.assertIn(b"finished verifying", out.stdout)
        must(restic(self.repo, "restore", "latest", "--target", theirs))
        src, src_links = readlib.describe_tree(self.src)
        a, a_links = readlib.describe_tree(os.path.join(ours, "src"))
        b, b_links = readlib.describe_tree(os.path.join(theirs, "src"))
        self.assertEqual(sorted(a), sorted(src))
        for path in src:
            expected = dict(src[path])
            if expected["kind"] == 0o040000 and path == b".":
                continue
            self.assertEqual(a[path], expected, path)
            self.assertEqual(b[path], expected, path)
        self.assertEqual(a_links, src_links)
        self.assertEqual(b_links, src_links)
        self.assertLess(readlib.allocated_bytes(os.path.join(ours, "src", "sparse.img")), 2 << 20)

    def test_stash_and_restic_list_and_check_alike(self):
        self.assertEqual(must(stash(self.repo, "ls", "--json", "latest")).stdout,
                         must(restic(self.repo, "ls", "--json", "latest")).stdout)
        self.assertEqual(must(stash(self.repo, "snapshots", "--json")).stdout,
                         must(restic(self.repo, "snapshots", "--json")).stdout)
        self.assertTrue(must(stash(self.repo, "check", "--read-data")).stdout.endswith(
            b"no errors were found\n"))
        self.assertTrue(must(restic(self.repo, "check", "--read-data")).stdout.endswith(
            b"no errors were found\n"))


if __name__ == "__main__":
    unittest.main()
