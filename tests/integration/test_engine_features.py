"""stash backup features a user of restic's command line or of the embedded
node notices, each checked with restic 0.14 as the oracle.

Path map: in embedded mode the sidecar runs on the host with env
STASH_PATH_MAP (container path -> host directory); the snapshot must look as
if restic had run inside the container (paths and tree of /source/data)."""
import base64
import json
import os
import re
import signal
import unittest

import enginelib as el


def opens(stderr):
    m = re.search(rb"stash-debug: content opens: (\d+)", stderr)
    assert m, stderr
    return int(m.group(1))


def ls_json(repo, snap="latest"):
    out = el.restic(repo, "ls", "--json", snap).stdout
    return {n["path"]: n for n in el.json_lines(out) if n.get("struct_type") == "node"}


def cat_json(repo, *args):
    return json.loads(el.restic(repo, "cat", *args).stdout)


def subtree(repo, snap, path):
    """The tree id restic stores for directory `path` of snapshot `snap`."""
    tree = cat_json(repo, "snapshot", snap)["tree"]
    for part in [p for p in path.split("/") if p]:
        nodes = cat_json(repo, "blob", tree)["nodes"]
        tree = next(n["subtree"] for n in nodes if n["name"] == part)
    return tree


@unittest.skipUnless(el.RESTIC, "restic 0.14 not installed")
class PathMapTest(unittest.TestCase):
    def setUp(self):
        self.tmp = el.TempDir()
        self.repo = os.path.join(self.tmp.path, "repo")
        el.stash(self.repo, "init")
        self.vol = os.path.join(self.tmp.path, "volumes", "demo", "source-pvc")
        os.makedirs(os.path.join(self.vol, "sub"))
        with open(os.path.join(self.vol, "data.txt"), "w") as f:
            f.write("sample_data\n")
        with open(os.path.join(self.vol, "sub", "deep.txt"), "w") as f:
            f.write("deeper\n")
        os.chmod(self.vol, 0o750)
        self.map = {"STASH_PATH_MAP": json.dumps({"/source/data": self.vol}),
                    "STASH_DEBUG_COUNT_READS": "1"}

    def tearDown(self):
        self.tmp.cleanup()

    def backup(self, *args, extra=None):
        e = dict(self.map)
        e.update(extra or {})
        return el.stash(self.repo, "backup", "--json", "--host", "pod", *args, extra_env=e)

    def test_snapshot_records_container_paths_and_restic_restores_them(self):
        first = self.backup("/source/data")
        s1 = el.summary(first.stdout)
        self.assertEqual(s1["files_new"], 2)
        snaps = json.loads(el.restic(self.repo, "snapshots", "--json").stdout)
        self.assertEqual(snaps[0]["paths"], ["/source/data"])
        nodes = ls_json(self.repo)
        self.assertEqual(sorted(nodes), ["/source", "/source/data", "/source/data/data.txt",
                                         "/source/data/sub", "/source/data/sub/deep.txt"])
        self.assertNotIn(self.tmp.path, el.restic(self.repo, "ls", "latest").stdout.decode())
        # The directory above the mount is not on this host: it takes the
        # mount directory's metadata (documented in engine/backup.h).
        self.assertEqual(nodes["/source"]["mode"], nodes["/source/data"]["mode"])
        self.assertEqual(nodes["/source/data"]["mode"] & 0o777, 0o750)
        # The mount's content is the tree restic builds of the host directory.
        r = el.restic(self.repo, "backup", "--json", self.vol)
        self.assertEqual(el.summary(r.stdout)["data_blobs"], 0)
        restic_snap = el.summary(r.stdout)["snapshot_id"]
        self.assertEqual(subtree(self.repo, restic_snap, self.vol),
                         subtree(self.repo, s1["snapshot_id"], "/source/data"))
        el.restic(self.repo, "check", "--read-data")
        out = os.path.join(self.tmp.path, "out")
        el.restic(self.repo, "restore", s1["snapshot_id"], "--target", out)
        with open(os.path.join(out, "source", "data", "data.txt")) as f:
            self.assertEqual(f.read(), "sample_data\n")
        with open(os.path.join(out, "source", "data", "sub", "deep.txt")) as f:
            self.assertEqual(f.read(), "deeper\n")

        # The second backup finds the first as parent by its container paths.
        second = self.backup("/source/data")
        s2 = el.summary(second.stdout)
        self.assertEqual(opens(second.stderr), 0)
        self.assertEqual(s2["files_unmodified"], 2)
        self.assertEqual(s2["data_added"], 0)
        self.assertEqual(s2["tree_blobs"], 0)
        parent = cat_json(self.repo, "snapshot", s2["snapshot_id"]).get("parent")
        self.assertTrue(parent.startswith(s1["snapshot_id"]), (parent, s1))

    def test_excludes_name_container_paths_and_nested_mounts_win(self):
        other = os.path.join(self.tmp.path, "other")
        os.makedirs(other)
        with open(os.path.join(other, "o.txt"), "w") as f:
            f.write("other volume\n")
        with open(os.path.join(self.vol, "skip.log"), "w") as f:
            f.write("excluded\n")
        mounts = {"/source/data": self.vol, "/source/data/sub/extra": other}
        p = self.backup("--exclude", "/source/data/*.log", "/source/data",
                        extra={"STASH_PATH_MAP": json.dumps(mounts)})
        self.assertEqual(el.summary(p.stdout)["files_new"], 3)
        nodes = ls_json(self.repo)
        self.assertNotIn("/source/data/skip.log", nodes)
        self.assertIn("/source/data/sub/extra/o.txt", nodes)
        self.assertIn("/source/data/sub/deep.txt", nodes)

    def test_missing_container_path_is_skipped_as_restic_does(self):
        p = el.stash(self.repo, "backup", "/source/nothing", "/source/data",
                     extra_env=self.map)
        self.assertIn(b"/source/nothing does not exist, skipping", p.stderr)
        self.assertEqual(ls_json(self.repo)["/source/data/data.txt"]["type"], "file")

    def test_malformed_map_is_a_named_error(self):
        p = el.stash(self.repo, "backup", "/source/data", check=False,
                     extra_env={"STASH_PATH_MAP": "[1]"})
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"STASH_PATH_MAP", p.stderr)


def tree_nodes(repo, snap, path):
    """The nodes restic stores in directory `path` of snapshot `snap`, by name."""
    nodes = cat_json(repo, "blob", subtree(repo, snap, path))["nodes"]
    return {n["name"]: n for n in nodes}


def xattrs_supported(d):
    probe = os.path.join(d, ".xattr-probe")
    open(probe, "w").close()
    try:
        os.setxattr(probe, "user.probe", b"1")
        return True
    except OSError:
        return False
    finally:
        os.remove(probe)


@unittest.skipUnless(el.RESTIC, "restic 0.14 not installed")
class XattrTest(unittest.TestCase):
    """restic 0.14 stores extended attributes in the node; stash's tree must be
    byte-identical (same tree ids) and restore must put them back."""

    def setUp(self):
        self.tmp = el.TempDir()
        if not xattrs_supported(self.tmp.path):
            self.tmp.cleanup()
            self.skipTest("the file system of %s rejects user.* xattrs" % self.tmp.path)
        self.repo = os.path.join(self.tmp.path, "repo")
        el.stash(self.repo, "init")
        src = os.path.join(self.tmp.path, "src")
        os.makedirs(os.path.join(src, "dir"))
        self.f = os.path.join(src, "dir", "f.txt")
        with open(self.f, "w") as fh:
            fh.write("attributes\n")
        with open(os.path.join(src, "plain.txt"), "w") as fh:
            fh.write("none\n")
        # Binary value, empty value, odd name, several in a non-sorted order.
        os.setxattr(self.f, "user.zeta", b"\x00\xffbin")
        os.setxattr(self.f, "user.empty", b"")
        os.setxattr(self.f, "user.a<&>", b"v" * 300)
        os.setxattr(os.path.join(src, "dir"), "user.dir", b"on a directory")
        os.symlink("f.txt", os.path.join(src, "dir", "link"))

    def tearDown(self):
        self.tmp.cleanup()

    def test_trees_match_restic_both_ways_and_restore_sets_them(self):
        first = el.summary(el.stash(self.repo, "backup", "--json", "src",
                                    cwd=self.tmp.path).stdout)
        nodes = tree_nodes(self.repo, first["snapshot_id"], "src/dir")
        got = [(a["name"], a["value"]) for a in nodes["f.txt"]["extended_attributes"]]
        want = [(n, base64.b64encode(os.getxattr(self.f, n)).decode())
                for n in os.listxattr(self.f)]
        self.assertEqual(got, want)
        # restic's backup of the same tree (stash's as parent) adds nothing.
        r = el.summary(el.restic(self.repo, "backup", "--json", "src", "--force",
                                 cwd=self.tmp.path).stdout)
        self.assertEqual((r["data_blobs"], r["tree_blobs"]), (0, 0))
        # And the other way round: restic first, then stash reading every file.
        repo2 = os.path.join(self.tmp.path, "repo2")
        el.stash(repo2, "init")
        el.restic(repo2, "backup", "src", cwd=self.tmp.path)
        s = el.summary(el.stash(repo2, "backup", "--json", "--force", "src",
                                cwd=self.tmp.path).stdout)
        self.assertEqual((s["data_blobs"], s["tree_blobs"]), (0, 0))

        out = os.path.join(self.tmp.path, "out")
        el.stash(self.repo, "restore", first["snapshot_id"], "--target", out)
        rf = os.path.join(out, "src", "dir", "f.txt")
        for name in os.listxattr(self.f):
            self.assertEqual(os.getxattr(rf, name), os.getxattr(self.f, name), name)
        self.assertEqual(os.getxattr(os.path.join(out, "src", "dir"), "user.dir"),
                         b"on a directory")
        # restic restores what stash wrote the same way.
        out2 = os.path.join(self.tmp.path, "out2")
        el.restic(self.repo, "restore", first["snapshot_id"], "--target", out2)
        rf2 = os.path.join(out2, "src", "dir", "f.txt")
        self.assertEqual(os.getxattr(rf2, "user.zeta"), b"\x00\xffbin")

    def test_changed_xattr_is_a_changed_tree(self):
        el.stash(self.repo, "backup", "src", cwd=self.tmp.path)
        os.setxattr(self.f, "user.zeta", b"changed")
        s = el.summary(el.stash(self.repo, "backup", "--json", "src",
                                cwd=self.tmp.path).stdout)
        self.assertGreater(s["tree_blobs"], 0)
        nodes = tree_nodes(self.repo, s["snapshot_id"], "src/dir")
        vals = {a["name"]: a["value"] for a in nodes["f.txt"]["extended_attributes"]}
        self.assertEqual(vals["user.zeta"], base64.b64encode(b"changed").decode())


def lock_files(repo):
    return el.lock_files(repo)


def hold_lock(argv):
    return el.hold_lock(argv, el.env())


@unittest.skipUnless(el.RESTIC, "restic 0.14 not installed")
class ReadLockTest(unittest.TestCase):
    """restic 0.14 takes a shared lock for cat, dump, snapshots and stats (not ls),
    skipped with --no-lock."""

    def setUp(self):
        self.tmp = el.TempDir()
        self.repo = os.path.join(self.tmp.path, "repo")
        el.stash(self.repo, "init")
        src = os.path.join(self.tmp.path, "src")
        os.makedirs(src)
        with open(os.path.join(src, "f"), "w") as f:
            f.write("x")
        el.stash(self.repo, "backup", "src", cwd=self.tmp.path)
        for i in range(3):
            el.stash(self.repo, "backup", "--force", "src", cwd=self.tmp.path)

    def tearDown(self):
        self.tmp.cleanup()

    def test_read_verbs_lock_as_restic(self):
        verbs = {"snapshots": ["snapshots"], "cat": ["cat", "config"],
                 "dump": ["dump", "latest", "/src/f"], "ls": ["ls", "latest"],
                 "stats": ["stats"]}
        holder = hold_lock([el.RESTIC, "-r", self.repo, "--no-cache", "forget",
                            "--keep-last", "1"])
        try:
            for name, args in verbs.items():
                p = el.stash(self.repo, *args, check=False)
                if name == "ls":  # restic 0.14's ls takes no lock
                    self.assertEqual(p.returncode, 0, p.stderr)
                    r = el.restic(self.repo, *args, check=False)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    continue
                self.assertEqual(p.returncode, 1, name)
                self.assertIn(b"locked exclusively by PID %d" % holder.pid, p.stderr, name)
                r = el.restic(self.repo, *args, check=False)
                self.assertNotEqual(r.returncode, 0, name)  # the oracle refuses too
                p = el.stash(self.repo, "--no-lock", *args)
                self.assertEqual(p.returncode, 0, name)
        finally:
            holder.send_signal(signal.SIGCONT)
            holder.communicate(timeout=60)
        self.assertEqual(lock_files(self.repo), [])
        # While stash's snapshots holds its shared lock, restic's forget waits.
        holder = hold_lock([el.STASH, "-r", self.repo, "snapshots"])
        try:
            p = el.restic(self.repo, "forget", "--keep-last", "1", check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"repository is already locked by PID %d" % holder.pid, p.stderr)
        finally:
            holder.send_signal(signal.SIGCONT)
            holder.communicate(timeout=60)
        self.assertEqual(holder.returncode, 0)
        self.assertEqual(lock_files(self.repo), [])


if __name__ == "__main__":
    unittest.main()
