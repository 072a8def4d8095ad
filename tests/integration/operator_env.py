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
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH, SOURCE_DIR, wait_for  # noqa: E402
from test_api_server import ApiServer  # noqa: E402
import peerlib  # noqa: E402

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


def gcs_emulator_available():
    return bool(shutil.which("node")) and os.path.isdir(
        os.path.join(peerlib.PEERS_DIR, "node_modules", "firebase-tools"))


def service_account_key(project):
    """A service-account key file as Google issues them, with a fresh RSA key
    (the emulator does not verify it; the point is the Secret's real shape)."""
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                          "rsa_keygen_bits:2048"], capture_output=True, text=True,
                         check=True).stdout
    email = "stash-backup@%s.iam.gserviceaccount.com" % project
    return json.dumps({
        "type": "service_account", "project_id": project,
        "private_key_id": os.urandom(20).hex(), "private_key": pem, "client_email": email,
        "client_id": str(int.from_bytes(os.urandom(8), "big")),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/" +
        urllib.parse.quote(email)}, indent=2)


def deployment_yaml(ns, replicas=3):
    """Deployment `web` (app=web, nginx:1.27) in `ns`."""
    return """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %s}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
""" % (ns, replicas)


def statefulset_yaml(ns, replicas, claim_mount=None):
    """StatefulSet `db` (app=db, postgres:16, serviceName db) in `ns`; with
    `claim_mount`, a volumeClaimTemplate `data` (1Gi) mounted there."""
    container = "{name: db, image: postgres:16}"
    claims = ""
    if claim_mount:
        container = ("{name: db, image: postgres:16, volumeMounts: [{name: data, mountPath: %s}]}"
                     % claim_mount)
        claims = """  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"""
    return """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: %s}
spec:
  replicas: %d
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - %s
""" % (ns, replicas, container) + claims


def daemonset_yaml(ns):
    """DaemonSet `agent` (app=agent, fluent-bit:3) in `ns`."""
    return """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: %s}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: fluent-bit:3}]
""" % ns


class OperatorServer(ApiServer):
    """ApiServer started with --operator (the embedded operator and node)."""

    extra_env = {}
    extra_args = []

    def start(self, timeout=60):
        import threading
        self.stderr_lines = []
        self.proc = subprocess.Popen(
            [STASH, "--log-level", "info", "server", "--operator", "--data-dir", self.data_dir,
             "--listen", "127.0.0.1:0", *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, **self.extra_env))
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

    def __init__(self, gcs=False, runtime="none"):
        """`runtime`: the node's --container-runtime. These tests check stash's
        own containers (processes), so by default other images are not run;
        test_node_podman runs them in podman."""
        self.separate = os.environ.get("OPERATOR_MODE") == "separate"
        self.runtime = runtime
        self.server = ApiServer() if self.separate else OperatorServer()
        # The node's processes get none of the server's environment but these.
        self.pass_env = ["--pass-env",
                         "STORAGE_EMULATOR_HOST,STASH_BACKUP_ENGINE,STASH_WATCH_TIMEOUT_SECONDS"]
        if not self.separate:
            self.server.extra_args = ["--container-runtime", runtime, *self.pass_env]
        self.operator = None
        self.gcs = None
        self.extra_env = {}
        if gcs:
            # The GCS emulator; the operator's processes find it through
            # STORAGE_EMULATOR_HOST, as Google's client libraries do.
            self.gcs = peerlib.start_gcs(tempfile.mkdtemp(prefix="stash-gcs-"))
            self.extra_env["STORAGE_EMULATOR_HOST"] = "127.0.0.1:%d" % self.gcs.port
            self.server.extra_env = self.extra_env
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
        env = dict(os.environ, **self.extra_env)
        if self.engine:
            env["STASH_BACKUP_ENGINE"] = self.engine
        self.op_log = open(os.path.join(self.server.data_dir, "operator.log"), "a")
        self.operator = subprocess.Popen(
            [STASH, "--log-level", "info", "operator", "--kubeconfig", self.server.kubeconfig,
             "--node", "--data-dir", self.node_dir, "--container-runtime", self.runtime,
             *self.pass_env],
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
        if self.gcs:
            self.gcs.stop()

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

    def event_count(self, reason, name="pause-backup", ns="demo"):
        """How many times `reason` was recorded for object `name` (events
        repeat by their count, as kubectl describe shows "(x3 over 6s)")."""
        items = (self.get_json("events", "-n", ns) or {}).get("items", [])
        return sum(e.get("count", 1) for e in items
                   if e.get("reason") == reason and e.get("involvedObject", {}).get("name") == name)

    def wait_paused_ticks(self, n=1, since=0, timeout=30):
        """Waits until `n` more ticks than `since` were skipped as paused (each
        writes the Backup Skipped event); returns the count. A tick that was
        already running when the pause landed comes before these."""
        return self.wait_for("%d paused tick(s)" % n,
                             lambda: (lambda c: c if c >= since + n else 0)(
                                 self.event_count("Backup Skipped")), timeout=timeout)

    def wait_for(self, what, fn, timeout=60, interval=0.3):
        return wait_for(what, fn, timeout, interval, detail=self.logs)

    def replace_role_rules(self, name, rules, ns="demo"):
        """Replaces Role ns/name's rules with `rules(old rules)` (the operator
        does not watch its Roles: they stay so); returns the old rules."""
        role = self.get_json("role", "-n", ns, name)
        before = json.loads(json.dumps(role["rules"]))
        role["rules"] = rules(role["rules"])
        for k in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
            role["metadata"].pop(k, None)
        self.kubectl("replace", "-f", "-", input=json.dumps(role))
        return before

    def wait_denied(self, condition, denial, role, timeout=60):
        """Waits for condition() (a condition dict or None) to be False with
        reason PermissionDenied, its message matching regex `denial` (kube's
        Forbidden words) and naming Role `role`; returns (condition, match)."""
        cond = self.wait_for("the condition False", lambda: (
            lambda c: c if c and c["status"] == "False" else None)(condition()), timeout=timeout)
        assert cond["reason"] == "PermissionDenied", cond
        missing = re.search(denial, cond["message"])
        assert missing, cond["message"]
        assert role in cond["message"], cond["message"]
        return cond, missing

    def create_namespace_and_secret(self, password="changeit", ns="demo", name="gcs-secret",
                                    project="stash-local-test", key=None):
        """As the guide: `echo -n` each value into a file, then
        `kubectl create secret generic --from-file=./...` in that directory."""
        d = tempfile.mkdtemp(prefix="stash-secret-")
        for k, value in (("RESTIC_PASSWORD", password), ("GOOGLE_PROJECT_ID", project),
                         ("GOOGLE_SERVICE_ACCOUNT_JSON_KEY", key or "{}")):
            with open(os.path.join(d, k), "w") as f:
                f.write(value)
        self.kubectl("create", "ns", ns, check=False)
        self.server.kubectl("create", "secret", "generic", "-n", ns, name,
                            "--from-file=./RESTIC_PASSWORD", "--from-file=./GOOGLE_PROJECT_ID",
                            "--from-file=./GOOGLE_SERVICE_ACCOUNT_JSON_KEY", cwd=d)

    def guide_workload(self, data="sample_data\n", repository=True):
        """The guide's namespace, Secret and Deployment, `data` written into its
        PVC as data.txt, and (unless repository=False) the local Repository."""
        self.create_namespace_and_secret()
        self.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        pvc = self.wait_for("the PVC directory",
                            lambda: os.path.isdir(self.pvc_dir("source-pvc")) and
                            self.pvc_dir("source-pvc"))
        with open(os.path.join(pvc, "data.txt"), "w") as f:
            f.write(data)
        if repository:
            self.kubectl("apply", "-f", "-", input=self.local_repository())
        return pvc

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

    def copy_bucket(self, bucket, prefix, dest=None):
        """Every object under gs://bucket/prefix/ out of the emulator, byte for
        byte, into a local directory (restic 0.14 cannot reach an emulator)."""
        dest = dest or tempfile.mkdtemp(prefix="stash-gcs-copy-")
        base = "http://127.0.0.1:%d/storage/v1/b/%s/o" % (self.gcs.port, bucket)
        prefix = prefix.strip("/") + "/"
        token, names = None, []
        while True:
            q = {"prefix": prefix}
            if token:
                q["pageToken"] = token
            with urllib.request.urlopen(base + "?" + urllib.parse.urlencode(q)) as r:
                page = json.load(r)
            names += [(o["name"], int(o["size"])) for o in page.get("items", [])]
            token = page.get("nextPageToken")
            if not token:
                break
        for name, size in names:
            if name[len(prefix):].startswith("locks/"):
                continue  # a running backup's lock comes and goes; a copy needs none
            url = base + "/" + urllib.parse.quote(name, safe="") + "?alt=media"
            with urllib.request.urlopen(url) as r:
                data = r.read()
            assert len(data) == size, (name, len(data), size)
            path = os.path.join(dest, name[len(prefix):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        return dest

    def node_processes(self):
        """The processes the node started (its pods' stash containers and what
        they run), as (pid, argv, environment) from /proc."""
        roots = {p.pid for p in (self.server.proc, self.operator) if p and p.poll() is None}
        parents = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        parents[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    pass
        out = []
        for pid in parents:
            p, seen = parents.get(pid), 0
            while p and p not in roots and seen < 64:
                p, seen = parents.get(p), seen + 1
            if p not in roots:
                continue
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    argv = [a.decode() for a in f.read().split(b"\0") if a]
                with open("/proc/%d/environ" % pid, "rb") as f:
                    environ = dict(e.decode().split("=", 1) for e in f.read().split(b"\0")
                                   if b"=" in e)
            except OSError:
                continue  # ended meanwhile
            if argv and os.path.basename(argv[0]) not in ("conmon", "podman"):
                out.append((pid, argv, environ))
        return out

    def admin_token(self):
        with open(self.server.kubeconfig) as f:
            return re.search(r"token:\s*(\S+)", f.read()).group(1)

    def pvc_dir(self, claim, ns="demo"):
        return os.path.join(self.node_dir, "volumes", ns, claim)


class OperatorTestMixin:
    """Mixed into a unittest.TestCase: one server with the operator and the
    node for the whole class (`cls.env`), with the namespace `NS` made."""

    NS = None

    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv().start()
        try:
            if cls.NS:
                cls.env.kubectl("create", "ns", cls.NS)
        except BaseException:
            cls.env.stop()  # tearDownClass does not run when setUpClass fails
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
