"""Shared set-up for the test_operator_* files: `stash server` with the operator
and the embedded node, the real kubectl, and a backup engine.

The operator runs inside `stash server --operator` (with the embedded node);
OPERATOR_MODE=separate runs `stash operator --node` beside a plain server
instead, against the server's kubeconfig. Backups run through the sidecar's restic-compatible
command line: stash's own engine when it has the `backup` verb, else Debian's
restic 0.14 (the test prints which).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH, SOURCE_DIR  # noqa: E402
from test_api_server import ApiServer  # noqa: E402

RESTIC = shutil.which("restic") or "/usr/bin/restic"
SEED = os.path.join(SOURCE_DIR, "tests", "integration", "data", "seed")
if not os.path.isdir(SEED):
    SEED = "/work/shared/seed/examples"


def engine_binary():
    """stash itself if it can back up, else restic (the CLIs are the same)."""
    if os.environ.get("STASH_TEST_ENGINE") == "restic":
        return RESTIC
    listing = subprocess.run([STASH, "--help"], capture_output=True, text=True).stdout
    verbs = {line.split()[0] for line in listing.splitlines() if line.startswith("  ") and
             line.split()}
    if {"backup", "forget", "check", "snapshots"} <= verbs:
        return ""  # the sidecar's default: this stash binary
    return RESTIC


def seed(name):
    with open(os.path.join(SEED, name)) as f:
        return f.read()


class OperatorServer(ApiServer):
    """ApiServer started with --operator (the embedded operator and node)."""

    def start(self, timeout=60):
        import threading
        self.stderr_lines = []
        self.proc = subprocess.Popen(
            [STASH, "--log-level", "info", "server", "--operator", "--data-dir", self.data_dir,
             "--listen", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("stash server exited: " + "".join(self.stderr_lines))
            self.stderr_lines.append(line)
            if "serving the Kubernetes API on " in line:
                self.url = line.strip().rsplit(" ", 1)[-1]
                self.port = int(self.url.rsplit(":", 1)[-1])
            if line.startswith("export KUBECONFIG="):
                break
        threading.Thread(target=self._drain, daemon=True).start()
        self.cache_dir = tempfile.mkdtemp(prefix="stash-kubecache-")
        return self


class OperatorEnv:
    """A server, the operator with the node runtime, and helpers."""

    def __init__(self):
        self.separate = os.environ.get("OPERATOR_MODE") == "separate"
        self.server = ApiServer() if self.separate else OperatorServer()
        self.operator = None
        self.engine = engine_binary()
        if self.engine:
            os.environ["STASH_BACKUP_ENGINE"] = self.engine
        self.node_dir = None
        self.repo_dir = tempfile.mkdtemp(prefix="stash-op-repo-")

    def start(self):
        self.server.start()
        self.node_dir = os.path.join(self.server.data_dir, "node")
        if self.separate:
            self._start_operator()
        return self

    def _start_operator(self):
        env = dict(os.environ)
        if self.engine:
            env["STASH_BACKUP_ENGINE"] = self.engine
        self.op_log = open(os.path.join(self.server.data_dir, "operator.log"), "a")
        self.operator = subprocess.Popen(
            [STASH, "--log-level", "info", "operator", "--kubeconfig", self.server.kubeconfig,
             "--node", "--data-dir", self.node_dir],
            stdout=self.op_log, stderr=self.op_log, env=env)

    def restart_operator(self):
        """For a server that does not embed it: the operator goes down with it."""
        if self.operator:
            self._start_operator()

    def kill9(self):
        self.server.kill9()
        if self.operator and self.operator.poll() is None:
            self.operator.send_signal(signal.SIGKILL)
            self.operator.wait(10)

    def restart(self):
        self.server.start()
        self.restart_operator()

    def stop(self):
        if self.operator and self.operator.poll() is None:
            self.operator.send_signal(signal.SIGTERM)
            try:
                self.operator.wait(20)
            except subprocess.TimeoutExpired:
                self.operator.kill()
        self.server.stop()

    def logs(self):
        out = "".join(self.server.stderr_lines[-120:])
        path = os.path.join(self.server.data_dir, "operator.log")
        if os.path.exists(path):
            with open(path) as f:
                out += "\n--- operator.log ---\n" + f.read()[-6000:]
        logs = os.path.join(self.node_dir or "", "logs")
        if os.path.isdir(logs):
            for name in sorted(os.listdir(logs)):
                with open(os.path.join(logs, name)) as f:
                    out += "\n--- %s ---\n%s" % (name, f.read()[-3000:])
        return out

    # kubectl
    def kubectl(self, *args, input=None, check=True):
        r = self.server.kubectl(*args, input=input)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s failed: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def get_json(self, *args):
        r = self.server.kubectl("get", *args, "-o", "json")
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def wait_for(self, what, fn, timeout=60, interval=0.3):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError("timed out waiting for %s (last: %r)\n%s" % (what, last, self.logs()))

    def create_namespace_and_secret(self, password="changeit", ns="demo", name="gcs-secret"):
        d = tempfile.mkdtemp(prefix="stash-secret-")
        for key, value in (("RESTIC_PASSWORD", password), ("GOOGLE_PROJECT_ID", "local-test"),
                           ("GOOGLE_SERVICE_ACCOUNT_JSON_KEY", "{}")):
            with open(os.path.join(d, key), "w") as f:
                f.write(value)
        self.kubectl("create", "ns", ns, check=False)
        self.server.kubectl("create", "secret", "generic", "-n", ns, name,
                            "--from-file=./RESTIC_PASSWORD", "--from-file=./GOOGLE_PROJECT_ID",
                            "--from-file=./GOOGLE_SERVICE_ACCOUNT_JSON_KEY", cwd=d)

    def local_repository(self, name="gcs-repo", secret="gcs-secret", path=None):
        """The guide's Repository, on a hostPath directory instead of GCS (no network here)."""
        return ("apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
                "  name: %s\n  namespace: demo\nspec:\n  backend:\n    local:\n"
                "      mountPath: /safe/data\n      hostPath:\n        path: %s\n"
                "    storageSecretName: %s\n" % (name, path or self.repo_dir, secret))

    def restic(self, *args, password="changeit", repo=None, lock_wait=60):
        """Debian's restic 0.14; waits while the sidecar holds the repository lock."""
        env = dict(os.environ, RESTIC_PASSWORD=password, RESTIC_CACHE_DIR=tempfile.mkdtemp())
        deadline = time.time() + lock_wait
        while True:
            r = subprocess.run([RESTIC, "-r", repo or self.repo_dir, *args], capture_output=True,
                               text=True, env=env, timeout=120)
            if r.returncode == 0 or "already locked" not in r.stderr or time.time() > deadline:
                return r
            time.sleep(0.5)

    def pvc_dir(self, claim, ns="demo"):
        return os.path.join(self.node_dir, "volumes", ns, claim)
