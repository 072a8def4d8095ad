"""Cluster mode as a user installs it: `kubectl apply -k deploy/` on `stash server
--no-operator` (RBAC enforced), then `stash operator` with in-cluster
configuration made from the operator's ServiceAccount token (token file,
ca.crt, namespace, KUBERNETES_SERVICE_HOST/PORT) and nothing else — every call
it makes is authorized by the shipped RBAC alone.

- The operator sets a BackupConfiguration up (sidecar, trigger CronJob,
  conditions, phase Ready) and skips a BackupSession of a missing
  BackupConfiguration (status + event); it never met a 403.
- Removing one rule from its ClusterRole shows up as a condition and a
  Warning event on the next BackupConfiguration, naming the missing
  permission.
- Two replicas with --leader-elect: exactly one reconciles; after kill -9 of
  the leader the other takes over within the Lease duration (printed).
- /healthz and /readyz answer.

Where podman runs containers here, the test builds the image with
scripts/image.sh and runs the replicas as containers (rootful, runc), the
ServiceAccount files mounted where kubelet puts them; elsewhere each replica
is a process with STASH_SERVICEACCOUNT_DIR pointing at the same files.
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
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH, SOURCE_DIR, wait_for  # noqa: E402
from test_api_server import ApiServer  # noqa: E402

DEPLOY = os.path.join(SOURCE_DIR, "deploy")
SEED = os.path.join(SOURCE_DIR, "tests", "integration", "data", "seed")
OPERATOR_SA = "system:serviceaccount:stash:stash-operator"


PODMAN = shutil.which("podman")
PODMAN_RUN = ["run", "--rm", "--pull=never", "--runtime", "runc", "--network", "host",
              "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]


def build_image():
    """The image of scripts/image.sh, if buildah and podman work here; else None."""
    if not PODMAN or not shutil.which("buildah"):
        return None
    tag = "localhost/stash:test-%d" % os.getpid()
    r = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "image.sh"), "--binary",
                        os.path.realpath(shutil.which(STASH) or STASH), "--tag", tag],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        print("image.sh failed, replicas run as processes:", r.stderr[-2000:])
        return None
    print(r.stdout.strip())
    probe = subprocess.run([PODMAN, *PODMAN_RUN, tag, "version"], capture_output=True,
                           text=True, timeout=120)
    if probe.returncode != 0:
        print("podman cannot run the image here, replicas run as processes:", probe.stderr)
        subprocess.run([PODMAN, "rmi", "-f", tag], capture_output=True)
        return None
    print("in the image:", probe.stdout.strip())
    return tag


class Operator:
    """One `stash operator` replica with in-cluster configuration."""

    count = 0

    def __init__(self, server, sa_dir, args, image=None):
        self.lines = []
        self.name = None
        if image:
            Operator.count += 1
            self.name = "stash-operator-test-%d-%d" % (os.getpid(), Operator.count)
            cmd = [PODMAN, *PODMAN_RUN, "--name", self.name,
                   "-v", sa_dir + ":/var/run/secrets/kubernetes.io/serviceaccount:ro",
                   "-e", "KUBERNETES_SERVICE_HOST=127.0.0.1",
                   "-e", "KUBERNETES_SERVICE_PORT=%d" % server.port,
                   image, "operator", *args]
            env = dict(os.environ)
        else:
            cmd = [STASH, "operator", *args]
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "HOME": tempfile.gettempdir(),
                   "KUBERNETES_SERVICE_HOST": "127.0.0.1",
                   "KUBERNETES_SERVICE_PORT": str(server.port),
                   "STASH_SERVICEACCOUNT_DIR": sa_dir}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=env)
        import threading
        threading.Thread(target=self._drain, daemon=True).start()

    def kill9(self):
        if self.name:
            subprocess.run([PODMAN, "kill", "--signal", "KILL", self.name], capture_output=True)
        else:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def _drain(self):
        for line in self.proc.stderr:
            self.lines.append((time.time(), line))

    def text(self):
        return "".join(l for _, l in self.lines)

    def when(self, pattern):
        for t, l in self.lines:
            if re.search(pattern, l):
                return t
        return None

    def stop(self):
        if self.name and self.proc.poll() is None:
            subprocess.run([PODMAN, "stop", "-t", "15", self.name], capture_output=True)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class DeployTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        cls.operators = []
        r = cls.server.kubectl("apply", "-k", DEPLOY)
        assert r.returncode == 0, r.stderr
        cls.apply_output = r.stdout
        wait_for("the operator's ServiceAccount",
                 lambda: cls.server.kubectl("get", "sa", "stash-operator", "-n",
                                            "stash").returncode == 0)
        r = cls.server.kubectl("create", "token", "stash-operator", "-n", "stash",
                               "--duration=2h")
        assert r.returncode == 0, r.stderr
        cls.sa_dir = tempfile.mkdtemp(prefix="stash-sa-")
        os.chmod(cls.sa_dir, 0o755)  # the image's user (65532) reads the mount
        with open(os.path.join(cls.sa_dir, "token"), "w") as f:
            f.write(r.stdout.strip())
        shutil.copy(os.path.join(cls.server.data_dir, "ca.crt"), os.path.join(cls.sa_dir, "ca.crt"))
        with open(os.path.join(cls.sa_dir, "namespace"), "w") as f:
            f.write("stash")
        for name in ("token", "ca.crt", "namespace"):
            os.chmod(os.path.join(cls.sa_dir, name), 0o644)
        cls.image = build_image()
        print("operator replicas run as", "containers of " + cls.image if cls.image
              else "processes")

    @classmethod
    def tearDownClass(cls):
        for op in cls.operators:
            op.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.sa_dir, ignore_errors=True)
        if cls.image:
            subprocess.run([PODMAN, "rmi", "-f", cls.image], capture_output=True)

    def deployment_args(self):
        """The Deployment's own args, $(VAR)s expanded from its env; the probe port
        is moved to a free one (replicas share this machine's network)."""
        dep = json.loads(self.kubectl("get", "deploy", "stash-operator", "-n", "stash", "-o",
                                      "json"))
        c = dep["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
        args = [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a)
                for a in c["args"]]
        self.assertEqual(args[0], "operator")
        return ["--health-probe-bind-address=127.0.0.1:0" if a.startswith(
            "--health-probe-bind-address") else a for a in args[1:]], c["image"]

    def start_operator(self, *args):
        dep_args, _ = self.deployment_args()
        op = Operator(self.server, self.sa_dir, [*dep_args, *args], image=self.image)
        self.operators.append(op)
        return op

    def kubectl(self, *args, **kw):
        r = self.server.kubectl(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def bc_condition(self, name, ctype):
        r = self.server.kubectl("get", "bc", name, "-n", "demo", "-o", "json")
        if r.returncode != 0:
            return None
        for c in json.loads(r.stdout).get("status", {}).get("conditions", []):
            if c["type"] == ctype:
                return c
        return None

    def test_1_install_lists_every_piece(self):
        for piece in ("namespace/stash", "serviceaccount/stash-operator",
                      "clusterrole.rbac.authorization.k8s.io/stash-operator",
                      "clusterrolebinding.rbac.authorization.k8s.io/stash-operator",
                      "role.rbac.authorization.k8s.io/stash-operator-leader-election",
                      "deployment.apps/stash-operator",
                      "customresourcedefinition.apiextensions.k8s.io/"
                      "backupconfigurations.stash.appscode.com"):
            self.assertIn(piece, self.apply_output)
        rules = json.loads(self.kubectl("get", "clusterrole", "stash-operator", "-o", "json"))
        for rule in rules["rules"]:
            for field in ("verbs", "apiGroups", "resources"):
                self.assertNotIn("*", rule.get(field, []), rule)
        dep = json.loads(self.kubectl("get", "deploy", "stash-operator", "-n", "stash", "-o",
                                      "json"))
        self.assertEqual(dep["spec"]["replicas"], 2)
        c = dep["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(c["securityContext"]["readOnlyRootFilesystem"], True)
        self.assertEqual(c["securityContext"]["capabilities"]["drop"], ["ALL"])
        self.assertIn("limits", c["resources"])
        # The operator's account may not do what it was not given.
        r = self.server.kubectl("auth", "can-i", "delete", "secrets", "-n", "demo",
                                "--as=" + OPERATOR_SA)
        self.assertEqual(r.stdout, "no\n")

    def test_2_guide_with_the_shipped_rbac(self):
        op = self.start_operator()
        self.addCleanup(op.stop)
        wait_for("the operator to lead", lambda: op.when("became the leader"))
        port = int(wait_for("the probe port",
                            lambda: re.search(r"health probes on :(\d+)", op.text())).group(1))
        for path in ("/healthz", "/readyz"):
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
                self.assertEqual((r.status, r.read()), (200, b"ok"))
        self.kubectl("create", "ns", "demo")
        with open(os.path.join(SEED, "deployment.yaml")) as f:
            self.kubectl("apply", "-f", "-", input=f.read())
        self.kubectl("create", "secret", "generic", "-n", "demo", "gcs-secret",
                     "--from-literal=RESTIC_PASSWORD=changeit")
        with open(os.path.join(SEED, "repository.yaml")) as f:
            self.kubectl("apply", "-f", "-", input=f.read())
        with open(os.path.join(SEED, "backupconfiguration.yaml")) as f:
            bc_yaml = f.read()
        self.kubectl("apply", "-f", "-", input=bc_yaml)
        wait_for("the sidecar", lambda: "stash" in self.kubectl(
            "get", "deploy", "stash-demo", "-n", "demo", "-o",
            "jsonpath={.spec.template.spec.containers[*].name}").split())
        # Sidecars carry the operator's image, the one kustomization.yaml sets.
        _, operator_image = self.deployment_args()
        self.assertEqual(self.kubectl("get", "deploy", "stash-demo", "-n", "demo", "-o",
                                      "jsonpath={.spec.template.spec.containers[?(@.name=="
                                      "'stash')].image}"), operator_image)
        wait_for("the trigger CronJob", lambda: self.server.kubectl(
            "get", "cronjob", "-n", "demo", "stash-trigger-pause-backup").returncode == 0)
        wait_for("phase Ready", lambda: self.kubectl(
            "get", "bc", "pause-backup", "-n", "demo", "-o", "jsonpath={.status.phase}") == "Ready")
        # A session whose BackupConfiguration is gone is Skipped by the operator
        # (status subresource, Warning event); pausing is the sidecar's business.
        with open(os.path.join(SEED, "backupsession.yaml")) as f:
            session = f.read().replace("pause-backup", "no-such-bc")
        self.kubectl("create", "-f", "-", input=session)
        wait_for("the Skipped session", lambda: self.kubectl(
            "get", "backupsession", "instant-backupsession", "-n", "demo", "-o",
            "jsonpath={.status.phase}") == "Skipped")
        wait_for("the BackupSessionSkipped event", lambda: "BackupSessionSkipped" in self.kubectl(
            "get", "events", "-n", "demo", "-o", "jsonpath={.items[*].reason}"))
        self.assertNotIn("forbidden", op.text())

        # One rule less: the next BackupConfiguration says which permission is missing.
        role = json.loads(self.kubectl("get", "clusterrole", "stash-operator", "-o", "json"))
        index = [i for i, r in enumerate(role["rules"]) if "cronjobs" in r.get("resources", [])][0]
        self.kubectl("patch", "clusterrole", "stash-operator", "--type=json", "-p",
                     json.dumps([{"op": "remove", "path": "/rules/%d" % index}]))
        self.kubectl("apply", "-f", "-", input=bc_yaml.replace("pause-backup", "second"))
        cond = wait_for("the CronJob condition", lambda: (
            lambda c: c if c and c["status"] == "False" else None)(
                self.bc_condition("second", "CronJobCreated")))
        # The operator reads CronJobs from its cache, so the write is what the
        # server refuses (Stash's CreateOrPatch would GET first: either verb
        # names the missing permission).
        missing = re.search(r'User "%s" cannot (get|create) resource "cronjobs" in API group '
                            r'"batch" in the namespace "demo"' % re.escape(OPERATOR_SA),
                            cond["message"])
        self.assertTrue(missing, cond["message"])
        missing = missing.group(0)
        events = wait_for("the Warning event", lambda: [
            e for e in json.loads(self.kubectl("get", "events", "-n", "demo", "-o",
                                               "json"))["items"]
            if e["involvedObject"]["name"] == "second" and e["type"] == "Warning"])
        self.assertIn(missing, events[0]["message"])
        self.kubectl("apply", "-k", DEPLOY)  # the rule is back
        op.stop()

    def test_3_two_replicas_one_leader_and_a_takeover(self):
        a = self.start_operator()
        first = wait_for("a leader", lambda: a.when("became the leader"))
        b = self.start_operator()
        wait_for("the follower to wait", lambda: b.when("waiting to lead"))
        time.sleep(3)  # a few retry periods: the follower must stay a follower
        self.assertIsNone(b.when("became the leader"))
        self.assertNotIn("running", b.text())
        holder = self.kubectl("get", "lease", "stash-operator", "-n", "stash", "-o",
                              "jsonpath={.spec.holderIdentity}")
        self.assertIn(holder, a.text())
        killed = time.time()
        a.kill9()
        took_over = wait_for("the takeover", lambda: b.when("became the leader"), timeout=40)
        elapsed = took_over - killed
        print("\nleader takeover after kill -9: %.1f s (Lease duration 15 s, retry 2 s)" % elapsed)
        self.assertLess(elapsed, 15 + 2 + 1)
        self.assertGreater(first, 0)


if __name__ == "__main__":
    unittest.main()
