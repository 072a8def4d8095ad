"""What a pod's spec asks of the embedded node's podman runtime (issue 15),
beyond the guide (test_node_podman.py), with the real kubectl:

- init containers run one at a time, in order, to success, before the app
  container starts;
- env from a value, a $(VAR) reference, Secret and ConfigMap keys and the
  pod's fields; workingDir; runAsUser/runAsGroup (the pod's, overridden by
  the container's); emptyDir shared by init and app containers, a PVC,
  hostPath, ConfigMap and Secret volumes as files, the ServiceAccount token —
  all usable by a container running as a user other than root (kubelet's
  modes: emptyDir 0777, claims 0777 as Kubernetes' provisioners make them);
- `kubectl logs -f` follows a container until it exits, `--tail`, `-c`;
  `kubectl exec -it` gets a terminal;
- a StatefulSet's and a DaemonSet's pods run and `kubectl rollout status`
  completes for both, `kubectl get sts` reads 2/2;
- `stash node load-image` imports a docker archive that a pod then runs.

Skipped only where podman cannot run a container (failed under CI=true, where
scripts/setup.sh installs podman and the busybox image).
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH  # noqa: E402
from operator_env import OperatorEnv  # noqa: E402
from test_node_podman import BUSYBOX, PROBLEM, remove_node_containers  # noqa: E402

SOURCES = """apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: demo}
data: {greeting: hello, app.conf: "mode=fast\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret, namespace: demo}
stringData: {password: s3cret-%(salt)s}
"""

POD = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: spec-claim, namespace: demo}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: spec-pod, namespace: demo}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 3000}
  initContainers:
  - name: first
    image: busybox
    command: [sh, -c, "echo first >> /work/order; chmod 666 /work/order"]
    securityContext: {runAsUser: 0, runAsGroup: 0}
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: busybox
    command: [sh, -c, "test -f /work/order && echo second >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: main
    image: busybox
    command: [sh, -c]
    args: ["echo main >> order; echo started; exec sleep 3600"]
    workingDir: /work
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: app-config, key: greeting}}}
    - {name: MSG, value: "$(GREETING) world"}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: app-secret, key: password}}}
    - {name: MY_POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MY_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    volumeMounts:
    - {name: work, mountPath: /work}
    - {name: cfg, mountPath: /etc/cfg}
    - {name: sec, mountPath: /etc/sec, readOnly: true}
    - {name: host, mountPath: /host}
    - {name: claim, mountPath: /claim}
  volumes:
  - {name: claim, persistentVolumeClaim: {claimName: spec-claim}}
  - {name: work, emptyDir: {}}
  - {name: cfg, configMap: {name: app-config}}
  - {name: sec, secret: {secretName: app-secret}}
  - {name: host, hostPath: {path: %(host)s}}
"""

COUNTER = """apiVersion: v1
kind: Pod
metadata: {name: counter, namespace: demo}
spec:
  restartPolicy: Never
  containers:
  - name: count
    image: busybox
    command: [sh, -c, "for i in 1 2 3 4; do echo line $i; sleep 1; done"]
"""

WORKLOADS = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: demo}
spec:
  replicas: 2
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: busybox, command: [sleep, "3600"]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: demo}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: app, image: busybox, command: [sleep, "3600"]}
"""


@unittest.skipIf(PROBLEM, PROBLEM or "")
class PodSpecInPodman(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv(runtime="podman").start()
        cls.env.kubectl("create", "ns", "demo")
        node_dir = os.path.abspath(os.path.join(cls.env.server.data_dir, "node"))
        cls.node_id = hashlib.sha256(node_dir.encode()).hexdigest()[:12]
        cls.images = []

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
        remove_node_containers(cls.node_id)
        for image in cls.images:
            subprocess.run(["podman", "rmi", "-f", image], capture_output=True)

    def phase(self, name, want):
        return self.env.wait_for("pod %s %s" % (name, want), lambda: (
            lambda p: p if p.get("status", {}).get("phase") == want else None)(
                self.env.get_json("pod", "-n", "demo", name) or {}), timeout=120)

    def exec(self, pod, *cmd):
        return self.env.kubectl("exec", "-n", "demo", pod, "--", *cmd).stdout

    def test_spec(self):
        env = self.env
        host = tempfile.mkdtemp(prefix="stash-hostpath-")
        os.chmod(host, 0o755)  # a hostPath keeps its host mode: readable by user 1000
        with open(os.path.join(host, "from-host.txt"), "w") as f:
            f.write("on the host\n")
        salt = os.urandom(4).hex()
        env.kubectl("apply", "-f", "-", input=SOURCES % {"salt": salt})
        env.kubectl("apply", "-f", "-", input=POD % {"host": host})
        pod = self.phase("spec-pod", "Running")
        inits = pod["status"]["initContainerStatuses"]
        self.assertEqual([(s["name"], s["state"]["terminated"]["exitCode"]) for s in inits],
                         [("first", 0), ("second", 0)])
        env.wait_for("main started", lambda: "started" in env.kubectl(
            "logs", "-n", "demo", "spec-pod").stdout)
        self.assertEqual(self.exec("spec-pod", "cat", "/work/order"), "first\nsecond\nmain\n")
        self.assertEqual(self.exec("spec-pod", "pwd"), "/work\n")
        self.assertEqual(self.exec("spec-pod", "sh", "-c", "echo $(id -u):$(id -g)"),
                         "1000:3000\n")
        out = self.exec("spec-pod", "env")
        for line in ("GREETING=hello", "MSG=hello world", "PASSWORD=s3cret-" + salt,
                     "MY_POD=spec-pod", "MY_NS=demo"):
            self.assertIn(line + "\n", out)
        self.assertEqual(self.exec("spec-pod", "cat", "/etc/cfg/app.conf"), "mode=fast\n")
        self.assertEqual(self.exec("spec-pod", "cat", "/etc/sec/password"), "s3cret-" + salt)
        self.assertEqual(self.exec("spec-pod", "cat", "/host/from-host.txt"), "on the host\n")
        # As user 1000: the claim (provisioned 0777, as Kubernetes' hostPath
        # provisioner makes it) is writable, the token readable.
        self.assertEqual(self.exec("spec-pod", "sh", "-c",
                                   "echo x > /claim/f; stat -c %u /claim/f"), "1000\n")
        sa = "/var/run/secrets/kubernetes.io/serviceaccount/"
        self.assertEqual(self.exec("spec-pod", "cat", sa + "namespace"), "demo")
        r = env.kubectl("exec", "-n", "demo", "spec-pod", "--", "sh", "-c",
                        "echo x > /etc/sec/password", check=False)
        self.assertNotEqual(r.returncode, 0)
        # A terminal for `exec -it` (kubectl needs one on its side too: util-linux's
        # script, in Debian's essential bsdutils, gives it).
        cmd = "kubectl --kubeconfig %s exec -it -n demo spec-pod -- sh -c 'tty; stty size'" % (
            env.server.kubeconfig)
        r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"/dev/pts/\d+")
        env.kubectl("delete", "pod", "-n", "demo", "spec-pod", "--wait=false")

    def test_logs_follow(self):
        env = self.env
        env.kubectl("apply", "-f", "-", input=COUNTER)
        env.wait_for("counter started", lambda: (lambda p: p.get("status", {}).get("phase") in (
            "Running", "Succeeded"))(env.get_json("pod", "-n", "demo", "counter") or {}))
        # -f ends when the container exits, with every line.
        r = env.kubectl("logs", "-f", "-n", "demo", "counter", "-c", "count")
        self.assertEqual(r.stdout, "line 1\nline 2\nline 3\nline 4\n")
        self.phase("counter", "Succeeded")
        r = env.kubectl("logs", "-n", "demo", "counter", "--tail", "2")
        self.assertEqual(r.stdout, "line 3\nline 4\n")

    def test_workloads_roll_out(self):
        env = self.env
        env.kubectl("apply", "-f", "-", input=WORKLOADS)
        for what in ("sts/web", "ds/agent"):
            r = env.kubectl("rollout", "status", "-n", "demo", what, "--timeout=120s")
            # kubectl's words for a StatefulSet with the default partition 0.
            self.assertRegex(r.stdout, r"roll out complete|successfully rolled out")
        self.assertRegex(env.kubectl("get", "sts", "-n", "demo", "web").stdout, r"web\s+2/2")
        self.assertRegex(env.kubectl("get", "ds", "-n", "demo", "agent").stdout,
                         r"agent\s+1\s+1\s+1\s+1\s+1")
        env.kubectl("delete", "sts,ds", "-n", "demo", "--all", "--wait=false")

    def test_load_image(self):
        env = self.env
        tag = "localhost/stash-test/loaded:%s" % os.urandom(4).hex()
        archive = os.path.join(tempfile.mkdtemp(prefix="stash-image-"), "image.tar")
        subprocess.run(["podman", "tag", BUSYBOX, tag], check=True)
        subprocess.run(["podman", "save", "--format", "docker-archive", "-o", archive, tag],
                       check=True, capture_output=True)
        subprocess.run(["podman", "rmi", tag], check=True, capture_output=True)
        self.images.append(tag)
        r = subprocess.run([STASH, "node", "load-image", "--data-dir", env.server.data_dir,
                            archive], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Loaded image: " + tag, r.stdout)
        env.kubectl("run", "-n", "demo", "loaded", "--image=" + tag, "--restart=Never",
                    "--", "echo", "from the loaded image")
        self.phase("loaded", "Succeeded")
        self.assertEqual(env.kubectl("logs", "-n", "demo", "loaded").stdout,
                         "from the loaded image\n")
        r = subprocess.run([STASH, "node", "load-image", "--data-dir", env.server.data_dir,
                            os.path.join(os.path.dirname(archive), "missing.tar")],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no such file", r.stderr)


if __name__ == "__main__":
    unittest.main()
