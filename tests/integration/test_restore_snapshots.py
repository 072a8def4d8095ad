"""Snapshot objects (`repositories.stash.appscode.com/v1alpha1`) with the real
kubectl against `stash server`: a Repository on a hostPath directory whose
snapshots were written by restic 0.14 and by stash; list with label
selectors, get -o yaml, delete (forget + prune, checked by restic), and the
errors a user meets (no such snapshot, no such Repository, wrong password).
"""
import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import enginelib  # noqa: E402
from test_api_server import ApiServer  # noqa: E402

PASSWORD = enginelib.PASSWORD


def epoch(rfc3339):
    """Seconds since the epoch of an RFC 3339 time (any fraction, Z or offset)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", rfc3339)
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    offset = 0
    if m.group(3) != "Z":
        sign = 1 if m.group(3)[0] == "+" else -1
        offset = sign * (int(m.group(3)[1:3]) * 3600 + int(m.group(3)[4:6]) * 60)
    return (base - datetime.datetime(1970, 1, 1)).total_seconds() - offset + float(
        m.group(2) or 0)


def repository(name, path, secret="repo-secret"):
    return ("apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
            "  name: %s\n  namespace: demo\n  labels:\n    team: blue\nspec:\n  backend:\n"
            "    local:\n      mountPath: /safe/data\n      hostPath:\n        path: %s\n"
            "    storageSecretName: %s\n" % (name, path, secret))


@unittest.skipUnless(enginelib.RESTIC, "restic 0.14 is not installed")
class SnapshotObjects(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-snapobj-")
        cls.server = ApiServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def kubectl(self, *args, input=None, ok=True):
        r = self.server.kubectl(*args, input=input)
        if ok:
            self.assertEqual(r.returncode, 0, r.stderr + "\n" + "".join(
                self.server.stderr_lines[-30:]))
        return r

    def data(self, name, files):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        for rel, text in files.items():
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        return d

    def test_snapshots(self):
        repo = os.path.join(self.tmp, "repo")
        self.kubectl("create", "ns", "demo")
        self.kubectl("create", "secret", "generic", "-n", "demo", "repo-secret",
                     "--from-literal=RESTIC_PASSWORD=" + PASSWORD)
        self.kubectl("create", "secret", "generic", "-n", "demo", "wrong-secret",
                     "--from-literal=RESTIC_PASSWORD=not-the-password")
        self.kubectl("apply", "-f", "-", input=repository("gcs-repo", repo))

        # Discovery: get, list and delete only.
        r = self.kubectl("api-resources", "--api-group=repositories.stash.appscode.com", "-o",
                         "wide")
        self.assertRegex(r.stdout, r"snapshots\s+repositories.stash.appscode.com/v1alpha1\s+"
                         r"true\s+Snapshot\s+delete,get,list")
        # Nothing initialised at the Repository's store yet: no snapshots, no error.
        r = self.kubectl("get", "snapshots", "-n", "demo")
        self.assertIn("No resources found in demo namespace.", r.stderr)

        enginelib.restic(repo, "init")
        src = self.data("src", {"data.txt": "one\n"})
        enginelib.restic(repo, "backup", "--host", "host-0", "--tag", "daily", src)
        self.data("src", {"data.txt": "two\n"})
        enginelib.restic(repo, "backup", "--host", "host-0", src)
        other = self.data("other", {"x": "x\n"})
        enginelib.stash(repo, "backup", "--host", "host-1", other)
        listed = json.loads(enginelib.restic(repo, "snapshots", "--json").stdout)
        self.assertEqual(len(listed), 3)
        by_host = {}
        for s in listed:
            by_host.setdefault(s["hostname"], []).append(s)

        r = self.kubectl("get", "snapshots", "-n", "demo")
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^NAME\s+ID\s+REPOSITORY\s+HOSTNAME\s+CREATED AT$")
        self.assertEqual(len(lines), 4, r.stdout)
        for s in listed:
            self.assertRegex(r.stdout, r"gcs-repo-%s\s+%s\s+gcs-repo\s+%s\s+\d{4}-\d\d-\d\dT" % (
                s["short_id"], s["id"], s["hostname"]))
        r = self.kubectl("get", "snapshots", "-n", "demo", "-l", "repository=gcs-repo,hostname=host-0")
        self.assertEqual(len(r.stdout.splitlines()), 3, r.stdout)
        self.assertNotIn("host-1", r.stdout)
        r = self.kubectl("get", "snapshots", "-n", "demo", "-l", "repository=other-repo")
        self.assertIn("No resources found", r.stderr)
        r = self.kubectl("get", "snapshots", "-n", "demo", "-l", "team=blue", "-o", "name")
        self.assertEqual(len(r.stdout.split()), 3, r.stdout)

        first = next(s for s in by_host["host-0"] if s.get("tags"))
        name = "gcs-repo-" + first["short_id"]
        obj = json.loads(self.kubectl("get", "snapshot", "-n", "demo", name, "-o", "json").stdout)
        self.assertEqual(obj["kind"], "Snapshot")
        self.assertEqual(obj["apiVersion"], "repositories.stash.appscode.com/v1alpha1")
        self.assertEqual(obj["metadata"]["uid"], first["id"])
        self.assertEqual(obj["metadata"]["labels"],
                         {"repository": "gcs-repo", "hostname": "host-0", "team": "blue"})
        self.assertEqual(epoch(obj["metadata"]["creationTimestamp"]), int(epoch(first["time"])))
        self.assertTrue(obj["metadata"]["creationTimestamp"].endswith("Z"))
        st = obj["status"]
        self.assertEqual((st["hostname"], st["paths"], st["tags"], st["tree"], st["repository"]),
                         ("host-0", [src], ["daily"], first["tree"], "gcs-repo"))
        y = self.kubectl("get", "snapshot", "-n", "demo", name, "-o", "yaml").stdout
        for field in ("tree: " + first["tree"], "hostname: host-0", "- daily", "- " + src,
                      "creationTimestamp:"):
            self.assertIn(field, y)

        # Errors name what is missing.
        r = self.kubectl("get", "snapshot", "-n", "demo", "gcs-repo-00000000", ok=False)
        self.assertIn('(NotFound): snapshots.repositories.stash.appscode.com "gcs-repo-00000000" '
                      'not found', r.stderr)
        r = self.kubectl("get", "snapshot", "-n", "demo", "nope-" + first["short_id"], ok=False)
        self.assertIn('repositories.stash.appscode.com "nope" not found', r.stderr)
        r = self.kubectl("create", "-f", "-", ok=False, input=json.dumps(obj))
        self.assertNotEqual(r.returncode, 0)

        # delete = forget + prune: restic sees the rest, and the data of the
        # forgotten snapshot's unique file is gone (check passes).
        r = self.kubectl("delete", "snapshot", "-n", "demo", name)
        self.assertIn('snapshot.repositories.stash.appscode.com "%s" deleted' % name, r.stdout)
        left = json.loads(enginelib.restic(repo, "snapshots", "--json").stdout)
        self.assertEqual(sorted(s["id"] for s in left),
                         sorted(s["id"] for s in listed if s["id"] != first["id"]))
        enginelib.restic(repo, "check", "--read-data")
        r = self.kubectl("get", "snapshots", "-n", "demo", "-o", "name")
        self.assertEqual(len(r.stdout.split()), 2, r.stdout)
        self.assertNotIn(name, r.stdout)

        # A snapshot added behind the API's back shows up on the next list.
        enginelib.restic(repo, "backup", "--host", "host-2", other)
        r = self.kubectl("get", "snapshots", "-n", "demo", "-l", "hostname=host-2", "-o", "name")
        self.assertEqual(len(r.stdout.split()), 1, r.stdout)

        # Wrong password: an error that says so, not an empty list.
        self.kubectl("apply", "-f", "-", input=repository("bad-repo", repo, "wrong-secret"))
        r = self.kubectl("get", "snapshots", "-n", "demo", "-l", "repository=bad-repo", ok=False)
        self.assertIn("InternalError", r.stderr)
        self.assertIn("Repository demo/bad-repo", r.stderr)
        self.assertRegex(r.stderr, r"wrong password|no key found")


if __name__ == "__main__":
    unittest.main()
