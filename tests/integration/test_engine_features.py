"""stash backup features a user of restic's command line or of the embedded
node notices, each checked with restic 0.14 as the oracle.

Path map: in embedded mode the sidecar runs on the host with env
STASH_PATH_MAP (container path -> host directory); the snapshot must look as
if restic had run inside the container (paths and tree of /source/data)."""
import json
import os
import re
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
        self.assertEqual(parent, s1["snapshot_id"])

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


if __name__ == "__main__":
    unittest.main()
