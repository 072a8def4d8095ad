"""Remote backends through the stash CLI, against real servers and restic 0.14:
REST (rclone serve restic), S3 (moto_server), Azure (Azurite) and GCS (the
firebase-tools storage emulator). For each: stash writes a repository that
restic checks and restores, and restic writes a snapshot that stash lists,
checks and restores. Also: a flaky REST server (500s and resets) that stash
rides out, a dead one whose error names the backend and operation, and a scan
of all output for the secret values we passed in.

Peers are skipped only when missing and CI is not "true".
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import peerlib  # noqa: E402
from helpers import STASH  # noqa: E402

RESTIC = shutil.which("restic")
PASSWORD = "pw-Quetzal-7781-secret"
S3_KEY_ID = "AKIASTASHTEST"
S3_SECRET = "s3-Secret-Marmot-4417"
REST_USER, REST_PASS = "restuser", "rest-Pass-Ocelot-9023"

TMP = None
SERVERS = {}
DOWN = {}  # the run against a store that stays down, started early (retries take ~2 min)


def base_env(extra=None):
    e = dict(os.environ)
    for k in ("RESTIC_REPOSITORY", "RESTIC_PASSWORD_FILE", "AWS_ACCESS_KEY_ID",
              "AWS_SECRET_ACCESS_KEY", "AZURE_ACCOUNT_NAME", "AZURE_ACCOUNT_KEY",
              "STORAGE_EMULATOR_HOST", "AZURE_ENDPOINT"):
        e.pop(k, None)
    e["RESTIC_PASSWORD"] = PASSWORD
    e["STASH_TEST_SCRYPT_N"] = "1024"
    e.update(extra or {})
    return e


def run(cmd, env=None, check=True, timeout=120):
    p = subprocess.run(cmd, capture_output=True, text=True, env=base_env(env), timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(cmd), p.returncode, p.stdout[-2000:], p.stderr[-3000:]))
    return p


def stash(repo, *args, env=None, check=True):
    return run([STASH, "-r", repo, *args], env=env, check=check)


def restic(repo, *args, env=None, check=True):
    return run([RESTIC, "--no-cache", "-r", repo, *args], env=env, check=check)


def make_tree(root, seed):
    rnd = random.Random(seed)
    os.makedirs(os.path.join(root, "sub", "deeper"))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(rnd.randbytes(3 << 20))  # several chunks with restic's 1 MiB minimum
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello %d\n" % seed)
    with open(os.path.join(root, "sub", "small.bin"), "wb") as f:
        f.write(rnd.randbytes(5000))
    open(os.path.join(root, "sub", "deeper", "empty"), "w").close()
    return root


def read_tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for n in files:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


def need(name, available):
    if not available:
        if peerlib.in_ci():
            raise AssertionError("peer %s is required in CI but missing" % name)
        raise unittest.SkipTest("%s is not installed" % name)


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="stash-remote-")
    if shutil.which("rclone"):
        SERVERS["rest"] = peerlib.start_rclone(TMP, os.path.join(TMP, "rclone-root"))
        # A store that answers 500 forever: stash's retries last ~2 minutes, so
        # the run starts now and DeadStoreTest collects it last.
        proxy = peerlib.FaultProxy(SERVERS["rest"].port, forever=True)
        url = "rest:http://%s:%s@127.0.0.1:%d/dead/" % (REST_USER, REST_PASS, proxy.port)
        DOWN["proxy"] = proxy
        DOWN["url"] = url
        DOWN["start"] = time.monotonic()
        DOWN["proc"] = subprocess.Popen(
            [STASH, "-r", url, "backup", os.path.dirname(__file__)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base_env())


def tearDownModule():
    if "proc" in DOWN and DOWN["proc"].poll() is None:
        DOWN["proc"].kill()
        DOWN["proc"].wait()
    if "proxy" in DOWN:
        DOWN["proxy"].stop()
    for s in SERVERS.values():
        s.stop()
    shutil.rmtree(TMP, ignore_errors=True)


class Interop:
    """Mixin: the stash <-> restic round trip over one backend."""
    restic_can_reach = True

    def repo_and_env(self):
        raise NotImplementedError

    def test_round_trip_with_restic(self):
        repo, env = self.repo_and_env()
        work = tempfile.mkdtemp(dir=TMP)
        src = make_tree(os.path.join(work, "src"), 1)
        stash(repo, "init", env=env)
        stash(repo, "backup", src, env=env)

        out = os.path.join(work, "stash-restored")
        if self.restic_can_reach:
            restic(repo, "check", "--read-data", env=env)
            restic(repo, "restore", "latest", "--target", out, env=env)
        else:
            stash(repo, "check", "--read-data", env=env)
            stash(repo, "restore", "latest", "--target", out, env=env)
        self.assertEqual(read_tree(src), read_tree(out + src))

        src2 = make_tree(os.path.join(work, "src2"), 2)
        writer = restic if self.restic_can_reach else stash
        writer(repo, "backup", src2, env=env)
        if not self.restic_can_reach:
            print("%s: restic half skipped (restic cannot reach this peer)" % type(self).__name__,
                  file=sys.stderr)
        snaps = json.loads(stash(repo, "snapshots", "--json", env=env).stdout)
        self.assertEqual(sorted(s["paths"][0] for s in snaps), [src, src2])
        second = [s for s in snaps if s["paths"] == [src2]][0]
        stash(repo, "check", "--read-data", env=env)
        out2 = os.path.join(work, "restic-restored")
        stash(repo, "restore", second["id"], "--target", out2, env=env)
        self.assertEqual(read_tree(src2), read_tree(out2 + src2))


class RestTest(Interop, unittest.TestCase):
    def setUp(self):
        need("rclone", "rest" in SERVERS)
        need("restic", RESTIC)

    def repo_and_env(self):
        return "rest:http://127.0.0.1:%d/interop/" % SERVERS["rest"].port, {}


class S3Test(Interop, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need("moto_server", shutil.which("moto_server"))
        need("restic", RESTIC)
        cls.server = peerlib.start_moto(TMP)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def env(self, secret=S3_SECRET):
        return {"AWS_ACCESS_KEY_ID": S3_KEY_ID, "AWS_SECRET_ACCESS_KEY": secret}

    def repo_and_env(self):
        return "s3:http://127.0.0.1:%d/interop/restic" % self.server.port, self.env()

    def test_secrets_stay_out_of_output(self):
        repo = "s3:http://127.0.0.1:%d/secrets/repo" % self.server.port
        src = make_tree(os.path.join(tempfile.mkdtemp(dir=TMP), "src"), 3)
        outs = [stash(repo, "init", env=self.env()), stash(repo, "backup", src, env=self.env()),
                stash(repo, "-v", "snapshots", env=self.env())]
        # moto accepts any signature, so fail on the password instead.
        bad = stash(repo, "snapshots", env={**self.env(), "RESTIC_PASSWORD": PASSWORD + "x"},
                    check=False)
        self.assertNotEqual(bad.returncode, 0)
        outs.append(bad)
        for p in outs:
            for secret in (S3_SECRET, PASSWORD):
                self.assertNotIn(secret, p.stdout + p.stderr, " ".join(p.args))


class RestSecretTest(unittest.TestCase):
    def setUp(self):
        need("rclone", "rest" in SERVERS)

    # `stash init` ("created restic repository ... at <url>") and the missing-config
    # error print the REST URL as restic 0.14 does: `user:***@`, never the password.
    def test_url_password_stays_out_of_output(self):
        src = make_tree(os.path.join(tempfile.mkdtemp(dir=TMP), "src"), 6)
        rest = "rest:http://%s:%s@127.0.0.1:%d/secrets/" % (REST_USER, REST_PASS,
                                                             SERVERS["rest"].port)
        outs = [stash(rest, "init"), stash(rest, "backup", src), stash(rest, "snapshots")]
        missing = stash(rest.replace("/secrets/", "/nothing-here/"), "snapshots", check=False)
        self.assertNotEqual(missing.returncode, 0)
        outs.append(missing)
        for p in outs:
            for secret in (REST_PASS, PASSWORD):
                self.assertNotIn(secret, p.stdout + p.stderr, " ".join(p.args))


class AzureTest(Interop, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need("azurite", peerlib.npm_bin("azurite-blob"))
        need("restic", RESTIC)
        # restic 0.14 finds the emulator only at 127.0.0.1:10000.
        cls.restic_can_reach = peerlib.port_free(10000)
        cls.server = peerlib.start_azurite(TMP, 10000 if cls.restic_can_reach else None)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def env(self, key=peerlib.AZURITE_KEY):
        # At :10000 the emulator account alone is enough, for restic 0.14 and
        # stash alike (restic ignores AZURE_ENDPOINT); elsewhere stash needs the
        # endpoint.
        e = {"AZURE_ACCOUNT_NAME": peerlib.AZURITE_ACCOUNT, "AZURE_ACCOUNT_KEY": key}
        if not self.restic_can_reach:
            e["AZURE_ENDPOINT"] = "http://127.0.0.1:%d/%s" % (self.server.port,
                                                             peerlib.AZURITE_ACCOUNT)
        return e

    def repo_and_env(self):
        return "azure:interop:/restic", self.env()

    def test_emulator_setups_users_write(self):
        src = make_tree(os.path.join(tempfile.mkdtemp(dir=TMP), "src"), 2)
        # An in-cluster Azurite named by its service address, no account path.
        pathless = {"AZURE_ACCOUNT_NAME": peerlib.AZURITE_ACCOUNT,
                    "AZURE_ACCOUNT_KEY": peerlib.AZURITE_KEY,
                    "AZURE_ENDPOINT": "http://127.0.0.1:%d" % self.server.port}
        stash("azure:pathless:/r", "init", env=pathless)
        stash("azure:pathless:/r", "backup", src, env=pathless)
        if not self.restic_can_reach:
            self.skipTest("port 10000 is taken: Azurite cannot sit where restic 0.14 looks")
        # restic's way: only the emulator account, no key and no endpoint.
        account_only = {"AZURE_ACCOUNT_NAME": peerlib.AZURITE_ACCOUNT}
        stash("azure:accountonly:/r", "init", env=account_only)
        stash("azure:accountonly:/r", "backup", src, env=account_only)
        restic("azure:accountonly:/r", "check", "--read-data", env=self.env())
        snaps = json.loads(stash("azure:accountonly:/r", "snapshots", "--json",
                                 env=account_only).stdout)
        self.assertEqual(len(snaps), 1)

    def test_key_stays_out_of_output(self):
        src = make_tree(os.path.join(tempfile.mkdtemp(dir=TMP), "src"), 4)
        repo = "azure:secrets:/r"
        outs = [stash(repo, "init", env=self.env()), stash(repo, "backup", src, env=self.env())]
        # A wrong (but well-formed) key: Azurite rejects the signature.
        wrong = "V3Jvbmcta2V5LVBlbGljYW4tNTUzMS1zdGFzaA=="
        bad = stash(repo, "snapshots", env=self.env(wrong), check=False)
        self.assertNotEqual(bad.returncode, 0)
        outs.append(bad)
        for p in outs:
            for secret in (peerlib.AZURITE_KEY, wrong, PASSWORD):
                self.assertNotIn(secret, p.stdout + p.stderr, " ".join(p.args))


class GcsTest(Interop, unittest.TestCase):
    restic_can_reach = False  # restic 0.14's gs backend has no endpoint override

    @classmethod
    def setUpClass(cls):
        need("firebase-tools", shutil.which("node") and os.path.isdir(
            os.path.join(peerlib.PEERS_DIR, "node_modules", "firebase-tools")))
        cls.server = peerlib.start_gcs(TMP)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def repo_and_env(self):
        return "gs:interop:/restic", {"STORAGE_EMULATOR_HOST": "127.0.0.1:%d" % self.server.port}


class FlakyRestTest(unittest.TestCase):
    def setUp(self):
        need("rclone", "rest" in SERVERS)

    def test_backup_survives_500s_and_resets(self):
        repo = "interop-flaky"
        direct = "rest:http://127.0.0.1:%d/%s/" % (SERVERS["rest"].port, repo)
        stash(direct, "init")
        src = make_tree(os.path.join(tempfile.mkdtemp(dir=TMP), "src"), 5)
        # Every connection opened in the first 2 s of the backup gets a 500 or a
        # reset; then, once 1 MiB of uploads went through, open connections are
        # reset and new ones fault for another 2 s.
        proxy = peerlib.FaultProxy(SERVERS["rest"].port, fail_for=2.0,
                                   storm_after_bytes=1 << 20, storm_for=2.0)
        try:
            flaky = "rest:http://127.0.0.1:%d/%s/" % (proxy.port, repo)
            p = stash(flaky, "backup", src)
            self.assertGreater(proxy.faulted, 1)
            self.assertEqual(proxy.storms, 1)
            self.assertIn("loading config failed", p.stderr)
            self.assertRegex(p.stderr, r"(save|POST) data/")
        finally:
            proxy.stop()
        stash(direct, "check", "--read-data")
        if RESTIC:
            restic(direct, "check", "--read-data")


class ZDeadStoreTest(unittest.TestCase):
    """Runs last: collects the backup started in setUpModule against a store
    that answers 500 forever."""

    def setUp(self):
        need("rclone", "proc" in DOWN)

    def test_error_names_backend_and_operation(self):
        out, err = DOWN["proc"].communicate(timeout=300)
        took = time.monotonic() - DOWN["start"]
        self.assertNotEqual(DOWN["proc"].returncode, 0)
        self.assertGreater(DOWN["proxy"].faulted, 3)
        last = err.strip().splitlines()[-1]
        port = str(DOWN["proxy"].port)
        self.assertIn("rest:http://127.0.0.1:%s/dead/" % port, last)
        self.assertRegex(last, r"(HEAD|GET|stat|load|config)")
        self.assertIn("500", last)
        for secret in (REST_PASS, PASSWORD):
            self.assertNotIn(secret, out + err)
        print("dead store: stash gave up after %.0f s: %s" % (took, last), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
