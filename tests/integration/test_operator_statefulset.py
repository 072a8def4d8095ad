"""Per-replica backup of a StatefulSet, with the real kubectl and restic 0.14.

A StatefulSet of 3 with a volumeClaimTemplate (each replica its own claim
data-db-<ordinal>, each holding different data) and a BackupConfiguration
targeting it: every replica's sidecar backs up its own volume as
host-<ordinal>, without the Deployment's Lease. The BackupSession ends
Succeeded with totalHosts 3 and one stats entry per host; the repository has
one snapshot per host, and `restic restore` of each host's latest snapshot
gives that replica's data. A second session with keepLast 1 keeps one
snapshot per host (retention groups by host and paths, as restic's forget).
A DaemonSet's pod backs up as its node's name.
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv  # noqa: E402

REPLICAS = 3

STATEFULSET = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: demo}
spec:
  replicas: %d
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: db, image: busybox, volumeMounts: [{name: data, mountPath: /source/data}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
""" % REPLICAS

# A schedule that does not fire during the test: sessions are made by hand.
BACKUPCONFIGURATION = """apiVersion: stash.appscode.com/v1beta1
kind: BackupConfiguration
metadata: {name: db-backup, namespace: demo}
spec:
  repository: {name: gcs-repo}
  schedule: "0 0 1 1 *"
  target:
    ref: {apiVersion: apps/v1, kind: StatefulSet, name: db}
    volumeMounts: [{name: data, mountPath: /source/data}]
    paths: [/source/data]
  retentionPolicy: {name: keep-last-1, keepLast: 1, prune: true}
"""

DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: demo}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: agent, image: busybox, volumeMounts: [{name: logs, mountPath: /var/log/app}]}
      volumes:
      - {name: logs, hostPath: {path: %s}}
"""

DS_BACKUPCONFIGURATION = """apiVersion: stash.appscode.com/v1beta1
kind: BackupConfiguration
metadata: {name: agent-backup, namespace: demo}
spec:
  repository: {name: ds-repo}
  schedule: "0 0 1 1 *"
  target:
    ref: {apiVersion: apps/v1, kind: DaemonSet, name: agent}
    volumeMounts: [{name: logs, mountPath: /var/log/app}]
    paths: [/var/log/app]
  retentionPolicy: {name: keep-last-5, keepLast: 5}
"""

SESSION = """apiVersion: stash.appscode.com/v1beta1
kind: BackupSession
metadata: {name: %s, namespace: demo}
spec:
  invoker: {apiGroup: stash.appscode.com, kind: BackupConfiguration, name: %s}
"""


class StatefulSetBackup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv().start()

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def write_replica(self, ordinal, files):
        d = self.env.pvc_dir("data-db-%d" % ordinal)
        for rel, data in files.items():
            path = os.path.join(d, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)

    def session(self, name, invoker="db-backup"):
        env = self.env
        env.kubectl("apply", "-f", "-", input=SESSION % (name, invoker))
        return env.wait_for("BackupSession %s final" % name, lambda: (
            lambda s: s if s.get("status", {}).get("phase") in ("Succeeded", "Failed") else None)(
                env.get_json("backupsession", "-n", "demo", name) or {}), timeout=180)

    def snapshots(self, repo=None):
        r = self.env.restic("snapshots", "--json", repo=repo)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def restored(self, host, repo=None, path="source/data"):
        """Each file of `host`'s latest snapshot, restored by restic 0.14."""
        target = tempfile.mkdtemp(prefix="stash-restore-%s-" % host)
        r = self.env.restic("restore", "latest", "--host", host, "--target", target, repo=repo)
        self.assertEqual(r.returncode, 0, r.stderr)
        root = os.path.join(target, path)
        out = {}
        for d, _, names in os.walk(root):
            for n in names:
                with open(os.path.join(d, n), "rb") as f:
                    out[os.path.relpath(os.path.join(d, n), root)] = f.read()
        return out

    def running_sidecars(self, selector):
        """The pods of `selector` whose stash container runs."""
        pods = (self.env.get_json("pod", "-n", "demo", "-l", selector) or {}).get("items", [])
        return sorted(p["metadata"]["name"] for p in pods
                      if "stash" in [c["name"] for c in p["spec"]["containers"]] and
                      any(c["name"] == "stash" and "running" in c.get("state", {})
                          for c in p.get("status", {}).get("containerStatuses", [])))

    def test_each_replica_backs_up_its_own_volume(self):
        env = self.env
        env.create_namespace_and_secret()
        env.kubectl("apply", "-f", "-", input=STATEFULSET)
        env.wait_for("3 claims bound", lambda: all(
            (env.get_json("pvc", "-n", "demo", "data-db-%d" % i) or {})
            .get("status", {}).get("phase") == "Bound" for i in range(REPLICAS)), timeout=60)
        data = {}
        for i in range(REPLICAS):
            data[i] = {"data.txt": b"data of replica %d\n" % i,
                       "sub/blob.bin": os.urandom(50000 + 1000 * i)}
            env.wait_for("claim directory %d" % i,
                         lambda i=i: os.path.isdir(env.pvc_dir("data-db-%d" % i)))
            self.write_replica(i, data[i])
        env.kubectl("apply", "-f", "-", input=env.local_repository())
        env.kubectl("apply", "-f", "-", input=BACKUPCONFIGURATION)

        # The sidecar in each replica (the StatefulSet rolls them one by one).
        self.assertEqual(env.wait_for("3 replicas with the sidecar", lambda: (
            lambda names: names if len(names) == REPLICAS else None)(
                self.running_sidecars("app=db")), timeout=120),
            ["db-%d" % i for i in range(REPLICAS)])

        s = self.session("db-backup-first")
        status = s["status"]
        self.assertEqual(status["phase"], "Succeeded", json.dumps(status, indent=1))
        target = status["targets"][0]
        self.assertEqual(target["ref"]["kind"], "StatefulSet")
        self.assertEqual(target["totalHosts"], REPLICAS)
        self.assertEqual(target["phase"], "Succeeded")
        hosts = {h["hostname"]: h for h in target["stats"]}
        self.assertEqual(sorted(hosts), ["host-%d" % i for i in range(REPLICAS)])
        for h in hosts.values():
            self.assertEqual(h["phase"], "Succeeded")
            self.assertEqual([x["path"] for x in h["snapshots"]], ["/source/data"])
            self.assertEqual(h["snapshots"][0]["fileStats"]["totalFiles"], 2)
            self.assertTrue(h["duration"].endswith("s"))
        conds = {c["type"]: c["status"] for c in status["conditions"]}
        self.assertEqual(conds.get("RetentionPolicyApplied"), "True")
        self.assertEqual(conds.get("RepositoryIntegrityVerified"), "True")
        self.assertNotIn("progress", status)
        self.assertRegex(env.kubectl("get", "backupsession", "-n", "demo",
                                     "db-backup-first").stdout,
                         r"db-backup-first\s+BackupConfiguration\s+db-backup\s+Succeeded")
        # No replica waited for another: the Deployment's Lease is not taken.
        self.assertIsNone(env.get_json("lease", "-n", "demo",
                                       "lock-backupconfiguration-db-backup-backup"))

        snaps = self.snapshots()
        self.assertEqual(sorted((s["hostname"], tuple(s["paths"])) for s in snaps),
                         [("host-%d" % i, ("/source/data",)) for i in range(REPLICAS)])
        for i in range(REPLICAS):
            self.assertEqual(self.restored("host-%d" % i), data[i], "host-%d" % i)
        first_ids = {s["hostname"]: s["short_id"] for s in snaps}
        self.assertEqual({h: x["snapshots"][0]["name"] for h, x in hosts.items()}, first_ids)

        # Replica 1's data changes; keepLast 1 keeps each host's newest
        # snapshot (not one snapshot in all).
        data[1]["data.txt"] = b"replica 1, changed\n"
        self.write_replica(1, data[1])
        s = self.session("db-backup-second")
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        snaps = self.snapshots()
        self.assertEqual(sorted(s["hostname"] for s in snaps),
                         ["host-%d" % i for i in range(REPLICAS)])
        self.assertFalse({s["short_id"] for s in snaps} & set(first_ids.values()))
        for i in range(REPLICAS):
            self.assertEqual(self.restored("host-%d" % i), data[i], "host-%d" % i)
        repo = env.get_json("repository", "-n", "demo", "gcs-repo")
        self.assertEqual(repo["status"]["snapshotCount"], REPLICAS)
        self.assertEqual(repo["status"]["snapshotsRemovedOnLastCleanup"], REPLICAS)

    def test_a_daemonset_pod_backs_up_as_its_node(self):
        env = self.env
        env.create_namespace_and_secret()
        logs = tempfile.mkdtemp(prefix="stash-ds-logs-")
        with open(os.path.join(logs, "app.log"), "w") as f:
            f.write("node log\n")
        repo = tempfile.mkdtemp(prefix="stash-ds-repo-")
        env.kubectl("apply", "-f", "-", input=env.local_repository(name="ds-repo", path=repo))
        env.kubectl("apply", "-f", "-", input=DAEMONSET % logs)
        env.kubectl("apply", "-f", "-", input=DS_BACKUPCONFIGURATION)
        pods = env.wait_for("the DaemonSet's pod with the sidecar",
                            lambda: self.running_sidecars("app=agent"), timeout=120)
        self.assertEqual(len(pods), 1)
        node = env.get_json("pod", "-n", "demo", pods[0])["spec"]["nodeName"]
        s = self.session("agent-backup-1", invoker="agent-backup")
        status = s["status"]
        self.assertEqual(status["phase"], "Succeeded", json.dumps(status, indent=1))
        self.assertEqual(status["targets"][0]["totalHosts"], 1)
        self.assertEqual([h["hostname"] for h in status["targets"][0]["stats"]], [node])
        self.assertEqual([s["hostname"] for s in self.snapshots(repo=repo)], [node])
        self.assertEqual(self.restored(node, repo=repo, path="var/log/app"),
                         {"app.log": b"node log\n"})


if __name__ == "__main__":
    unittest.main()
