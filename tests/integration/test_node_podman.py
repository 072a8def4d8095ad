"""The embedded node runs pods' containers in podman (issue 15).

`stash server --container-runtime podman` with the real kubectl and Debian's
podman (runc): the guide's Deployment unchanged (busybox from the local image
store, built by scripts/setup.sh from busybox-static) writes its sample data
through the PVC, the sidecar is injected beside it and backs /source/data up,
`kubectl logs`/`rollout status`/`get deploy` read as on a cluster; a crashing
container restarts with back-off; an absent image is ErrImagePull without
hurting the server; kill -9 of the server leaves no orphan and no duplicate.

Skipped only where podman cannot run a container at all (and then failed under
CI=true, where scripts/setup.sh has installed it).
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv, seed  # noqa: E402

BUSYBOX = "docker.io/library/busybox:latest"
POD_ROW = re.compile(r"^(stash-demo-[a-z0-9]+-[a-z0-9]{5})\s+(\d+/\d+)\s+(\S+)\s+(\d+)", re.M)


def podman_problem():
    """Why podman cannot run the busybox image here, or None."""
    if subprocess.run(["sh", "-c", "command -v podman"], capture_output=True).returncode != 0:
        return "podman is not installed"
    if os.geteuid() != 0:
        return "the embedded node's podman runs as root"
    r = subprocess.run(["podman", "run", "--rm", "--pull=never", "--runtime", "runc",
                        "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
                        BUSYBOX, "true"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return "podman cannot run %s: %s" % (BUSYBOX, r.stderr.strip()[-300:])
    return None


PROBLEM = podman_problem()
if PROBLEM and os.environ.get("CI") == "true":
    raise RuntimeError("CI: " + PROBLEM + " (scripts/setup.sh installs podman and the image)")


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0



def remove_node_containers(node_id):
    """Removes a node's pods (with their infra containers) and any container of
    it outside a pod. `podman pod ps` has no -a (podman 4.3: it lists stopped
    pods too); with `-aq` it failed, and each run left its pods' infra
    containers running."""
    label = "label=io.stash.node=" + node_id
    for ps, rm in ((["pod", "ps", "-q"], ["pod", "rm"]), (["ps", "-aq"], ["rm"])):
        ids = subprocess.run(["podman", *ps, "--filter", label], capture_output=True,
                             text=True).stdout.split()
        if ids:
            subprocess.run(["podman", *rm, "-f", "-t", "0", *ids], capture_output=True)
    left = subprocess.run(["podman", "ps", "-aq", "--filter", label], capture_output=True,
                          text=True).stdout.split()
    if left:
        print("node %s: podman containers left behind: %s" % (node_id, " ".join(left)),
              file=sys.stderr)
@unittest.skipIf(PROBLEM, PROBLEM or "")
class NodeRunsContainers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv(runtime="podman").start()
        node_dir = os.path.abspath(os.path.join(cls.env.server.data_dir, "node"))
        cls.node_id = hashlib.sha256(node_dir.encode()).hexdigest()[:12]

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
        # The node leaves its containers running when it stops (it adopts them
        # when it starts again); this test's go with it.
        remove_node_containers(cls.node_id)

    def containers(self):
        out = subprocess.run(["podman", "ps", "-a", "--filter",
                              "label=io.stash.node=" + self.node_id, "--format", "json"],
                             capture_output=True, text=True, check=True).stdout
        return [c for c in json.loads(out or "[]") if not c.get("IsInfra")]

    def pods(self):
        out = self.env.kubectl("get", "pod", "-n", "demo").stdout
        return {m.group(1): (m.group(2), m.group(3)) for m in POD_ROW.finditer(out)}

    def pods_like(self, ready, exclude=()):
        now = self.pods()
        if len(now) == 3 and set(now.values()) == {(ready, "Running")} and \
                not set(now) & set(exclude):
            return now
        return None

    def test_1_guide(self):
        env = self.env
        env.create_namespace_and_secret()
        start = time.time()
        r = env.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        self.assertIn("deployment.apps/stash-demo created", r.stdout)
        plain = env.wait_for("3 pods Running 1/1", lambda: self.pods_like("1/1"), timeout=120)
        print("\nfigure: kubectl apply of the guide's Deployment to 3 pods Running: %.1f s" %
              (time.time() - start), file=sys.stderr)
        # busybox ran its args: the sample data is in the PVC's directory.
        data = os.path.join(env.pvc_dir("source-pvc"), "data.txt")
        env.wait_for("data.txt", lambda: os.path.exists(data))
        with open(data) as f:
            self.assertEqual(f.read(), "sample_data\n")
        first = sorted(plain)[0]
        # kubectl exec (WebSocket v5.channel.k8s.io): output, stdin, exit code.
        r = env.kubectl("exec", "-n", "demo", first, "--", "cat", "/source/data/data.txt")
        self.assertEqual(r.stdout, "sample_data\n")
        r = env.kubectl("exec", "-i", "-n", "demo", first, "--", "sh", "-c", "tr a-z A-Z; exit 7",
                        input="hello from stdin\n", check=False)
        self.assertEqual((r.stdout, r.returncode), ("HELLO FROM STDIN\n", 7), r.stderr)
        r = env.kubectl("exec", "-n", "demo", first, "--", "sh", "-c", "echo oops >&2",
                        check=False)
        self.assertEqual(r.stderr, "oops\n")
        # The pod's own ServiceAccount token where kubelet mounts it, in-cluster
        # env, and nothing of the server's environment or admin credential.
        sa = "/var/run/secrets/kubernetes.io/serviceaccount/"
        r = env.kubectl("exec", "-n", "demo", first, "--", "cat", sa + "namespace")
        self.assertEqual(r.stdout, "demo")
        token = env.kubectl("exec", "-n", "demo", first, "--", "cat", sa + "token").stdout
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        self.assertEqual(claims["sub"], "system:serviceaccount:demo:default")
        self.assertIn("BEGIN CERTIFICATE", env.kubectl("exec", "-n", "demo", first, "--", "cat",
                                                       sa + "ca.crt").stdout)
        penv = env.kubectl("exec", "-n", "demo", first, "--", "env").stdout
        self.assertIn("KUBERNETES_SERVICE_PORT=%d\n" % env.server.port, penv)
        self.assertNotIn("KUBECONFIG", penv)
        with open(env.server.kubeconfig) as f:
            admin = re.search(r"token: (\S+)", f.read()).group(1)
        self.assertNotIn(admin, penv)
        pod = env.get_json("pod", "-n", "demo", first)
        st = pod["status"]["containerStatuses"][0]
        self.assertTrue(st["containerID"].startswith("podman://"))
        self.assertTrue(st["imageID"].startswith("sha256:"))
        self.assertEqual(sorted(c["type"] for c in pod["status"]["conditions"]
                                if c["status"] == "True"),
                         ["ContainersReady", "Initialized", "PodScheduled", "Ready"])
        # Memory of the node per pod: podman's conmon and the containers' processes.
        per_pod = {}
        for c in self.containers() + [
                {"Id": i} for i in subprocess.run(
                    ["podman", "ps", "-aq", "--no-trunc", "--filter", "label=io.stash.node=" +
                     self.node_id, "--filter", "label=io.kubernetes.pod.uid"],
                    capture_output=True, text=True).stdout.split()]:
            info = json.loads(subprocess.run(["podman", "inspect", c["Id"]], capture_output=True,
                                             text=True).stdout or "[]")
            for i in info:
                pod_id = i.get("Pod", "")
                per_pod[pod_id] = per_pod.get(pod_id, 0) + rss_kib(i["State"]["Pid"]) + \
                    rss_kib(i["State"].get("ConmonPid", 0))
        print("figure: node memory per pod (conmon + container processes, RSS): %s KiB" %
              sorted(per_pod.values()), file=sys.stderr)

        env.kubectl("apply", "-f", "-", input=env.local_repository())
        bc = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"*/2 * * * * *"')
        env.kubectl("apply", "-f", "-", input=bc)
        injected = env.wait_for("3 new pods READY 2/2 Running",
                                lambda: self.pods_like("2/2", exclude=plain), timeout=120)
        r = env.kubectl("rollout", "status", "deploy/stash-demo", "-n", "demo", "--timeout=60s")
        self.assertIn("successfully rolled out", r.stdout)
        r = env.kubectl("get", "deploy", "-n", "demo", "stash-demo")
        self.assertRegex(r.stdout, r"stash-demo\s+3/3\s+3\s+3")
        # The sidecar (a process) and busybox (a container) share the volume.
        session = env.wait_for("a Succeeded BackupSession", lambda: [
            i for i in (env.get_json("backupsession", "-n", "demo") or {}).get("items", [])
            if i.get("status", {}).get("phase") == "Succeeded"], timeout=120)[0]
        snap = session["status"]["targets"][0]["stats"][0]["snapshots"][0]
        self.assertEqual(snap["path"], "/source/data")
        self.assertGreaterEqual(snap["fileStats"]["totalFiles"], 1)
        name = sorted(injected)[0]
        logs = env.wait_for("the sidecar's log", lambda: env.kubectl(
            "logs", "-n", "demo", name, "-c", "stash").stdout)
        self.assertTrue(logs.strip())
        tail = env.kubectl("logs", "-n", "demo", name, "-c", "stash", "--tail", "1").stdout
        self.assertEqual(tail.count("\n"), 1)
        r = env.kubectl("exec", "-n", "demo", name, "-c", "busybox", "--", "ls", "/source/data")
        self.assertEqual(r.stdout, "data.txt\n")
        r = env.kubectl("exec", "-n", "demo", name, "-c", "stash", "--", "true", check=False)
        self.assertIn("runs as a process of the embedded node", r.stderr)

    def test_2_crash_loop(self):
        env = self.env
        env.kubectl("create", "ns", "demo", check=False)
        env.kubectl("run", "-n", "demo", "crasher", "--image=busybox", "--",
                    "sh", "-c", "echo attempt; exit 3")

        def looping():
            p = env.get_json("pod", "-n", "demo", "crasher") or {}
            for st in p.get("status", {}).get("containerStatuses", []):
                waiting = st.get("state", {}).get("waiting", {})
                if st["restartCount"] >= 2 and waiting.get("reason") == "CrashLoopBackOff":
                    return st
            return None
        st = env.wait_for("restarts with CrashLoopBackOff", looping, timeout=90)
        self.assertEqual(st["lastState"]["terminated"]["exitCode"], 3)
        self.assertEqual(st["lastState"]["terminated"]["reason"], "Error")
        r = env.kubectl("get", "pod", "-n", "demo", "crasher")
        self.assertRegex(r.stdout, r"crasher\s+0/1\s+(CrashLoopBackOff|Error)\s+\d+")
        r = env.kubectl("logs", "-n", "demo", "crasher", "--previous")
        self.assertEqual(r.stdout, "attempt\n")

    def test_3_absent_image(self):
        env = self.env
        env.kubectl("create", "ns", "demo", check=False)
        start = time.time()
        env.kubectl("run", "-n", "demo", "ghost", "--image=registry.invalid/nobody/ghost:1")

        def pulling():
            p = env.get_json("pod", "-n", "demo", "ghost") or {}
            for st in p.get("status", {}).get("containerStatuses", []):
                waiting = st.get("state", {}).get("waiting", {})
                if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
                    return waiting
            return None
        waiting = env.wait_for("ErrImagePull", pulling, timeout=60)
        print("\nfigure: absent image to %s: %.1f s" % (waiting["reason"], time.time() - start),
              file=sys.stderr)
        self.assertIn("registry.invalid/nobody/ghost:1", waiting["message"])
        self.assertIn("ok", env.kubectl("get", "--raw", "/readyz").stdout)
        env.kubectl("delete", "pod", "-n", "demo", "ghost", "--wait=false")

    def test_4_kill9_adopts(self):
        env = self.env
        if not self.pods_like("2/2"):
            self.skipTest("needs test_1_guide's pods")

        def running():
            out = {}
            for c in self.containers():
                if c["State"] == "running":
                    labels = c["Labels"]
                    key = (labels["io.kubernetes.pod.uid"], labels["io.kubernetes.container.name"])
                    out.setdefault(key, []).append(c["Id"])
            return out
        before = running()
        env.kill9()
        env.restart()
        env.wait_for("3 pods Running 2/2 again", lambda: self.pods_like("2/2"), timeout=120)
        time.sleep(3)  # a node pass that would start duplicates has had its chance
        after = running()
        for key, ids in after.items():
            self.assertEqual(len(ids), 1, "duplicated: %s" % (key,))
        for key, ids in before.items():
            if key[1] == "busybox" and key in after:
                self.assertEqual(after[key], ids, "adopted, not replaced: %s" % (key,))
        uids = {p["metadata"]["uid"] for p in env.get_json("pod", "-A")["items"]}
        orphans = [k for k in after if k[0] not in uids]
        self.assertEqual(orphans, [])


if __name__ == "__main__":
    unittest.main()
