"""The workload controllers of `stash server`, through the real kubectl:
Deployments roll out through ReplicaSets (`kubectl rollout status/history/undo/
restart`, `kubectl scale`, `kubectl get rs`), StatefulSets get stable pod names
and a claim per volumeClaimTemplate and ordinal, DaemonSets one pod per node,
and pods are scheduled onto the embedded node with events.

The embedded node runs only stash's own containers; a pod whose other
containers it does not run counts as ready for rollouts (src/api/README.md).
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import (OperatorTestMixin, daemonset_yaml, deployment_yaml,  # noqa: E402
                          statefulset_yaml)

NS = "work"
DEPLOYMENT = deployment_yaml(NS)
STATEFULSET = statefulset_yaml(NS, 3, claim_mount="/var/lib/pg")
DAEMONSET = daemonset_yaml(NS)


class WorkloadsTest(OperatorTestMixin, unittest.TestCase):
    NS = NS

    def k(self, *args, **kw):
        return self.env.kubectl(*args, **kw).stdout

    def items(self, kind, selector=None):
        args = [kind, "-n", NS] + (["-l", selector] if selector else [])
        return self.env.get_json(*args)["items"]

    def rollout_status(self, what):
        out = self.k("rollout", "status", what, "-n", NS, "--timeout=90s")
        self.assertRegex(out, r"successfully rolled out|rolling update complete|roll out complete")
        return out

    def test_deployment_rolls_out_through_replicasets(self):
        self.env.kubectl("apply", "-f", "-", input=DEPLOYMENT)
        self.rollout_status("deployment/web")
        rs = self.items("rs", "app=web")
        self.assertEqual(len(rs), 1)
        first = rs[0]["metadata"]["name"]
        hash1 = rs[0]["metadata"]["labels"]["pod-template-hash"]
        self.assertEqual(first, "web-" + hash1)
        self.assertEqual(rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "1")
        pods = self.items("pods", "app=web")
        self.assertEqual(len(pods), 3)
        for p in pods:
            self.assertTrue(p["metadata"]["name"].startswith(first + "-"))
            self.assertEqual(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet")
            self.assertEqual(p["spec"]["nodeName"], "stash-embedded-node")
        # kubectl's columns: READY 3/3, UP-TO-DATE 3, AVAILABLE 3; RS DESIRED/CURRENT/READY.
        self.assertRegex(self.k("get", "deploy", "web", "-n", NS), r"web\s+3/3\s+3\s+3\s")
        self.assertRegex(self.k("get", "rs", "-n", NS, first), first + r"\s+3\s+3\s+3\s")
        describe = self.k("describe", "deploy", "web", "-n", NS)
        self.assertRegex(describe, r"StrategyType:\s+RollingUpdate")
        self.assertRegex(describe, r"RollingUpdateStrategy:\s+25% max unavailable, 25% max surge")
        self.assertRegex(describe, r"NewReplicaSet:\s+" + first)
        self.assertIn("Scaled up replica set %s to 3 from 0" % first, describe)
        pod_describe = self.k("describe", "pod", "-n", NS, pods[0]["metadata"]["name"])
        self.assertIn("Controlled By:  ReplicaSet/" + first, pod_describe)
        self.assertRegex(pod_describe, r"Normal\s+Scheduled\s+.*Successfully assigned %s/%s to "
                         r"stash-embedded-node" % (NS, pods[0]["metadata"]["name"]))

        # A new image: a second ReplicaSet takes over, the first is kept at 0.
        self.k("set", "image", "deployment/web", "-n", NS, "web=nginx:1.28")
        self.k("annotate", "deployment/web", "-n", NS, "kubernetes.io/change-cause=nginx 1.28")
        self.rollout_status("deployment/web")
        rs = {r["metadata"]["name"]: r for r in self.items("rs", "app=web")}
        self.assertEqual(len(rs), 2)
        second = [n for n in rs if n != first][0]
        self.assertEqual(rs[first]["spec"]["replicas"], 0)
        self.assertEqual(rs[second]["spec"]["replicas"], 3)
        pods = self.items("pods", "app=web")
        self.assertEqual(sorted({p["metadata"]["name"].rsplit("-", 1)[0] for p in pods}), [second])
        history = self.k("rollout", "history", "deployment/web", "-n", NS)
        self.assertRegex(history, r"(?m)^1\s+<none>")
        self.assertRegex(history, r"(?m)^2\s+")

        # Undo: the first ReplicaSet comes back as revision 3.
        self.k("rollout", "undo", "deployment/web", "-n", NS)
        self.rollout_status("deployment/web")
        rs = {r["metadata"]["name"]: r for r in self.items("rs", "app=web")}
        self.assertEqual(rs[first]["spec"]["replicas"], 3)
        self.assertEqual(rs[second]["spec"]["replicas"], 0)
        self.assertEqual(rs[first]["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
                         "3")
        self.assertEqual(self.env.get_json("deploy", "-n", NS, "web")["spec"]["template"]["spec"]
                         ["containers"][0]["image"], "nginx:1.27")

        # Scale through the scale subresource; restart makes a new ReplicaSet.
        self.k("scale", "deployment/web", "-n", NS, "--replicas=1")
        self.env.wait_for("1 pod", lambda: len(self.items("pods", "app=web")) == 1, timeout=30)
        self.rollout_status("deployment/web")
        self.k("rollout", "restart", "deployment/web", "-n", NS)
        self.rollout_status("deployment/web")
        self.assertEqual(len(self.items("rs", "app=web")), 3)
        status = self.env.get_json("deploy", "-n", NS, "web")["status"]
        self.assertEqual((status["replicas"], status["updatedReplicas"],
                          status["availableReplicas"]), (1, 1, 1))
        conds = {c["type"]: c for c in status["conditions"]}
        self.assertEqual(conds["Progressing"]["reason"], "NewReplicaSetAvailable")
        self.assertEqual(conds["Available"]["status"], "True")

        self.k("delete", "deployment", "web", "-n", NS)
        self.env.wait_for("replica sets and pods collected",
                          lambda: not self.items("rs", "app=web") and
                          not self.items("pods", "app=web"), timeout=30)

    def test_statefulset_pods_and_claims_per_ordinal(self):
        self.env.kubectl("apply", "-f", "-", input=STATEFULSET)
        out = self.rollout_status("statefulset/db")
        # partition defaults to 0, so kubectl says "partitioned", as on a cluster
        self.assertIn("roll out complete: 3 new pods have been updated", out)
        pods = {p["metadata"]["name"]: p for p in self.items("pods", "app=db")}
        self.assertEqual(sorted(pods), ["db-0", "db-1", "db-2"])
        for i in range(3):
            p = pods["db-%d" % i]
            self.assertEqual(p["spec"]["hostname"], "db-%d" % i)
            self.assertEqual(p["spec"]["subdomain"], "db")
            self.assertEqual(p["metadata"]["labels"]["apps.kubernetes.io/pod-index"], str(i))
            claims = [v["persistentVolumeClaim"]["claimName"] for v in p["spec"]["volumes"]
                      if "persistentVolumeClaim" in v]
            self.assertEqual(claims, ["data-db-%d" % i])
        self.env.wait_for("3 bound claims", lambda: sorted(
            c["metadata"]["name"] for c in self.items("pvc", "app=db")
            if c["status"].get("phase") == "Bound") == ["data-db-0", "data-db-1", "data-db-2"],
            timeout=30)
        self.assertRegex(self.k("get", "sts", "db", "-n", NS), r"db\s+3/3\s")
        for i in range(3):  # each replica's volume is its own directory
            self.assertTrue(os.path.isdir(self.env.pvc_dir("data-db-%d" % i, ns=NS)))

        # Scale down: the highest ordinals go, their claims stay (Retain).
        self.k("scale", "statefulset/db", "-n", NS, "--replicas=1")
        self.env.wait_for("db-0 only", lambda: sorted(
            p["metadata"]["name"] for p in self.items("pods", "app=db")) == ["db-0"], timeout=30)
        self.assertEqual(len(self.items("pvc", "app=db")), 3)
        # A template change rolls the pods; history lists both revisions.
        self.k("set", "image", "statefulset/db", "-n", NS, "db=postgres:17")
        self.rollout_status("statefulset/db")
        self.assertEqual(self.env.get_json("pod", "-n", NS, "db-0")["spec"]["containers"][0]
                         ["image"], "postgres:17")
        history = self.k("rollout", "history", "statefulset/db", "-n", NS)
        self.assertRegex(history, r"(?m)^1\s+")
        self.assertRegex(history, r"(?m)^2\s+")
        self.assertEqual(len(self.items("controllerrevisions", "app=db")), 2)

    def test_daemonset_has_a_pod_on_the_node(self):
        self.env.kubectl("apply", "-f", "-", input=DAEMONSET)
        self.rollout_status("daemonset/agent")
        pods = self.items("pods", "app=agent")
        self.assertEqual(len(pods), 1)
        self.assertRegex(pods[0]["metadata"]["name"], r"^agent-[a-z0-9]{5}$")
        self.assertEqual(pods[0]["spec"]["nodeName"], "stash-embedded-node")
        self.assertRegex(self.k("get", "ds", "agent", "-n", NS), r"agent\s+1\s+1\s+1\s+1\s+1\s")
        self.k("delete", "ds", "agent", "-n", NS)
        self.env.wait_for("pod collected", lambda: not self.items("pods", "app=agent"), timeout=30)

    def test_unschedulable_pod_waits_with_an_event(self):
        pod = """apiVersion: v1
kind: Pod
metadata: {name: picky, namespace: work}
spec:
  nodeSelector: {disk: ssd}
  containers: [{name: c, image: busybox}]
"""
        self.env.kubectl("apply", "-f", "-", input=pod)
        events = self.env.wait_for("FailedScheduling", lambda: re.search(
            r"Warning\s+FailedScheduling\s+.*0/1 nodes are available",
            self.k("describe", "pod", "picky", "-n", NS)), timeout=30)
        self.assertTrue(events)
        self.assertEqual(self.env.get_json("pod", "-n", NS, "picky")["status"]["phase"], "Pending")
        self.k("label", "node", "stash-embedded-node", "disk=ssd")
        self.env.wait_for("scheduled", lambda: self.env.get_json("pod", "-n", NS, "picky")
                          ["spec"].get("nodeName") == "stash-embedded-node", timeout=30)
        self.k("label", "node", "stash-embedded-node", "disk-")


if __name__ == "__main__":
    unittest.main()
