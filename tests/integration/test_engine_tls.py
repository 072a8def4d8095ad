"""restic's TLS flags against a REST server over HTTPS that requires a client
certificate (rclone serve restic --cert/--key/--client-ca), as a user with a
private CA would meet it:

- no --cacert: the server's certificate is refused, naming the problem;
- --cacert given more than once: every file's certificates are trusted (the
  right CA in the second file still works);
- without --tls-client-cert the server refuses the connection, which is
  reported at once as the server's refusal (no retries); with it (one
  PEM file holding the certificate and its key) init, backup and restore
  work, and restic 0.14 with the same flags reads what stash wrote;
- a --tls-client-cert file without a private key is refused with a message
  that says what the file must hold.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerlib  # noqa: E402
from helpers import stash  # noqa: E402

RESTIC = shutil.which("restic")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate it
    signed; a second, unrelated CA."""
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key",
                "-out", ca + ".pem", "-days", "2", "-subj", "/CN=" + ca, cwd=d)
    with open(os.path.join(d, "san.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "san.cnf"]), ("client", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
                "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", *ext, cwd=d)
    with open(os.path.join(d, "client-with-key.pem"), "w") as out:
        for part in ("client.pem", "client.key"):
            with open(os.path.join(d, part)) as f:
                out.write(f.read())


class TlsFlags(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-tls-")
        make_pki(cls.tmp)
        port = peerlib.free_port()
        cls.rest = peerlib.Server("rclone-tls", [
            "rclone", "serve", "restic", "--config", "/dev/null", "--addr", "127.0.0.1:%d" % port,
            "--cert", os.path.join(cls.tmp, "server.pem"),
            "--key", os.path.join(cls.tmp, "server.key"),
            "--client-ca", os.path.join(cls.tmp, "ca.pem"),
            os.path.join(cls.tmp, "root")], port, cls.tmp)
        cls.repo = "rest:https://127.0.0.1:%d/repo/" % port
        src = os.path.join(cls.tmp, "src")
        os.makedirs(src)
        with open(os.path.join(src, "hello.txt"), "w") as f:
            f.write("over mutual TLS\n")
        cls.src = src

    @classmethod
    def tearDownClass(cls):
        cls.rest.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run_stash(self, *args):
        return stash("-r", self.repo, *args, env={"RESTIC_PASSWORD": "pw"})

    def tls(self, cacerts=("ca.pem",), client="client-with-key.pem"):
        out = []
        for c in cacerts:
            out += ["--cacert", self.path(c)]
        if client:
            out += ["--tls-client-cert", self.path(client)]
        return out

    def test_1_server_certificate_needs_the_ca(self):
        r = self.run_stash("snapshots", *self.tls(cacerts=(), client="client-with-key.pem"))
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"(?i)certificate")

    def test_2_client_certificate_is_required_and_used(self):
        r = self.run_stash("init", *self.tls(client=None))
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertNotIn("created restic repository", r.stdout)
        # The server's refusal is final: said at once, not retried for minutes.
        self.assertIn("refused this client's TLS certificate", r.stderr)
        self.assertIn("--tls-client-cert", r.stderr)
        # Both CA files are trusted: the right one is the second.
        flags = self.tls(cacerts=("other-ca.pem", "ca.pem"))
        r = self.run_stash("init", *flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("created restic repository", r.stdout)
        r = self.run_stash("backup", self.src, *flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        target = self.path("restored")
        r = self.run_stash("restore", "latest", "--target", target, *flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(target, self.src.lstrip("/"), "hello.txt")) as f:
            self.assertEqual(f.read(), "over mutual TLS\n")
        if RESTIC:
            r = subprocess.run([RESTIC, "-r", self.repo, "--no-cache", "snapshots", *flags],
                               capture_output=True, text=True,
                               env=dict(os.environ, RESTIC_PASSWORD="pw"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(self.src, r.stdout)

    def test_3_client_file_without_a_key_is_refused(self):
        r = self.run_stash("snapshots", *self.tls(client="client.pem"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("must hold the certificate and its private key", r.stderr)


if __name__ == "__main__":
    unittest.main()
