"""restic → stash (the engine issue's Must-show 2): a repository written by the
real restic 0.14 is listed, checked, dumped and restored by stash exactly as
restic itself does it."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import readlib  # noqa: E402
from readlib import must, restic, stash  # noqa: E402


@unittest.skipUnless(readlib.have_restic(), "restic 0.14 is not installed")
class ResticToStash(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = readlib.TempDir()
        cls.src = os.path.join(cls.tmp.path, "src")
        readlib.make_corpus(cls.src)
        cls.repo = os.path.join(cls.tmp.path, "repo")
        must(restic(cls.repo, "init"))
        must(restic(cls.repo, "backup", "src", "--host", "h1", "--tag", "t1,t2", cwd=cls.tmp.path))
        with open(os.path.join(cls.src, "small.txt"), "ab") as f:
            f.write(b"second version\n")
        extra = os.path.join(cls.tmp.path, "extra")
        os.makedirs(extra)
        with open(os.path.join(extra, "note"), "wb") as f:
            f.write(b"a second path makes a multi-line snapshots table\n")
        must(restic(cls.repo, "backup", cls.src, extra, "--host", "h2", cwd=cls.tmp.path))
        cls.restic_restore = os.path.join(cls.tmp.path, "restic-restore")
        must(restic(cls.repo, "restore", "latest", "--target", cls.restic_restore))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_snapshots_json_and_table_match_restic(self):
        ours = must(stash(self.repo, "snapshots", "--json"))
        theirs = must(restic(self.repo, "snapshots", "--json"))
        self.assertEqual(json.loads(ours.stdout), json.loads(theirs.stdout))
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertEqual(must(stash(self.repo, "snapshots")).stdout,
                         must(restic(self.repo, "snapshots")).stdout)
        for args in (["--host", "h2"], ["--tag", "t2"], ["--compact"], ["--latest", "1"]):
            self.assertEqual(must(stash(self.repo, "snapshots", *args)).stdout,
                             must(restic(self.repo, "snapshots", *args)).stdout, args)

    def test_ls_matches_restic(self):
        for args in (["latest"], ["latest", "-l"], ["--json", "latest"],
                     ["latest", self.src + "/odd"], ["--host", "h1", "latest", "/src/wide"]):
            ours = stash(self.repo, "ls", *args)
            theirs = restic(self.repo, "ls", *args)
            self.assertEqual(ours.returncode, 0, ours.stderr)
            self.assertEqual(ours.stdout, theirs.stdout, args)

    def test_check_read_data_passes(self):
        out = must(stash(self.repo, "check", "--read-data"))
        lines = out.stdout.decode().splitlines()
        self.assertEqual(lines[-1], "no errors were found")
        for phase in ("load indexes", "check all packs", "check snapshots, trees and blobs",
                      "read all data"):
            self.assertIn(phase, lines)
        self.assertEqual(out.stderr, b"")

    def test_restore_is_identical_to_restics_own(self):
        target = os.path.join(self.tmp.path, "stash-restore")
        out = must(stash(self.repo, "restore", "latest", "--target", target))
        self.assertRegex(out.stdout.decode(), r"^restoring <Snapshot [0-9a-f]{8} of \[")
        ours, our_links = readlib.describe_tree(target)
        theirs, their_links = readlib.describe_tree(self.restic_restore)
        self.assertEqual(sorted(ours), sorted(theirs))
        for path in theirs:
            self.assertEqual(ours[path], theirs[path], path)
        self.assertEqual(our_links, their_links)
        self.assertTrue(any(len(g) > 1 for g in our_links), "hardlinks were restored as copies")
        # The sparse file keeps its holes.
        sparse = os.path.join(target, self.src.lstrip("/"), "sparse.img")
        self.assertLess(readlib.allocated_bytes(sparse), 2 << 20)

    def test_restore_include_and_exclude_select_as_restic(self):
        for flags in (["--include", "/src/odd"], ["--include", "*.txt"],
                      ["--exclude", "wide"], ["--exclude", "/src/d00/**/leaf"],
                      ["--iinclude", "*.TXT"], ["--iexclude", "/SRC/WIDE"]):
            a = os.path.join(self.tmp.path, "inc-stash-" + str(abs(hash(str(flags)))))
            b = os.path.join(self.tmp.path, "inc-restic-" + str(abs(hash(str(flags)))))
            must(stash(self.repo, "restore", "--host", "h1", "latest", "--target", a, *flags))
            must(restic(self.repo, "restore", "--host", "h1", "latest", "--target", b, *flags))
            ours, _ = readlib.describe_tree(a)
            theirs, _ = readlib.describe_tree(b)
            self.assertEqual(sorted(ours), sorted(theirs), flags)
            self.assertEqual(ours, theirs, flags)

    def test_dump_and_cat_match_restic(self):
        for path in ("/src/big.bin", "/src/odd/a<b&c>", "/src/empty"):
            ours = stash(self.repo, "dump", "--host", "h1", "latest", path)
            theirs = restic(self.repo, "dump", "--host", "h1", "latest", path)
            self.assertEqual(ours.returncode, 0, ours.stderr)
            self.assertEqual(ours.stdout, theirs.stdout, path)
        # A directory comes out as a tar with the same entries and contents.
        import hashlib
        import io
        import tarfile

        def entries(data):
            out = {}
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                for m in tar.getmembers():
                    content = (hashlib.sha256(tar.extractfile(m).read()).hexdigest()
                               if m.isfile() else m.linkname)
                    # Times differ in precision (restic 0.14 rounds to seconds, stash
                    # keeps nanoseconds in pax records), so they are not compared.
                    out[m.name] = (m.type, m.mode, m.uid, m.gid, content)
            return out
        for path in ("/src/odd", "/src", "/"):
            ours = stash(self.repo, "dump", "--host", "h1", "latest", path)
            theirs = restic(self.repo, "dump", "--host", "h1", "latest", path)
            self.assertEqual(ours.returncode, 0, ours.stderr)
            self.assertEqual(entries(ours.stdout), entries(theirs.stdout), path)
        missing = stash(self.repo, "dump", "latest", "/nope")
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn(b'path "/nope" not found in snapshot', missing.stderr)

        self.assertEqual(must(stash(self.repo, "cat", "config")).stdout,
                         must(restic(self.repo, "cat", "config")).stdout)
        snaps = json.loads(must(restic(self.repo, "snapshots", "--json")).stdout)
        for sn in snaps:
            self.assertEqual(must(stash(self.repo, "cat", "snapshot", sn["short_id"])).stdout,
                             must(restic(self.repo, "cat", "snapshot", sn["id"])).stdout)
            # The root tree as raw bytes: its SHA-256 is its id.
            import hashlib
            blob = must(stash(self.repo, "cat", "blob", sn["tree"])).stdout
            self.assertEqual(hashlib.sha256(blob).hexdigest(), sn["tree"])
        index_ids = os.listdir(os.path.join(self.repo, "index"))
        self.assertEqual(must(stash(self.repo, "cat", "index", index_ids[0])).stdout,
                         must(restic(self.repo, "cat", "index", index_ids[0])).stdout)


if __name__ == "__main__":
    unittest.main()
