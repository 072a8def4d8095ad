"""Unreadable repository files: stash refuses as restic 0.14 does.

When a snapshot file cannot be read (bad JSON, wrong field types, not
decryptable, broken framing), `restore latest`, `dump latest` and `backup`'s
parent lookup fail and name it, and `ls latest` lists nothing, instead of
silently using the previous snapshot. Every case runs the real restic 0.14 on
a copy of the same repository and compares exit codes and outcomes.

A key file with fields of the wrong JSON types is reported as such (the key
and the field), not as a wrong password.
"""
import base64
import hashlib
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import readlib  # noqa: E402
from readlib import must, restic, stash  # noqa: E402
from repocrypto import TestRepo  # noqa: E402

# Each way a newest snapshot can be unreadable: (name, sealed plaintext or
# None, raw bytes or None).
BROKEN = [
    ("bad-json", b'{"time":"2030-01-01T00:00:00Z","tree":', None),
    ("wrong-types", json.dumps({"time": "2030-01-01T00:00:00Z", "tree": 123, "paths": "x",
                                "hostname": 5}).encode(), None),
    ("not-an-object", b'["2030-01-01T00:00:00Z"]', None),
    ("bad-framing", b"\x02" + os.urandom(40), None),
    ("undecryptable", None, os.urandom(120)),
]


class UnreadableSnapshot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-unreadable-")
        cls.src = os.path.join(cls.tmp, "src")
        os.makedirs(cls.src)
        with open(os.path.join(cls.src, "old.txt"), "w") as f:
            f.write("from the older snapshot\n")
        cls.base = os.path.join(cls.tmp, "base")
        must(restic(cls.base, "init"))
        TestRepo(cls.base, readlib.PASSWORD).cheapen_key()
        must(restic(cls.base, "backup", "--host", "h", "--time", "2020-01-01 00:00:00", cls.src))
        must(restic(cls.base, "backup", "--host", "h", "--time", "2021-01-01 00:00:00", cls.src))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def broken_copy(self, name, plaintext, raw):
        """Two copies of the repository (restic's, stash's) whose newest
        snapshot is replaced by the broken file; returns them and its id."""
        repos = []
        for who in ("restic", "stash"):
            repo = os.path.join(self.tmp, "%s-%s" % (name, who))
            shutil.rmtree(repo, ignore_errors=True)
            shutil.copytree(self.base, repo)
            repos.append(repo)
        snaps = json.loads(must(restic(self.base, "snapshots", "--json")).stdout)
        newest = max(snaps, key=lambda s: s["time"])["id"]
        data = raw if raw is not None else TestRepo(self.base, readlib.PASSWORD).master.seal(plaintext)
        bad = hashlib.sha256(data).hexdigest()
        for repo in repos:
            path = os.path.join(repo, "snapshots", newest)
            os.chmod(path, 0o600)
            os.remove(path)
            with open(os.path.join(repo, "snapshots", bad), "wb") as f:
                f.write(data)
        return repos[0], repos[1], bad[:8]

    def test_latest_is_refused_as_restic_does(self):
        for name, plaintext, raw in BROKEN:
            with self.subTest(name):
                rrepo, srepo, bad = self.broken_copy(name, plaintext, raw)
                want = "Error loading snapshot %s: " % bad
                for verb in (["restore", "latest", "--target", "{repo}-out"],
                             ["dump", "latest", os.path.join(self.src, "old.txt")],
                             ["backup", "--host", "h", self.src]):
                    r = restic(rrepo, *[a.format(repo=rrepo) for a in verb])
                    s = stash(srepo, *[a.format(repo=srepo) for a in verb])
                    label = "%s %s" % (name, verb[0])
                    self.assertEqual(r.returncode, 1, label + ": restic " + r.stderr.decode())
                    self.assertEqual(s.returncode, r.returncode, label + ": " + s.stderr.decode())
                    self.assertIn(want, s.stderr.decode(), label)
                    self.assertIn(want, r.stderr.decode(), label)
                    # Nothing of the older snapshot was restored, dumped or reused.
                    self.assertNotIn(b"from the older snapshot", s.stdout, label)
                    self.assertFalse(os.path.exists(srepo + "-out"), label)
                # `ls latest` lists nothing, warns and exits as restic.
                r = restic(rrepo, "ls", "latest")
                s = stash(srepo, "ls", "latest")
                self.assertEqual(s.returncode, r.returncode, name + " ls")
                self.assertEqual(s.stdout, b"", name + " ls")
                self.assertEqual(s.stderr, r.stderr, name + " ls")
                # No new snapshot was written by the refused backup.
                self.assertEqual(len(os.listdir(os.path.join(srepo, "snapshots"))), 2)
                # `snapshots` still lists the readable one and names the other.
                s = must(stash(srepo, "snapshots"))
                self.assertIn(b"could not load snapshot " + bad.encode(), s.stderr)
                self.assertIn(b"1 snapshots", s.stdout)


class MalformedKeyFile(unittest.TestCase):
    """A key file with wrong JSON types: restic 0.14 says which field
    ("json: cannot unmarshal string into Go struct field Key.N of type int");
    stash names the key file and the field, with the same exit code."""

    CASES = [
        ("N", "1024", ['field "N"', "got a string"]),
        ("r", 8.5, ['field "r"', "want an integer"]),
        ("salt", 5, ['field "salt"', "got a number"]),
        ("data", True, ['field "data"', "got a boolean"]),
        ("kdf", None, ['field "kdf" is missing or null']),
    ]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-badkey-")
        cls.base = os.path.join(cls.tmp, "base")
        must(restic(cls.base, "init"))
        TestRepo(cls.base, readlib.PASSWORD).cheapen_key()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_wrong_types_are_named(self):
        kdir = os.path.join(self.base, "keys")
        good_name = os.listdir(kdir)[0]
        with open(os.path.join(kdir, good_name), "rb") as f:
            good = json.loads(f.read())
        for field, value, want in self.CASES:
            with self.subTest(field):
                repo = os.path.join(self.tmp, "key-" + field)
                shutil.rmtree(repo, ignore_errors=True)
                shutil.copytree(self.base, repo)
                doc = dict(good)
                doc[field] = value
                raw = json.dumps(doc).encode()
                os.chmod(os.path.join(repo, "keys", good_name), 0o600)
                os.remove(os.path.join(repo, "keys", good_name))
                kid = hashlib.sha256(raw).hexdigest()
                with open(os.path.join(repo, "keys", kid), "wb") as f:
                    f.write(raw)
                r = restic(repo, "snapshots")
                s = stash(repo, "snapshots")
                self.assertEqual(s.returncode, r.returncode, s.stderr.decode())
                err = s.stderr.decode()
                for w in want:
                    self.assertIn(w, err)
                self.assertIn("keys/" + kid[:8], err)
                self.assertNotIn("wrong password", err)

    def test_data_that_is_not_base64_is_named(self):
        kdir = os.path.join(self.base, "keys")
        good_name = os.listdir(kdir)[0]
        repo = os.path.join(self.tmp, "key-b64")
        shutil.rmtree(repo, ignore_errors=True)
        shutil.copytree(self.base, repo)
        with open(os.path.join(repo, "keys", good_name), "rb") as f:
            doc = json.loads(f.read())
        doc["data"] = "!!" + base64.b64encode(b"x").decode()
        raw = json.dumps(doc).encode()
        os.chmod(os.path.join(repo, "keys", good_name), 0o600)
        os.remove(os.path.join(repo, "keys", good_name))
        with open(os.path.join(repo, "keys", hashlib.sha256(raw).hexdigest()), "wb") as f:
            f.write(raw)
        s = stash(repo, "snapshots")
        self.assertEqual(s.returncode, 1)
        self.assertIn('field "data": illegal base64', s.stderr.decode())


if __name__ == "__main__":
    unittest.main()
