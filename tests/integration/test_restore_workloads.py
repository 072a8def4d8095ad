"""RestoreSession on a StatefulSet of 3 (host-0's backup into every replica
with sourceHost, then different sources per replica with targetHosts), on a
DaemonSet (its host is the node's name), in
Job mode into a standalone PVC, and through a kill -9 of the server in the
middle of a restore (it ends Succeeded or Failed after the restart, never
Running forever).

StatefulSets here give each replica an emptyDir (the embedded node keeps it
per pod): per-replica claims from volumeClaimTemplates are not modelled by
the node yet. The replicas' backups are taken with `stash backup` through a
path map, as the sidecar records them (/source/data of host-<ordinal>).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH  # noqa: E402
from operator_env import OperatorEnv  # noqa: E402

STATEFULSET = """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: sts-demo
  namespace: demo
spec:
  replicas: 3
  serviceName: sts-demo
  selector:
    matchLabels:
      app: sts-demo
  template:
    metadata:
      labels:
        app: sts-demo
    spec:
      containers:
      - name: app
        image: busybox
        volumeMounts:
        - name: source-data
          mountPath: /source/data
      volumes:
      - name: source-data
        emptyDir: {}
"""


def session(name, target, kind, rules, volume="source-data", mount="/source/data"):
    return json.dumps({
        "apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
        "metadata": {"name": name, "namespace": "demo"},
        "spec": {"repository": {"name": "gcs-repo"},
                 "target": {"ref": {"apiVersion": "apps/v1" if kind != "PersistentVolumeClaim"
                                    else "v1", "kind": kind, "name": target},
                            "volumeMounts": [{"name": volume, "mountPath": mount}],
                            "rules": rules}}})


class Workloads(unittest.TestCase):
    def setUp(self):
        self.env = OperatorEnv().start()
        self.env.create_namespace_and_secret()
        self.env.kubectl("apply", "-f", "-", input=self.env.local_repository())
        self.stash_env = dict(os.environ, RESTIC_PASSWORD="changeit")
        self.stash("init")

    def tearDown(self):
        self.env.stop()

    def stash(self, *args, path_map=None):
        env = dict(self.stash_env)
        if path_map:
            env["STASH_PATH_MAP"] = json.dumps(path_map)
        r = subprocess.run([STASH, "-r", self.env.repo_dir, *args], capture_output=True,
                           text=True, env=env, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def back_up(self, host, files):
        """A backup of /source/data as host `host` would record it."""
        d = tempfile.mkdtemp(prefix="stash-%s-" % host)
        for rel, data in files.items():
            mode = "wb" if isinstance(data, bytes) else "w"
            with open(os.path.join(d, rel), mode) as f:
                f.write(data)
        self.stash("backup", "--host", host, "/source/data", path_map={"/source/data": d})

    def wait_phase(self, name, timeout=120):
        env = self.env
        return env.wait_for("RestoreSession %s final" % name, lambda: (
            lambda s: s if s.get("status", {}).get("phase") in ("Succeeded", "Failed") else None)(
                env.get_json("restoresession", "-n", "demo", name) or {}), timeout=timeout)

    def emptydir(self, pod):
        return os.path.join(self.env.node_dir, "emptydir", "demo", pod, "source-data")

    def read(self, path):
        with open(path) as f:
            return f.read()

    def test_statefulset_from_host0_then_per_replica_sources(self):
        env = self.env
        for i in range(3):
            self.back_up("host-%d" % i, {"data.txt": "data of host-%d\n" % i})
        env.kubectl("apply", "-f", "-", input=STATEFULSET)
        env.kubectl("apply", "-f", "-", input=session(
            "sts-from-host0", "sts-demo", "StatefulSet",
            [{"sourceHost": "host-0", "paths": ["/source/data"]}]))
        s = self.wait_phase("sts-from-host0")
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        self.assertEqual(s["status"]["totalHosts"], 3)
        self.assertEqual(sorted((h["hostname"], h["phase"]) for h in s["status"]["stats"]),
                         [("host-%d" % i, "Succeeded") for i in range(3)])
        for i in range(3):
            self.assertEqual(self.read(os.path.join(self.emptydir("sts-demo-%d" % i), "data.txt")),
                             "data of host-0\n")
        env.kubectl("delete", "restoresession", "-n", "demo", "sts-from-host0")
        env.wait_for("init container removed", lambda: not env.get_json(
            "sts", "-n", "demo", "sts-demo")["spec"]["template"]["spec"].get("initContainers"))

        # targetHosts: host-1 gets host-2's data, host-2 host-1's, host-0 its own.
        env.kubectl("apply", "-f", "-", input=session(
            "sts-swap", "sts-demo", "StatefulSet",
            [{"targetHosts": ["host-1"], "sourceHost": "host-2", "paths": ["/source/data"]},
             {"targetHosts": ["host-2"], "sourceHost": "host-1", "paths": ["/source/data"]},
             {"paths": ["/source/data"]}]))
        s = self.wait_phase("sts-swap")
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        expect = {0: "host-0", 1: "host-2", 2: "host-1"}
        for i, source in expect.items():
            self.assertEqual(self.read(os.path.join(self.emptydir("sts-demo-%d" % i), "data.txt")),
                             "data of %s\n" % source)

    def test_daemonset_restores_the_nodes_backup(self):
        """A DaemonSet's host is its pod's node, as Stash names it."""
        env = self.env
        node = env.get_json("node")["items"][0]["metadata"]["name"]
        self.back_up(node, {"data.txt": "data of node %s\n" % node})
        env.kubectl("apply", "-f", "-", input=STATEFULSET.replace("StatefulSet", "DaemonSet")
                    .replace("sts-demo", "ds-demo").replace("  replicas: 3\n", "")
                    .replace("  serviceName: ds-demo\n", ""))
        env.kubectl("apply", "-f", "-", input=session(
            "ds-restore", "ds-demo", "DaemonSet", [{"paths": ["/source/data"]}]))
        s = self.wait_phase("ds-restore")
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        self.assertEqual(s["status"]["totalHosts"], 1)
        self.assertEqual([(h["hostname"], h["phase"]) for h in s["status"]["stats"]],
                         [(node, "Succeeded")])
        pods = [p["metadata"]["name"] for p in env.get_json(
            "pod", "-n", "demo", "-l", "app=ds-demo")["items"]
            if p["spec"].get("initContainers") and "deletionTimestamp" not in p["metadata"]]
        self.assertEqual(len(pods), 1, pods)
        self.assertEqual(self.read(os.path.join(self.emptydir(pods[0]), "data.txt")),
                         "data of node %s\n" % node)

    def test_job_mode_restores_a_standalone_claim(self):
        env = self.env
        self.back_up("host-0", {"data.txt": "for the claim\n"})
        env.kubectl("apply", "-f", "-", input=(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: restore-pvc\n"
            "  namespace: demo\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n"
            "    requests:\n      storage: 1Gi\n"))
        env.kubectl("apply", "-f", "-", input=session(
            "pvc-restore", "restore-pvc", "PersistentVolumeClaim", [{"paths": ["/source/data"]}],
            volume="restore-pvc"))
        s = self.wait_phase("pvc-restore")
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        self.assertEqual(self.read(os.path.join(env.pvc_dir("restore-pvc"), "data.txt")),
                         "for the claim\n")
        job = env.wait_for("the restore Job Complete", lambda: (
            lambda j: j if j and j.get("status", {}).get("succeeded") == 1 else None)(
                env.get_json("job", "-n", "demo", "stash-restore-pvc-restore")))
        self.assertIn("Complete", [c["type"] for c in job["status"]["conditions"]
                                   if c["status"] == "True"])
        out = env.kubectl("get", "job", "-n", "demo").stdout
        self.assertRegex(out, r"stash-restore-pvc-restore\s+Complete\s+1/1")

    def test_kill9_during_restore(self):
        env = self.env
        # Enough that the restore is still writing when the server dies.
        files = {"f%03d.bin" % i: os.urandom(4 << 20) for i in range(96)}  # 384 MiB
        files["data.txt"] = "sample_data\n"
        self.back_up("host-0", files)
        env.kubectl("apply", "-f", "-", input=(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: big-pvc\n"
            "  namespace: demo\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n"
            "    requests:\n      storage: 1Gi\n---\napiVersion: apps/v1\nkind: Deployment\n"
            "metadata:\n  name: big-demo\n  namespace: demo\nspec:\n  replicas: 1\n"
            "  selector:\n    matchLabels:\n      app: big-demo\n  template:\n    metadata:\n"
            "      labels:\n        app: big-demo\n    spec:\n      containers:\n"
            "      - name: app\n        image: busybox\n        volumeMounts:\n"
            "        - name: source-data\n          mountPath: /source/data\n      volumes:\n"
            "      - name: source-data\n        persistentVolumeClaim:\n"
            "          claimName: big-pvc\n"))
        env.kubectl("apply", "-f", "-", input=session(
            "big-restore", "big-demo", "Deployment", [{"paths": ["/source/data"]}]))
        env.wait_for("host-0 restoring", lambda: [
            h for h in (env.get_json("restoresession", "-n", "demo", "big-restore") or {}).get(
                "status", {}).get("stats", []) if h["phase"] == "Running"], timeout=120,
            interval=0.05)
        env.kill9()
        env.restart()
        s = self.wait_phase("big-restore", timeout=240)
        self.assertIn(s["status"]["phase"], ("Succeeded", "Failed"))
        print("after kill -9 and restart: %s %s" % (s["status"]["phase"], s["status"]["stats"]),
              file=sys.stderr)
        if s["status"]["phase"] == "Succeeded":
            for name in ("data.txt", "f000.bin", "f095.bin"):
                with open(os.path.join(env.pvc_dir("big-pvc"), name), "rb") as f:
                    data = f.read()
                expect = files[name].encode() if isinstance(files[name], str) else files[name]
                self.assertEqual(data, expect, name)


if __name__ == "__main__":
    unittest.main()
