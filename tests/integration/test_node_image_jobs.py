"""Stash's own Jobs run from the stash image, and readiness probes as kubelet
runs them (issue 15).

`stash server --container-runtime podman --image TAG --trigger-processes`
with the image in podman's store:
 - each tick of the trigger CronJob is what kube-controller-manager makes of
   it: a Job `stash-trigger-<bc>-<tick>` whose pod runs create-backupsession
   as a podman container of the image with the CronJob's ServiceAccount
   token; the pod ends Completed, `kubectl logs job/...` shows the session
   it made, the BackupSession is backed up by the sidecar (from the image
   too), the CronJob's status says when the last tick was scheduled and
   succeeded, and finished Jobs beyond successfulJobsHistoryLimit (3) go;
 - a RestoreSession of a standalone claim is restored by the stash restore
   Job, a podman container of the image: the data comes back and `kubectl
   logs` of its pod works;
 - --pass-env reaches stash's containers in the image (a named variable of
   the server's environment is in the sidecar's and the trigger's
   environment; another is not);
 - a user's busybox containers with httpGet (named port, path, header) and
   tcpSocket readinessProbes are READY 0/1 until httpd answers, 1/1 while it
   does, and 0/1 again once it is gone.

Prints figures: kubectl apply of the BackupConfiguration to the first
trigger pod Completed, and its Job's creation to completion. Skipped only
where podman cannot run a container (failed under CI=true) or buildah is
missing.
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import SOURCE_DIR, STASH  # noqa: E402
from operator_env import OperatorEnv, seed  # noqa: E402
from test_node_podman import PROBLEM, remove_node_containers  # noqa: E402

SKIP = PROBLEM or (None if shutil.which("buildah") else "buildah is not installed")
if SKIP and os.environ.get("CI") == "true":
    raise RuntimeError("CI: " + SKIP + " (scripts/setup.sh installs podman and buildah)")

CRONJOB = "stash-trigger-pause-backup"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipIf(SKIP, SKIP or "")
class StashJobsFromTheImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tag = "localhost/stash-jobs-test:%s" % os.urandom(4).hex()
        r = subprocess.run([os.path.join(SOURCE_DIR, "scripts", "image.sh"), "--binary", STASH,
                            "--tag", cls.tag], capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise AssertionError("scripts/image.sh failed: " + r.stdout + r.stderr)
        cls.env = OperatorEnv(runtime="podman")
        cls.env.server.extra_args += ["--image", cls.tag, "--trigger-processes"]
        # STORAGE_EMULATOR_HOST is one of the variables OperatorEnv passes
        # (--pass-env); STASH_TEST_NOT_PASSED is not.
        cls.env.server.extra_env = {"STORAGE_EMULATOR_HOST": "127.0.0.1:4443",
                                    "STASH_TEST_NOT_PASSED": "leak"}
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

    def containers(self, pod):
        """The node's podman containers of pod `pod` (not its pause container)."""
        out = subprocess.run(["podman", "ps", "-a", "--filter", "label=io.stash.node=" +
                              self.node_id, "--format", "json"],
                             capture_output=True, text=True, check=True).stdout
        return [c for c in json.loads(out or "[]")
                if c["Labels"].get("io.kubernetes.pod.name") == pod and not c.get("IsInfra")]

    def container_env(self, container_id):
        out = subprocess.run(["podman", "inspect", "--format", "{{json .Config.Env}}",
                              container_id], capture_output=True, text=True, check=True).stdout
        return dict(e.split("=", 1) for e in json.loads(out))

    def jobs(self, prefix):
        items = (self.env.get_json("job", "-n", "demo") or {}).get("items", [])
        return [j for j in items if j["metadata"]["name"].startswith(prefix)]

    def job_pod(self, job):
        items = (self.env.get_json("pod", "-n", "demo", "-l", "job-name=" + job) or {}).get(
            "items", [])
        return items[0] if items else None

    def test_1_trigger_ticks_are_jobs_run_from_the_image(self):
        env = self.env
        env.guide_workload()
        start = time.time()
        bc = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"*/6 * * * * *"')
        env.kubectl("apply", "-f", "-", input=bc)

        def completed():
            for j in self.jobs(CRONJOB + "-"):
                if j.get("status", {}).get("succeeded") == 1:
                    return j
            return None
        job = env.wait_for("a trigger Job Complete", completed, timeout=180)
        name = job["metadata"]["name"]
        pod = env.wait_for("its pod Succeeded", lambda: (
            lambda p: p if p and p["status"].get("phase") == "Succeeded" else None)(
                self.job_pod(name)))
        print("\nfigure: image mode, --trigger-processes: kubectl apply of the "
              "BackupConfiguration to the first trigger pod Completed: %.1f s" % (
                  time.time() - start), file=sys.stderr)
        owner = job["metadata"]["ownerReferences"][0]
        self.assertEqual((owner["kind"], owner["name"]), ("CronJob", CRONJOB))
        # The pod ran create-backupsession as a podman container of the image,
        # as the CronJob's ServiceAccount.
        self.assertEqual(pod["spec"]["serviceAccountName"], CRONJOB)
        st = pod["status"]["containerStatuses"][0]
        self.assertTrue(st["containerID"].startswith("podman://"), st)
        self.assertEqual(st["state"]["terminated"]["exitCode"], 0, st)
        self.assertTrue(st["state"]["terminated"]["reason"] == "Completed", st)
        made = self.containers(pod["metadata"]["name"])
        self.assertTrue(made and all(c["Image"] == self.tag for c in made), made)
        # --pass-env: the server's named variable reached the container of
        # the image; another did not.
        e = self.container_env(made[0]["Id"])
        self.assertEqual(e.get("STORAGE_EMULATOR_HOST"), "127.0.0.1:4443")
        self.assertNotIn("STASH_TEST_NOT_PASSED", e)
        # ... and not as a process of the node.
        self.assertEqual([p for p in env.node_processes() if "create-backupsession" in p[1]], [])
        out = env.kubectl("get", "pod", "-n", "demo", pod["metadata"]["name"]).stdout
        self.assertRegex(out, r"\s0/1\s+Completed\s")
        logs = env.kubectl("logs", "-n", "demo", "-l", "job-name=" + name).stdout
        self.assertRegex(logs, r"backupsession.stash.appscode.com/pause-backup-\d+ created")
        session = logs.split("backupsession.stash.appscode.com/")[1].split()[0]
        done = env.wait_for("the session it made backed up", lambda: (
            lambda s: s if s and s.get("status", {}).get("phase") in ("Succeeded", "Failed")
            else None)(env.get_json("backupsession", "-n", "demo", session)), timeout=180)
        self.assertEqual(done["status"]["phase"], "Succeeded", json.dumps(done["status"]))

        # kube's CronJob status and history: at most 3 Complete Jobs kept.
        cj = env.wait_for("lastSuccessfulTime", lambda: (
            lambda c: c if c and c.get("status", {}).get("lastSuccessfulTime") else None)(
                env.get_json("cronjob", "-n", "demo", CRONJOB)))
        self.assertTrue(cj["status"]["lastScheduleTime"])
        log = lambda: "".join(env.server.stderr_lines)  # noqa: E731
        # Forbid: a Job is made once the one before ended, so 4 have ended
        # when the 5th is made.
        env.wait_for("5 ticks made Jobs", lambda: log().count(
            "node: CronJob demo/%s: created Job" % CRONJOB) >= 5, timeout=300)
        env.wait_for("finished Jobs beyond 3 deleted", lambda: len(
            [j for j in self.jobs(CRONJOB + "-") if j.get("status", {}).get("succeeded")]) <= 3)
        self.assertLessEqual(len([j for j in self.jobs(CRONJOB + "-")
                                  if j.get("status", {}).get("succeeded")]), 3)
        # The Job of a tick took about this long from creation to completion.
        j = env.wait_for("a Complete Job", completed)
        t0 = time.strptime(j["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        t1 = time.strptime(j["status"]["completionTime"], "%Y-%m-%dT%H:%M:%SZ")
        print("figure: a trigger Job's creation to completion: %d s (1 s resolution)" % (
            time.mktime(t1) - time.mktime(t0)), file=sys.stderr)

        # ... and the sidecar's, from the image too.
        sidecars = [c for p in (env.get_json("pod", "-n", "demo", "-l", "app=stash-demo") or {})
                    .get("items", []) for c in self.containers(p["metadata"]["name"])
                    if c["Names"][0].startswith("k8s_stash_")]
        self.assertTrue(sidecars)
        for c in sidecars[:1]:
            e = self.container_env(c["Id"])
            self.assertEqual(e.get("STORAGE_EMULATOR_HOST"), "127.0.0.1:4443", c["Names"])
            self.assertNotIn("STASH_TEST_NOT_PASSED", e)
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "-p", '{"spec": {"paused": true}}')

    def test_2_restore_job_runs_from_the_image(self):
        env = self.env
        # No backup of the sidecar's after the one below (test 1 pauses it too).
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "-p", '{"spec": {"paused": true}}', check=False)
        env.wait_for("no session Running", lambda: not [
            s for s in (env.get_json("backupsession", "-n", "demo") or {}).get("items", [])
            if s.get("status", {}).get("phase") in ("Running", "", None)] or None, timeout=120)
        env.kubectl("create", "ns", "demo", check=False)
        env.create_namespace_and_secret()
        env.kubectl("apply", "-f", "-", input=env.local_repository())
        d = tempfile.mkdtemp(prefix="stash-claim-src-")
        with open(os.path.join(d, "data.txt"), "w") as f:
            f.write("for the claim\n")
        penv = dict(os.environ, RESTIC_PASSWORD="changeit",
                    STASH_PATH_MAP=json.dumps({"/source/data": d}))
        if not os.path.exists(os.path.join(env.repo_dir, "config")):
            subprocess.run([STASH, "-r", env.repo_dir, "init"], env=penv, check=True,
                           capture_output=True)
        subprocess.run([STASH, "-r", env.repo_dir, "backup", "--host", "host-0",
                        "/source/data"], env=penv, check=True, capture_output=True)
        env.kubectl("apply", "-f", "-", input=(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: restore-pvc\n"
            "  namespace: demo\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n"
            "    requests:\n      storage: 1Gi\n"))
        env.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
            "metadata": {"name": "pvc-restore", "namespace": "demo"},
            "spec": {"repository": {"name": "gcs-repo"},
                     "target": {"ref": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                        "name": "restore-pvc"},
                                "volumeMounts": [{"name": "restore-pvc",
                                                  "mountPath": "/source/data"}],
                                "rules": [{"paths": ["/source/data"]}]}}}))
        s = env.wait_for("RestoreSession final", lambda: (
            lambda s: s if s.get("status", {}).get("phase") in ("Succeeded", "Failed") else None)(
                env.get_json("restoresession", "-n", "demo", "pvc-restore") or {}), timeout=240)
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"]))
        with open(os.path.join(env.pvc_dir("restore-pvc"), "data.txt")) as f:
            self.assertEqual(f.read(), "for the claim\n")
        pod = env.wait_for("the restore Job's pod Succeeded", lambda: (
            lambda p: p if p and p["status"].get("phase") == "Succeeded" else None)(
                self.job_pod("stash-restore-pvc-restore")))
        st = pod["status"]["containerStatuses"][0]
        self.assertTrue(st["containerID"].startswith("podman://"), st)
        made = self.containers(pod["metadata"]["name"])
        self.assertTrue(made and all(c["Image"] == self.tag for c in made), made)
        self.assertEqual([p for p in env.node_processes() if "run-restore" in p[1]], [])
        logs = env.kubectl("logs", "-n", "demo", pod["metadata"]["name"]).stdout
        self.assertTrue(logs.strip())

    def test_3_http_get_and_tcp_socket_readiness_probes(self):
        env = self.env
        env.kubectl("create", "ns", "probes", check=False)
        http_port, tcp_port = free_port(), free_port()
        # httpd once /www/go exists, in the background: `kubectl exec ...
        # killall httpd` takes it away without ending the container.
        script = ("mkdir -p /www && echo ok > /www/index.html && "
                  "until [ -f /www/go ]; do sleep 0.2; done && httpd -p %d -h /www && sleep 3600")
        pods = []
        for name, port, probe in (
                ("http", http_port, {"httpGet": {"path": "/index.html", "port": "web",
                                                 "httpHeaders": [{"name": "X-Probe",
                                                                  "value": "1"}]}}),
                ("tcp", tcp_port, {"tcpSocket": {"port": tcp_port}})):
            probe.update({"periodSeconds": 1, "failureThreshold": 2})
            pods.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": name, "namespace": "probes"},
                         "spec": {"containers": [{
                             "name": "web", "image": "busybox",
                             "command": ["sh", "-c", script % port],
                             "ports": [{"name": "web", "containerPort": port}],
                             "readinessProbe": probe}]}})
        env.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                          "items": pods}))

        def ready(name):
            p = env.get_json("pod", "-n", "probes", name) or {}
            sts = p.get("status", {}).get("containerStatuses", [])
            return sts[0] if sts else None
        for name in ("http", "tcp"):
            # Running, and not Ready while nothing answers.
            st = env.wait_for("%s running" % name, lambda: (
                lambda s: s if s and "running" in s["state"] else None)(ready(name)))
            self.assertFalse(st["ready"], st)
            out = env.kubectl("get", "pod", "-n", "probes", name).stdout
            self.assertRegex(out, r"\s0/1\s+Running\s")
            env.kubectl("exec", "-n", "probes", name, "--", "touch", "/www/go")
        for name in ("http", "tcp"):
            env.wait_for("%s Ready" % name, lambda: (
                lambda s: s if s and s["ready"] else None)(ready(name)), timeout=60)
            out = env.kubectl("get", "pod", "-n", "probes", name).stdout
            self.assertRegex(out, r"\s1/1\s+Running\s")
        # httpd gone: not Ready after failureThreshold failures.
        for name in ("http", "tcp"):
            env.kubectl("exec", "-n", "probes", name, "--", "killall", "httpd")
        for name in ("http", "tcp"):
            env.wait_for("%s not Ready" % name, lambda: (
                lambda s: s if s and not s["ready"] and "running" in s["state"] else None)(
                    ready(name)), timeout=60)
        self.assertIn("node: container web of pod probes/http is not Ready: httpGet "
                      "http://127.0.0.1:%d/index.html" % http_port,
                      "".join(env.server.stderr_lines))


if __name__ == "__main__":
    unittest.main()
