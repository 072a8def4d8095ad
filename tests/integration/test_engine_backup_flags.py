"""restic 0.14's backup flags, each checked with restic as the oracle: restic
backs the same tree up first, then stash with the same flags (--force, so it
reads everything) must add no data and no tree blob — its trees are byte-
identical — and `restic ls` must list the same entries in both snapshots."""
import json
import os
import shutil
import subprocess
import unittest

import enginelib as el


def ls(repo, snap):
    return el.restic(repo, "ls", snap).stdout.decode().splitlines()[1:]


@unittest.skipUnless(el.RESTIC, "restic 0.14 not installed")
class BackupFlagsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = el.TempDir()
        self.src = os.path.join(self.tmp.path, "src")
        files = {
            "a.txt": b"a\n", "B.TXT": b"upper\n", "big.bin": os.urandom(5000),
            "keep/x": b"x\n", "keep/Notes.Txt": b"n\n",
            "cache/CACHEDIR.TAG": b"Signature: 8a477f597d28d172789f06886806bc55 # tag\n",
            "cache/blob": b"cached\n", "cache/sub/deep": b"deep\n",
            "badtag/CACHEDIR.TAG": b"Signature: wrong\n", "badtag/stays": b"s\n",
            "marked/.nobackup": b"HEADER rest", "marked/gone": b"g\n",
            "wronghead/.nobackup": b"OTHER", "wronghead/kept": b"k\n",
            "logs/app.log": b"log\n", "logs/keep.me": b"me\n",
        }
        for name, data in files.items():
            path = os.path.join(self.src, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        self.n = 0

    def tearDown(self):
        self.tmp.cleanup()

    def new_repo(self):
        self.n += 1
        repo = os.path.join(self.tmp.path, "repo%d" % self.n)
        el.stash(repo, "init")
        return repo

    def same_as_restic(self, *flags, stdin=None, targets=("src",)):
        """Backs up with restic, then stash; returns (restic, stash) summaries."""
        repo = self.new_repo()
        kw = {"cwd": self.tmp.path}
        r = subprocess.run([el.RESTIC, "--no-cache", "-r", repo, "backup", "--json", *flags,
                            *targets], input=stdin, capture_output=True, env=el.env(), **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = subprocess.run([el.STASH, "-r", repo, "backup", "--json", "--force", *flags,
                            *targets], input=stdin, capture_output=True, env=el.env(), **kw)
        self.assertEqual(s.returncode, 0, s.stderr)
        rs, ss = el.summary(r.stdout), el.summary(s.stdout)
        self.assertEqual((ss["data_blobs"], ss["tree_blobs"]), (0, 0),
                         "stash's trees differ from restic's for %r" % (flags,))
        for key in ("files_new", "dirs_new", "total_files_processed", "total_bytes_processed"):
            self.assertEqual(rs[key], ss[key], key)
        self.assertEqual(ls(repo, rs["snapshot_id"]), ls(repo, ss["snapshot_id"]))
        rsn = json.loads(el.restic(repo, "cat", "snapshot", rs["snapshot_id"]).stdout)
        ssn = json.loads(el.restic(repo, "cat", "snapshot", ss["snapshot_id"]).stdout)
        self.assertEqual(rsn.get("paths"), ssn.get("paths"))
        self.assertEqual(rsn.get("excludes"), ssn.get("excludes"))
        self.repo, self.snap = repo, ss["snapshot_id"]
        return rs, ss

    def listed(self):
        return ls(self.repo, self.snap)

    def test_exclude_caches_and_if_present(self):
        self.same_as_restic("--exclude-caches", "--exclude-if-present", ".nobackup:HEADER")
        names = self.listed()
        self.assertIn("/src/cache/CACHEDIR.TAG", names)
        self.assertNotIn("/src/cache/blob", names)
        self.assertIn("/src/badtag/stays", names)
        self.assertIn("/src/marked/.nobackup", names)
        self.assertNotIn("/src/marked/gone", names)
        self.assertIn("/src/wronghead/kept", names)

    def test_iexclude_and_exclude_files(self):
        ex = os.path.join(self.tmp.path, "ex")
        with open(ex, "w") as f:
            f.write("# comment\n  */$STASH_T_DIR/*.log  \n\n")
        iex = os.path.join(self.tmp.path, "iex")
        with open(iex, "w") as f:
            f.write("*/KEEP/notes.txt\n")
        os.environ["STASH_T_DIR"] = "logs"
        try:
            self.same_as_restic("--iexclude", "*.txt", "--exclude", "*.bin", "--exclude-file", ex,
                                "--iexclude-file", iex)
        finally:
            del os.environ["STASH_T_DIR"]
        names = self.listed()
        for gone in ("/src/a.txt", "/src/B.TXT", "/src/big.bin", "/src/logs/app.log",
                     "/src/keep/Notes.Txt"):
            self.assertNotIn(gone, names)
        self.assertIn("/src/logs/keep.me", names)

    def test_exclude_larger_than(self):
        self.same_as_restic("--exclude-larger-than", "4k")
        self.assertNotIn("/src/big.bin", self.listed())
        self.assertIn("/src/a.txt", self.listed())

    def test_files_from_variants(self):
        lst = os.path.join(self.tmp.path, "list")
        with open(lst, "w") as f:
            f.write("# targets\nsrc/*.txt\n  src/keep  \nsrc/nothing*\n")
        verb = os.path.join(self.tmp.path, "verbatim")
        with open(verb, "w") as f:
            f.write("src/logs\n")
        raw = os.path.join(self.tmp.path, "raw")
        with open(raw, "wb") as f:
            f.write(b"src/big.bin\0src/B.TXT\0")
        self.same_as_restic("--files-from", lst, "--files-from-verbatim", verb,
                            "--files-from-raw", raw, targets=())
        names = self.listed()
        self.assertIn("/src/a.txt", names)
        self.assertIn("/src/keep/x", names)
        self.assertIn("/src/logs/app.log", names)
        self.assertNotIn("/src/cache", names)

    def test_stdin(self):
        data = os.urandom(3 << 20) + b"tail"
        rs, ss = self.same_as_restic("--stdin", "--stdin-filename", "db.sql", "--time",
                                     "2024-05-01 10:00:00", "--host", "h", stdin=data,
                                     targets=())
        self.assertEqual(ss["total_bytes_processed"], len(data))
        out = el.stash(self.repo, "dump", self.snap, "/db.sql").stdout
        self.assertEqual(out, data)
        # Directories above the file take the time of the run (restic's
        # time.Now()), so only the file's tree can be compared exactly.
        repo = self.new_repo()
        for tool in ([el.RESTIC, "--no-cache"], [el.STASH]):
            p = subprocess.run(tool + ["-r", repo, "backup", "--stdin", "--stdin-filename",
                                       "dumps/db.sql", "--time", "2024-05-01 10:00:00"],
                               input=data, capture_output=True, env=el.env())
            self.assertEqual(p.returncode, 0, p.stderr)
        snaps = json.loads(el.restic(repo, "snapshots", "--json").stdout)
        self.assertEqual([s["paths"] for s in snaps], [["/dumps/db.sql"]] * 2)
        trees = set()
        for sn in snaps:
            root = json.loads(el.restic(repo, "cat", "blob", sn["tree"]).stdout)["nodes"]
            trees.add(root[0]["subtree"])
        self.assertEqual(len(trees), 1)
        p = el.stash(self.repo, "backup", "--stdin", "src", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"--stdin was specified and files/dirs were listed", p.stderr)

    def test_dry_run_writes_nothing_and_counts_as_restic(self):
        repo = self.new_repo()
        before = sorted(os.path.join(d, f) for d, _, fs in os.walk(repo) for f in fs)
        s = el.summary(el.stash(repo, "backup", "--json", "-n", "src", cwd=self.tmp.path).stdout)
        r = el.summary(el.restic(repo, "backup", "--json", "--dry-run", "src",
                                 cwd=self.tmp.path).stdout)
        after = sorted(os.path.join(d, f) for d, _, fs in os.walk(repo) for f in fs)
        self.assertEqual(before, after)
        self.assertIs(s.get("dry_run"), True)
        for key in ("files_new", "dirs_new", "data_blobs", "tree_blobs", "data_added"):
            self.assertEqual(r[key], s[key], key)
        text = el.stash(repo, "backup", "--dry-run", "src", cwd=self.tmp.path).stdout.decode()
        self.assertIn("Would add to the repository:", text)
        self.assertNotIn("saved", text)

    def test_ignore_inode_and_ctime(self):
        dbg = {"STASH_DEBUG_COUNT_READS": "1"}
        for flags, reads in ((["--ignore-inode"], 0), (["--ignore-ctime"], 1), ([], 2)):
            srepo, rrepo = self.new_repo(), self.new_repo()
            el.stash(srepo, "backup", "src", cwd=self.tmp.path)
            el.restic(rrepo, "backup", "src", cwd=self.tmp.path)
            a = os.path.join(self.src, "a.txt")
            os.chmod(a, os.stat(a).st_mode ^ 0o040)  # only the ctime changes
            # Replaced in place by a copy: same size and mtime, new inode.
            b = os.path.join(self.src, "keep", "x")
            shutil.copy2(b, b + ".new")
            os.replace(b + ".new", b)
            p = el.stash(srepo, "backup", *flags, "src", cwd=self.tmp.path, extra_env=dbg)
            self.assertIn(b"content opens: %d\n" % reads, p.stderr, flags)
            r = el.summary(el.restic(rrepo, "backup", "--json", *flags, "src",
                                     cwd=self.tmp.path).stdout)
            self.assertEqual(r["files_changed"], reads, flags)

    def test_one_file_system_keeps_mount_points_empty(self):
        mnt = os.path.join(self.src, "mnt")
        os.makedirs(mnt)
        probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs none \"$1\"", "sh",
                                mnt], capture_output=True)
        if probe.returncode != 0:
            self.skipTest("cannot mount a tmpfs in a private mount namespace: %r" % probe.stderr)
        repo = self.new_repo()
        script = """set -e
mount -t tmpfs none "$1/src/mnt"
mkdir "$1/src/mnt/d"; echo inside > "$1/src/mnt/f"
cd "$1"
restic --no-cache -r "$2" backup --json -x src | tail -n 1
"$3" -r "$2" backup --json --force -x src | tail -n 1
"$3" -r "$2" backup --json --force src | tail -n 1
"""
        p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", self.tmp.path, repo,
                            el.STASH], capture_output=True, env=el.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        r, s, full = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertEqual((s["data_blobs"], s["tree_blobs"]), (0, 0))
        names = ls(repo, s["snapshot_id"])
        self.assertIn("/src/mnt", names)
        self.assertNotIn("/src/mnt/f", names)
        self.assertEqual(ls(repo, r["snapshot_id"]), names)
        self.assertIn("/src/mnt/f", ls(repo, full["snapshot_id"]))


if __name__ == "__main__":
    unittest.main()
