"""stash check on damaged repositories written by restic 0.14, and the errors a
user acts on: a flipped byte in a pack (check --read-data names the pack and
the blob), a deleted pack, a wrong password, no repository at all."""
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import readlib  # noqa: E402
from readlib import must, restic, stash  # noqa: E402


def packs(repo):
    out = []
    for sub in sorted(os.listdir(os.path.join(repo, "data"))):
        for name in sorted(os.listdir(os.path.join(repo, "data", sub))):
            path = os.path.join(repo, "data", sub, name)
            out.append((name, path, os.path.getsize(path)))
    return out


@unittest.skipUnless(readlib.have_restic(), "restic 0.14 is not installed")
class CheckCorruption(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = readlib.TempDir()
        src = os.path.join(cls.tmp.path, "src")
        os.makedirs(src)
        for i in range(5):
            with open(os.path.join(src, "f%d" % i), "wb") as f:
                f.write(os.urandom(300_000))
        cls.pristine = os.path.join(cls.tmp.path, "pristine")
        must(restic(cls.pristine, "init"))
        must(restic(cls.pristine, "backup", src))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def copy_repo(self, name):
        dst = os.path.join(self.tmp.path, name)
        shutil.copytree(self.pristine, dst)
        for dirpath, dirnames, filenames in os.walk(dst):
            for n in filenames:
                os.chmod(os.path.join(dirpath, n), 0o600)
        return dst

    def data_pack(self, repo):
        # The largest pack holds the file data.
        return max(packs(repo), key=lambda p: p[2])

    def test_pristine_repository_passes(self):
        out = must(stash(self.pristine, "check", "--read-data"))
        self.assertTrue(out.stdout.decode().endswith("no errors were found\n"))

    def test_flipped_byte_names_pack_and_blob(self):
        repo = self.copy_repo("flipped")
        name, path, size = self.data_pack(repo)
        with open(path, "r+b") as f:
            f.seek(1000)  # inside the first blob, far from the header
            b = f.read(1)
            f.seek(1000)
            f.write(bytes([b[0] ^ 0x40]))
        # The structure is intact, so a check without --read-data passes.
        self.assertEqual(stash(repo, "check").returncode, 0)
        out = stash(repo, "check", "--read-data")
        self.assertEqual(out.returncode, 1)
        err = out.stderr.decode()
        self.assertIn("pack " + name, err)
        self.assertRegex(err, r"blob [0-9a-f]{64}: ")
        self.assertIn("Fatal: repository contains errors", err)
        self.assertNotIn("no errors were found", out.stdout.decode())
        # restic agrees that the repository is damaged.
        self.assertNotEqual(restic(repo, "check", "--read-data").returncode, 0)

    def test_deleted_pack_is_named(self):
        repo = self.copy_repo("deleted")
        name, path, _ = self.data_pack(repo)
        os.remove(path)
        out = stash(repo, "check")
        self.assertEqual(out.returncode, 1)
        self.assertIn(("pack %s: does not exist" % name).encode(), out.stderr)
        # Restoring reports the files whose data is gone, then fails.
        target = os.path.join(self.tmp.path, "restore-deleted")
        res = stash(repo, "restore", "latest", "--target", target)
        self.assertEqual(res.returncode, 1)
        self.assertIn(b"ignoring error for /", res.stderr)
        self.assertIn(b"Fatal: There were", res.stderr)

    def test_truncated_pack_has_unexpected_size(self):
        repo = self.copy_repo("truncated")
        name, path, size = self.data_pack(repo)
        with open(path, "r+b") as f:
            f.truncate(size - 10)
        out = stash(repo, "check")
        self.assertEqual(out.returncode, 1)
        self.assertIn(("pack %s: unexpected file size: got %d, expected %d" %
                       (name, size - 10, size)).encode(), out.stderr)

    def test_unreferenced_pack_is_not_an_error(self):
        repo = self.copy_repo("orphan")
        name, path, _ = self.data_pack(repo)
        stray = "ff" * 32
        os.makedirs(os.path.join(repo, "data", "ff"), exist_ok=True)
        shutil.copy(path, os.path.join(repo, "data", "ff", stray))
        out = stash(repo, "check")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(("pack %s: not referenced in any index" % stray).encode(), out.stdout)
        self.assertIn(b"1 additional files were found in the repo", out.stdout)
        self.assertTrue(out.stdout.endswith(b"no errors were found\n"))

    def test_wrong_password_and_missing_repository(self):
        out = stash(self.pristine, "snapshots", env={"RESTIC_PASSWORD": "wrong"})
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"Fatal: wrong password or no key found", out.stderr)
        nowhere = os.path.join(self.tmp.path, "nowhere")
        out = stash(nowhere, "check")
        self.assertEqual(out.returncode, 1)
        self.assertIn(("Fatal: unable to open config file: stat %s/config: no such file or "
                       "directory\nIs there a repository at the following location?\n%s" %
                       (nowhere, nowhere)).encode(), out.stderr)


if __name__ == "__main__":
    unittest.main()
