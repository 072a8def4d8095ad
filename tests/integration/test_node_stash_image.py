"""Stash's own containers run from the stash image in podman (issue 15).

scripts/image.sh builds the image under a tag of this test's own, and
`stash server --container-runtime podman --image TAG` finds it in podman's
image store: the node says so at start, and the guide's Deployment (busybox)
gets its injected sidecar as a podman container of the pod's podman pod
(`podman ps` lists it under the pod's name, its status has a podman://
container id), running as root (the operator's default securityContext for
the sidecar) so it reads what busybox wrote as root and writes the
hostPath repository. A scheduled backup Succeeds, restic 0.14 lists and
checks the repository, `kubectl logs -c stash` shows the sidecar's log,
`kubectl exec -c stash` runs in the image, and the sidecar is Ready once its
readinessProbe, run in the container, said so. A RestoreSession then restores a
deleted file into the workload through the `stash-init` container, run from
the image too.

Prints figures: image build time and size, kubectl apply of the
BackupConfiguration to the first Succeeded session, memory of a sidecar
container. Skipped only where podman cannot run a container (failed under
CI=true) or buildah is missing.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import SOURCE_DIR, STASH  # noqa: E402
from operator_env import OperatorEnv, seed  # noqa: E402
from test_node_podman import POD_ROW, PROBLEM, remove_node_containers, rss_kib  # noqa: E402

SKIP = PROBLEM or (None if shutil.which("buildah") else "buildah is not installed")
if SKIP and os.environ.get("CI") == "true":
    raise RuntimeError("CI: " + SKIP + " (scripts/setup.sh installs podman and buildah)")

RESTORE = """apiVersion: stash.appscode.com/v1beta1
kind: RestoreSession
metadata: {name: restore-demo, namespace: demo}
spec:
  repository: {name: gcs-repo}
  target:
    ref: {apiVersion: apps/v1, kind: Deployment, name: stash-demo}
    volumeMounts: [{name: source-data, mountPath: /source/data}]
    rules: [{paths: [/source/data]}]
"""


@unittest.skipIf(SKIP, SKIP or "")
class StashImageInPodman(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tag = "localhost/stash-image-test:%s" % os.urandom(4).hex()
        start = time.time()
        r = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "image.sh"), "--binary", STASH,
                            "--tag", cls.tag], capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise AssertionError("scripts/image.sh failed: " + r.stdout + r.stderr)
        size = subprocess.run(["podman", "image", "inspect", "--format", "{{.Size}}", cls.tag],
                              capture_output=True, text=True, check=True).stdout.strip()
        print("\nfigure: scripts/image.sh: %.1f s, image %.1f MB" % (
            time.time() - start, int(size) / 1e6), file=sys.stderr)
        cls.env = OperatorEnv(runtime="podman")
        cls.env.server.extra_args += ["--image", cls.tag]
        try:
            cls.env.start()
        except BaseException:
            subprocess.run(["podman", "rmi", "-f", cls.tag], capture_output=True)
            raise
        node_dir = os.path.abspath(os.path.join(cls.env.server.data_dir, "node"))
        cls.node_id = hashlib.sha256(node_dir.encode()).hexdigest()[:12]

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
        remove_node_containers(cls.node_id)
        subprocess.run(["podman", "rmi", "-f", cls.tag], capture_output=True)

    def pods(self):
        out = self.env.kubectl("get", "pod", "-n", "demo").stdout
        return {m.group(1): (m.group(2), m.group(3)) for m in POD_ROW.finditer(out)}

    def containers(self, name):
        """The node's podman containers named `name` (k8s_<name>_<pod>_...)."""
        out = subprocess.run(["podman", "ps", "-a", "--filter", "label=io.stash.node=" +
                              self.node_id, "--format", "json"],
                             capture_output=True, text=True, check=True).stdout
        return [c for c in json.loads(out or "[]")
                if c["Names"][0].startswith("k8s_%s_" % name)]

    def sessions(self, phase):
        items = (self.env.get_json("backupsession", "-n", "demo") or {}).get("items", [])
        return [i for i in items if i.get("status", {}).get("phase") == phase]

    def test_backup_and_restore_from_the_image(self):
        env = self.env
        log = "".join(env.server.stderr_lines)
        self.assertIn("stash's own containers (image %s) run in podman" % self.tag, log)
        pvc = env.guide_workload()
        with open(os.path.join(pvc, "extra.txt"), "w") as f:
            f.write("restore me\n")
        os.chmod(os.path.join(pvc, "extra.txt"), 0o600)  # root's alone
        env.wait_for("3 pods Running 1/1", lambda: (lambda p: len(p) == 3 and set(
            p.values()) == {("1/1", "Running")} and p)(self.pods()), timeout=120)
        start = time.time()
        bc = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"*/5 * * * * *"')
        env.kubectl("apply", "-f", "-", input=bc)
        injected = env.wait_for("3 pods READY 2/2 Running", lambda: (lambda p: len(p) == 3 and set(
            p.values()) == {("2/2", "Running")} and p)(self.pods()), timeout=180)
        session = env.wait_for("a Succeeded BackupSession", lambda: self.sessions("Succeeded"),
                               timeout=180)[0]
        print("figure: image mode: kubectl apply of the BackupConfiguration to the first "
              "Succeeded session: %.1f s" % (time.time() - start), file=sys.stderr)
        snap = session["status"]["targets"][0]["stats"][0]["snapshots"][0]
        self.assertEqual(snap["path"], "/source/data")
        # The sidecars are podman containers of their pods, from the image.
        sidecars = self.containers("stash")
        running = {c["Labels"]["io.kubernetes.pod.name"] for c in sidecars
                   if c["State"] == "running"}
        self.assertEqual(running, set(injected))
        self.assertTrue(all(c["Image"] == self.tag for c in sidecars), sidecars)
        name = sorted(injected)[0]
        pod = env.get_json("pod", "-n", "demo", name)
        st = [s for s in pod["status"]["containerStatuses"] if s["name"] == "stash"][0]
        self.assertTrue(st["containerID"].startswith("podman://"), st)
        self.assertTrue(st["ready"])
        # ... not processes of the node.
        self.assertEqual([p for p in env.node_processes() if "run-backup" in p[1]], [])
        r = env.kubectl("exec", "-n", "demo", name, "-c", "stash", "--", "stash", "version")
        self.assertRegex(r.stdout, r"^stash v?\d")
        logs = env.wait_for("the sidecar's log", lambda: "".join(env.kubectl(
            "logs", "-n", "demo", p, "-c", "stash").stdout for p in injected))
        self.assertTrue(logs.strip())
        kib = [rss_kib(c["Pid"]) for c in sidecars if c["State"] == "running"]
        print("figure: image mode: sidecar container RSS: %s KiB" % sorted(kib), file=sys.stderr)
        # restic 0.14 reads what the sidecar wrote, the root-only file included.
        r = env.restic("snapshots", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("/source/data", json.loads(r.stdout)[0]["paths"])
        r = env.restic("ls", "latest")
        self.assertIn("/source/data/extra.txt", r.stdout)
        r = env.restic("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # Ready once its readinessProbe (`stash sidecar-ready`, exec'd in the
        # container) said so.
        for p in injected:
            self.assertIn("node: container stash of pod demo/%s is Ready" % p,
                          "".join(env.server.stderr_lines))

        # Restore: the backup paused (as Stash's guide does), the file gone,
        # the init container from the image puts it back in every replica's
        # shared volume before busybox starts again.
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "-p", '{"spec": {"paused": true}}')
        env.wait_for("no session Running", lambda: not self.sessions("Running") or None)
        os.remove(os.path.join(pvc, "extra.txt"))
        env.kubectl("apply", "-f", "-", input=RESTORE)
        done = env.wait_for("RestoreSession final", lambda: (
            lambda s: s if s.get("status", {}).get("phase") in ("Succeeded", "Failed") else None)(
                env.get_json("restoresession", "-n", "demo", "restore-demo") or {}),
            timeout=240)
        self.assertEqual(done["status"]["phase"], "Succeeded", json.dumps(done["status"]))
        with open(os.path.join(pvc, "extra.txt")) as f:
            self.assertEqual(f.read(), "restore me\n")
        self.assertEqual(os.stat(os.path.join(pvc, "extra.txt")).st_mode & 0o777, 0o600)
        inits = self.containers("stash-init")
        self.assertTrue(inits, "no stash-init podman container")
        self.assertTrue(all(c["Image"] == self.tag for c in inits), inits)

        def init_done():
            for c in self.containers("stash-init"):
                name = c["Labels"]["io.kubernetes.pod.name"]
                pod = env.get_json("pod", "-n", "demo", name) or {}
                for s in pod.get("status", {}).get("initContainerStatuses", []):
                    if s["name"] == "stash-init" and "terminated" in s["state"]:
                        return name, s
            return None
        restored, init = env.wait_for("a pod's stash-init terminated", init_done)
        self.assertTrue(init["containerID"].startswith("podman://"), init)
        self.assertEqual(init["state"]["terminated"]["exitCode"], 0, init)
        self.assertTrue(env.kubectl("logs", "-n", "demo", restored, "-c", "stash-init")
                        .stdout.strip())


if __name__ == "__main__":
    unittest.main()
