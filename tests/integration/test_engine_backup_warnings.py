"""Warnings restic 0.14 prints during a backup and goes on: malformed tag files
of --exclude-caches / --exclude-if-present. restic backs the tree up first, then
stash with the same flags (--force): same stderr, same exit code (0), and
byte-identical trees (no new data or tree blob). Symlinks carrying extended
attributes are part of the tree: restic 0.14 records none for a symlink."""
import os
import subprocess
import unittest

import enginelib as el

BAD = b"Signature: wrong\n"  # shorter than the CACHEDIR.TAG header
GOOD = b"Signature: 8a477f597d28d172789f06886806bc55\n"


@unittest.skipUnless(el.RESTIC, "restic 0.14 not installed")
class BackupWarningsTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = el.TempDir()
        files = {
            "CACHEDIR.TAG": BAD,  # beside the targets: restic looks there too
            "other/f": b"o\n",
            "src/bad/CACHEDIR.TAG": BAD, "src/bad/f": b"f\n",
            "src/empty/CACHEDIR.TAG": b"", "src/empty/f": b"f\n",
            "src/long/CACHEDIR.TAG": b"x" * 60, "src/long/f": b"f\n",
            "src/only/CACHEDIR.TAG": BAD,  # nothing else to decide: never read
            "src/hidden/CACHEDIR.TAG": BAD, "src/hidden/x.log": b"l\n",  # --exclude wins
            "src/ok/CACHEDIR.TAG": GOOD + b"rest", "src/ok/f": b"f\n",
            "src/two/.nb": b"HEAD", "src/two/CACHEDIR.TAG": BAD, "src/two/f": b"f\n",
            # .nb's rule excludes f first; only .nb itself reaches the cache rule.
            "src/twovalid/.nb": b"HEADER!", "src/twovalid/CACHEDIR.TAG": BAD,
            "src/twovalid/f": b"f\n",
            "src/dirtag/f": b"f\n",
            "src/zdangle/f": b"f\n",
        }
        for name, data in files.items():
            path = os.path.join(self.tmp.path, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        os.makedirs(os.path.join(self.tmp.path, "src/dirtag/CACHEDIR.TAG"))
        os.symlink("nowhere", os.path.join(self.tmp.path, "src/zdangle/CACHEDIR.TAG"))
        self.repo = os.path.join(self.tmp.path, "repo")
        el.stash(self.repo, "init")

    def tearDown(self):
        self.tmp.cleanup()

    def backup(self, tool, *flags):
        return subprocess.run([*tool, "-r", self.repo, "backup", "--json", *flags],
                              capture_output=True, env=el.env(), cwd=self.tmp.path)

    def test_malformed_tag_files_warn_as_restic(self):
        flags = ("--exclude-if-present", ".nb:HEADER", "--exclude-caches", "--exclude", "*.log",
                 "other", "src")
        r = self.backup([el.RESTIC, "--no-cache"], *flags)
        s = self.backup([el.STASH], "--force", *flags)
        self.assertEqual((r.returncode, s.returncode), (0, 0), (r.stderr, s.stderr))
        t = self.tmp.path
        expected = [
            'could not read signature from exclusion tagfile "%s/CACHEDIR.TAG": unexpected EOF' % t,
            'could not read signature from exclusion tagfile "%s/src/bad/CACHEDIR.TAG": '
            'unexpected EOF' % t,
            'could not read signature from exclusion tagfile "%s/src/dirtag/CACHEDIR.TAG": '
            'read %s/src/dirtag/CACHEDIR.TAG: is a directory' % (t, t),
            'invalid (too short) signature in exclusion tagfile "%s/src/empty/CACHEDIR.TAG"' % t,
            'invalid signature in exclusion tagfile "%s/src/long/CACHEDIR.TAG"' % t,
            # ".nb" sorts first and only the cache rule looks at it.
            'could not read signature from exclusion tagfile "%s/src/two/CACHEDIR.TAG": '
            'unexpected EOF' % t,
            'could not read signature from exclusion tagfile "%s/src/two/.nb": unexpected EOF' % t,
            'could not read signature from exclusion tagfile "%s/src/twovalid/CACHEDIR.TAG": '
            'unexpected EOF' % t,
            "could not open exclusion tagfile: open %s/src/zdangle/CACHEDIR.TAG: "
            "no such file or directory" % t,
        ]
        # restic 0.14 ends its open/lstat warnings without a newline (the
        # next warning runs on); stash ends every warning with one.
        self.assertEqual(r.stderr.decode(), "\n".join(expected))
        self.assertEqual(s.stderr.decode(), "\n".join(expected) + "\n")
        ss = el.summary(s.stdout)
        self.assertEqual((ss["data_blobs"], ss["tree_blobs"]), (0, 0))
        names = el.restic(self.repo, "ls", ss["snapshot_id"]).stdout.decode().splitlines()
        self.assertIn("/src/bad/f", names)
        self.assertNotIn("/src/ok/f", names)
        self.assertNotIn("/src/twovalid/f", names)
        self.assertIn("/src/twovalid/.nb", names)
        self.assertNotIn("/src/twovalid/CACHEDIR.TAG", names)

    def test_symlink_attributes_are_not_recorded(self):
        link = os.path.join(self.tmp.path, "src", "link")
        os.symlink("bad/f", link)
        try:
            os.setxattr(link, "trusted.stash", b"v", follow_symlinks=False)
        except OSError as e:
            self.skipTest("cannot set an attribute on a symlink here: %s" % e)
        f = os.path.join(self.tmp.path, "src", "bad", "f")
        os.setxattr(f, "user.kept", b"yes")
        r = self.backup([el.RESTIC, "--no-cache"], "src")
        s = self.backup([el.STASH], "--force", "src")
        self.assertEqual((r.returncode, s.returncode), (0, 0), (r.stderr, s.stderr))
        self.assertEqual(s.stderr, b"")
        ss = el.summary(s.stdout)
        self.assertEqual((ss["data_blobs"], ss["tree_blobs"]), (0, 0))


if __name__ == "__main__":
    unittest.main()
