"""What kube-controller-manager does, on `stash server`, seen through the real
kubectl: garbage collection of dependents (Background, Foreground with
blockOwnerDeletion, Orphan), `kubectl delete ns` going through Terminating,
`kubectl scale`, and PersistentVolumes bound to claims with a reclaim policy.
"""
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
from test_api_server import ApiServer  # noqa: E402

SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "seed")


def wait_for(what, fn, timeout=10, interval=0.1):
    return helpers.wait_for(what, fn, timeout, interval)


class ClusterControllersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        cls.work = tempfile.mkdtemp(prefix="stash-cluster-")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def k(self, *args, ok=True, input=None):
        r = self.server.kubectl(*args, input=input, cwd=self.work)
        if ok:
            self.assertEqual(r.returncode, 0, "kubectl %s: %s" % (" ".join(args), r.stderr))
        return r

    def get(self, *args):
        r = self.server.kubectl("get", *args, "-o", "json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def names(self, resource, ns):
        items = self.get(resource, "-n", ns)["items"]
        return sorted(i["metadata"]["name"] for i in items)

    def namespace(self, name):
        self.k("create", "ns", name)

    def test_delete_backupconfiguration_removes_its_sessions(self):
        ns = "gc-bc"
        self.namespace(ns)
        with open(os.path.join(SEED, "backupconfiguration.yaml")) as f:
            self.k("apply", "-f", "-", input=f.read().replace("namespace: demo", "namespace: " + ns))
        bc = self.get("bc", "-n", ns, "pause-backup")
        owner = {"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
                 "name": "pause-backup", "uid": bc["metadata"]["uid"], "controller": True,
                 "blockOwnerDeletion": True}
        for name, owned in (("pause-backup-1", True), ("pause-backup-2", True),
                            ("by-hand", False)):
            meta = {"name": name, "namespace": ns}
            if owned:
                meta["ownerReferences"] = [owner]
            session = {"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupSession",
                       "metadata": meta,
                       "spec": {"invoker": {"apiGroup": "stash.appscode.com",
                                            "kind": "BackupConfiguration", "name": "pause-backup"}}}
            self.k("apply", "-f", "-", input=json.dumps(session))
        self.assertEqual(self.k("delete", "bc", "-n", ns, "pause-backup").stdout,
                         'backupconfiguration.stash.appscode.com "pause-backup" deleted\n')
        start = time.time()
        wait_for("owned sessions collected",
                 lambda: self.names("backupsession", ns) == ["by-hand"], timeout=5)
        self.assertLess(time.time() - start, 5)

    def owned_pod(self, ns, name, deploy, finalizers=()):
        meta = {"name": name, "namespace": ns,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": deploy["metadata"]["name"],
                                     "uid": deploy["metadata"]["uid"], "controller": True,
                                     "blockOwnerDeletion": True}]}
        if finalizers:
            meta["finalizers"] = list(finalizers)
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
               "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        self.k("apply", "-f", "-", input=json.dumps(pod))

    def deployment(self, ns, name):
        with open(os.path.join(SEED, "deployment.yaml")) as f:
            doc = f.read().split("---")[1]
        self.k("apply", "-f", "-", input=doc.replace("namespace: demo", "namespace: " + ns)
               .replace("name: stash-demo", "name: " + name))
        return self.get("deploy", "-n", ns, name)

    def test_cascade_foreground_waits_for_blocking_dependents(self):
        ns = "gc-fg"
        self.namespace(ns)
        d = self.deployment(ns, "web")
        self.owned_pod(ns, "web-held", d, finalizers=["example.com/hold"])
        self.owned_pod(ns, "web-free", d)
        r = self.k("delete", "deploy", "-n", ns, "web", "--cascade=foreground", "--wait=false")
        self.assertEqual(r.stdout, 'deployment.apps "web" deleted\n')
        wait_for("free pod collected", lambda: "web-free" not in self.names("pods", ns))
        got = self.get("deploy", "-n", ns, "web")
        self.assertIn("foregroundDeletion", got["metadata"]["finalizers"])
        self.assertIn("deletionTimestamp", got["metadata"])
        self.k("patch", "pod", "-n", ns, "web-held", "--type=merge", "-p",
               '{"metadata":{"finalizers":null}}')
        wait_for("deployment gone", lambda: self.get("deploy", "-n", ns, "web") is None)
        self.assertEqual(self.names("pods", ns), [])

    def test_cascade_orphan_keeps_dependents(self):
        ns = "gc-orphan"
        self.namespace(ns)
        d = self.deployment(ns, "app")
        self.owned_pod(ns, "app-1", d)
        self.k("delete", "deploy", "-n", ns, "app", "--cascade=orphan")
        self.assertIsNone(self.get("deploy", "-n", ns, "app"))
        pod = self.get("pod", "-n", ns, "app-1")
        self.assertNotIn("ownerReferences", pod["metadata"])

    def test_delete_namespace_goes_through_terminating(self):
        ns = "doomed"
        self.namespace(ns)
        self.k("create", "configmap", "-n", ns, "plain", "--from-literal=a=b")
        held = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "held", "namespace": ns, "finalizers": ["example.com/hold"]}}
        self.k("apply", "-f", "-", input=json.dumps(held))
        r = self.k("delete", "ns", ns, "--wait=false")
        self.assertEqual(r.stdout, 'namespace "%s" deleted\n' % ns)
        lines = self.k("get", "ns", ns).stdout.splitlines()
        self.assertRegex(lines[1], r"^%s\s+Terminating\s+\d+s$" % ns)
        wait_for("plain removed", lambda: self.names("configmaps", ns) == ["held"])
        r = self.k("create", "configmap", "-n", ns, "late", "--from-literal=a=b", ok=False)
        self.assertIn("because it is being terminated", r.stderr)

        def finalizers_condition():
            got = self.get("ns", ns)
            conds = {c["type"]: c for c in got["status"].get("conditions", [])}
            return conds.get("NamespaceFinalizersRemaining", {}).get("status") == "True" and conds
        conds = wait_for("namespace conditions", finalizers_condition)
        self.assertEqual(conds["NamespaceFinalizersRemaining"]["message"],
                         "Some content in the namespace has finalizers remaining: "
                         "example.com/hold in 1 resource instances")
        self.assertEqual(conds["NamespaceContentRemaining"]["message"],
                         "Some resources are remaining: configmaps. has 1 resource instances")
        described = self.k("describe", "ns", ns).stdout
        self.assertIn("Status:       Terminating", described)
        self.assertEqual(self.get("ns", ns)["spec"]["finalizers"], ["kubernetes"])
        self.k("patch", "configmap", "-n", ns, "held", "--type=merge", "-p",
               '{"metadata":{"finalizers":null}}')
        wait_for("namespace gone", lambda: self.get("ns", ns) is None)
        # kubectl delete waits for the namespace by default.
        self.namespace(ns)
        self.k("create", "configmap", "-n", ns, "again", "--from-literal=a=b")
        self.assertEqual(self.k("delete", "ns", ns, "--timeout=20s").stdout,
                         'namespace "%s" deleted\n' % ns)
        self.assertIsNone(self.get("ns", ns))

    def test_scale(self):
        ns = "scaling"
        self.namespace(ns)
        self.deployment(ns, "web")
        self.assertEqual(self.k("scale", "deploy", "-n", ns, "web", "--replicas=5").stdout,
                         "deployment.apps/web scaled\n")
        self.assertEqual(self.get("deploy", "-n", ns, "web")["spec"]["replicas"], 5)
        r = self.k("scale", "deploy", "-n", ns, "web", "--current-replicas=4", "--replicas=2",
                   ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Expected replicas to be 4, was 5", r.stderr)
        status, scale, _ = self.server.request(
            "GET", "/apis/apps/v1/namespaces/%s/deployments/web/scale" % ns)
        self.assertEqual(status, 200)
        self.assertEqual((scale["kind"], scale["apiVersion"]), ("Scale", "autoscaling/v1"))
        self.assertEqual(scale["spec"]["replicas"], 5)
        self.assertEqual(scale["status"]["selector"], "app=stash-demo")
        status, body, _ = self.server.request(
            "PATCH", "/apis/apps/v1/namespaces/%s/deployments/web/scale" % ns,
            {"spec": {"replicas": -1}}, content_type="application/merge-patch+json")
        self.assertEqual(status, 422)
        self.assertIn("spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                      body["message"])
        sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": "db", "namespace": ns},
               "spec": {"replicas": 1, "serviceName": "db",
                        "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}},
                                     "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
        self.k("apply", "-f", "-", input=json.dumps(sts))
        self.assertEqual(self.k("scale", "sts", "-n", ns, "db", "--replicas=3").stdout,
                         "statefulset.apps/db scaled\n")
        self.assertEqual(self.get("sts", "-n", ns, "db")["spec"]["replicas"], 3)
        rs = dict(sts, kind="ReplicaSet", metadata={"name": "front", "namespace": ns})
        rs["spec"] = {k: v for k, v in sts["spec"].items() if k != "serviceName"}
        self.k("apply", "-f", "-", input=json.dumps(rs))
        self.assertEqual(self.k("scale", "rs", "-n", ns, "front", "--replicas=4").stdout,
                         "replicaset.apps/front scaled\n")
        # The ReplicaSet controller makes the 4 pods; no node runs them here.
        lines = wait_for("rs front with 4 current pods", lambda: (
            lambda out: out if len(out) > 1 and out[1].split()[1:3] == ["4", "4"] else None)(
                self.k("get", "rs", "-n", ns).stdout.splitlines()))
        self.assertRegex(lines[0], r"^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE$")
        self.assertRegex(lines[1], r"^front\s+4\s+4\s+0\s+\d+s$")

    def test_claims_get_volumes_and_delete_reclaims_the_data(self):
        ns = "volumes"
        self.namespace(ns)
        claim = ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
                 "  namespace: %s\nspec:\n  accessModes: [ReadWriteOnce]\n"
                 "  resources:\n    requests:\n      storage: 2Gi\n" % ns)
        self.k("apply", "-f", "-", input=claim)
        lines = self.k("get", "sc").stdout.splitlines()
        self.assertRegex(lines[0], r"^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+"
                                   r"ALLOWVOLUMEEXPANSION\s+AGE$")
        self.assertRegex(lines[1], r"^standard \(default\)\s+\S+\s+Delete\s+Immediate\s+false\s+")

        def bound():
            c = self.get("pvc", "-n", ns, "data")
            return c if c["status"].get("phase") == "Bound" else None
        pvc = wait_for("claim bound", bound)
        volume = pvc["spec"]["volumeName"]
        self.assertEqual(volume, "pvc-" + pvc["metadata"]["uid"])
        lines = self.k("get", "pvc", "-n", ns).stdout.splitlines()
        self.assertRegex(lines[0], r"^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+"
                                   r"STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$")
        self.assertRegex(lines[1], r"^data\s+Bound\s+%s\s+2Gi\s+RWO\s+standard\s+<unset>\s+\d+s$"
                         % volume)
        lines = self.k("get", "pv").stdout.splitlines()
        self.assertRegex(lines[0], r"^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+"
                                   r"CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$")
        row = [l for l in lines if l.startswith(volume)]
        self.assertEqual(len(row), 1, lines)
        self.assertRegex(row[0], r"^%s\s+2Gi\s+RWO\s+Delete\s+Bound\s+%s/data\s+standard\s+"
                                 r"<unset>\s+\d+s$" % (volume, ns))
        host = self.get("pv", volume)["spec"]["hostPath"]["path"]
        self.assertEqual(host, os.path.join(os.path.realpath(self.server.data_dir), "node",
                                            "volumes", ns, "data"))
        with open(os.path.join(host, "old.txt"), "w") as f:
            f.write("old")
        self.k("delete", "pvc", "-n", ns, "data")
        wait_for("volume reclaimed", lambda: self.get("pv", volume) is None)
        self.assertFalse(os.path.exists(host))
        # Same name again: a new volume, empty.
        self.k("apply", "-f", "-", input=claim)
        pvc = wait_for("new claim bound", bound)
        self.assertNotEqual(pvc["spec"]["volumeName"], volume)
        self.assertEqual(os.listdir(host), [])


if __name__ == "__main__":
    unittest.main()
