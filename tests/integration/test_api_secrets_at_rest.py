"""Secrets at rest: a Secret's value is in no file of the data directory, in
the clear or in base64, while it exists and after its deletion; the key
lives in kube-apiserver's EncryptionConfiguration format; a data directory
written before encryption gets its Secrets encrypted at the next start."""
import base64
import os
import secrets
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api_server import ApiServer  # noqa: E402


def files_holding(data_dir, needles):
    hits = []
    for root, _, files in os.walk(data_dir):
        for f in files:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                content = fh.read()
            hits += [(os.path.relpath(path, data_dir), n) for n in needles if n in content]
    return hits


def needles(value):
    raw = value.encode()
    return [raw, base64.b64encode(raw), base64.b64encode(raw)[:-4]]


class SecretsAtRestTest(unittest.TestCase):
    def setUp(self):
        self.server = ApiServer(extra_args=["--compaction-interval", "1s"]).start()
        self.addCleanup(self.server.cleanup)

    def create(self, name, value):
        r = self.server.kubectl("create", "secret", "generic", name, "-n", "default",
                                f"--from-literal=password={value}")
        self.assertEqual(r.returncode, 0, r.stderr)

    def wait_clean(self, value, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hits = files_holding(self.server.data_dir, needles(value))
            if not hits:
                return
            time.sleep(0.5)
        self.fail(f"the Secret's value is still in {hits}")

    def test_value_is_in_no_file_while_it_exists_and_after_deletion(self):
        value = "pw-" + secrets.token_hex(16)
        self.create("db-password", value)
        r = self.server.kubectl("get", "secret", "db-password", "-o",
                                "jsonpath={.data.password}")
        self.assertEqual(base64.b64decode(r.stdout).decode(), value)
        self.assertEqual(files_holding(self.server.data_dir, needles(value)), [])
        # Updated, then deleted: no old version stays behind either.
        newer = "pw-" + secrets.token_hex(16)
        r = self.server.kubectl("patch", "secret", "db-password", "--type=merge", "-p",
                                '{"stringData":{"password":"%s"}}' % newer)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(files_holding(self.server.data_dir, needles(value) + needles(newer)), [])
        r = self.server.kubectl("delete", "secret", "db-password")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_clean(value)
        self.wait_clean(newer)
        # The configuration is kube-apiserver's, private to the server.
        config = os.path.join(self.server.data_dir, "encryption-config.yaml")
        with open(config) as f:
            text = f.read()
        self.assertIn("kind: EncryptionConfiguration", text)
        self.assertIn("aesgcm:", text)
        self.assertEqual(os.stat(config).st_mode & 0o777, 0o600)
        # And it survives a restart.
        self.create("kept", value)
        self.server.stop()
        self.server.start()
        r = self.server.kubectl("get", "secret", "kept", "-o", "jsonpath={.data.password}")
        self.assertEqual(base64.b64decode(r.stdout).decode(), value)
        self.assertEqual(files_holding(self.server.data_dir, needles(value)), [])

    def test_plaintext_from_before_encryption_is_rewritten_at_start(self):
        value = "old-" + secrets.token_hex(16)
        self.create("legacy", value)
        self.server.stop()
        # A data directory from before encryption: the Secret's rows in the
        # clear (as the old server wrote them), no configuration.
        os.remove(os.path.join(self.server.data_dir, "encryption-config.yaml"))
        os.remove(os.path.join(self.server.data_dir, "state.db"))
        for suffix in ("-wal", "-shm"):
            path = os.path.join(self.server.data_dir, "state.db" + suffix)
            if os.path.exists(path):
                os.remove(path)
        db = sqlite3.connect(os.path.join(self.server.data_dir, "state.db"))
        db.executescript(
            "CREATE TABLE objects (resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, "
            "object TEXT NOT NULL, PRIMARY KEY (resource, ns, name));"
            "CREATE TABLE changes (rv INTEGER PRIMARY KEY, resource TEXT NOT NULL, ns TEXT NOT "
            "NULL, type INTEGER NOT NULL, object TEXT NOT NULL);"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);")
        b64 = base64.b64encode(value.encode()).decode()
        obj = ('{"apiVersion":"v1","kind":"Secret","metadata":{"name":"legacy","namespace":'
               '"default","resourceVersion":"1","uid":"u"},"type":"Opaque","data":{"password":"'
               + b64 + '"}}')
        db.execute("INSERT INTO objects VALUES ('/secrets','default','legacy',?)", (obj,))
        db.execute("INSERT INTO changes VALUES (1,'/secrets','default',0,?)", (obj,))
        db.execute("INSERT INTO meta VALUES ('rv', 1)")
        db.commit()
        db.close()
        self.assertNotEqual(files_holding(self.server.data_dir, needles(value)), [])
        self.server.start()
        self.assertEqual(files_holding(self.server.data_dir, needles(value)), [])
        r = self.server.kubectl("get", "secret", "legacy", "-o", "jsonpath={.data.password}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(base64.b64decode(r.stdout).decode(), value)


if __name__ == "__main__":
    unittest.main()
