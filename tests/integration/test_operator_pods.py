"""The embedded node's Pod objects, as `kubectl get pod` shows them: names and
counts per workload kind, scaling, template changes, and deletion.

The Pause Backup walkthrough (test_operator_pause.py) covers the guide's
Deployment with and without the sidecar; this covers the rest of PodKeeper.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import (OperatorTestMixin, daemonset_yaml, deployment_yaml,  # noqa: E402
                          statefulset_yaml)

ROW = re.compile(r"^(\S+)\s+(\d+/\d+)\s+(\S+)\s+\d+", re.M)
STATEFULSET = statefulset_yaml("pods", 2)
DAEMONSET = daemonset_yaml("pods")
DEPLOYMENT = deployment_yaml("pods")


class PodsTest(OperatorTestMixin, unittest.TestCase):
    NS = "pods"

    def pods(self, prefix):
        out = self.env.kubectl("get", "pod", "-n", "pods").stdout
        return {m.group(1): (m.group(2), m.group(3)) for m in ROW.finditer(out)
                if m.group(1).startswith(prefix)}

    def wait_pods(self, prefix, n, what):
        def ok():
            p = self.pods(prefix)
            if len(p) == n and all(st == "NotRunByEmbeddedNode" for _, st in p.values()):
                return p or True
            return None
        return self.env.wait_for(what, ok, timeout=30)

    def test_statefulset_pods_are_ordinals_and_daemonset_has_one(self):
        self.env.kubectl("apply", "-f", "-", input=STATEFULSET + "---\n" + DAEMONSET)
        sts = self.wait_pods("db-", 2, "2 StatefulSet pods")
        self.assertEqual(sorted(sts), ["db-0", "db-1"])
        self.assertEqual({r for r, _ in sts.values()}, {"0/1"})
        pod = self.env.get_json("pod", "-n", "pods", "db-1")
        self.assertEqual(pod["metadata"]["ownerReferences"][0]["kind"], "StatefulSet")
        self.assertEqual(pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"], "db-1")
        self.assertEqual(pod["status"]["phase"], "Pending")  # postgres is not run, and says so
        ds = self.wait_pods("agent-", 1, "1 DaemonSet pod")
        self.assertRegex(list(ds)[0], r"^agent-[a-z0-9]{5}$")

        self.env.kubectl("patch", "statefulset", "-n", "pods", "db", "--type=merge", "-p",
                        '{"spec": {"replicas": 1}}')  # no /scale subresource here yet
        self.assertEqual(sorted(self.wait_pods("db-", 1, "StatefulSet scaled to 1")), ["db-0"])
        self.env.kubectl("delete", "daemonset", "-n", "pods", "agent")
        self.wait_pods("agent-", 0, "DaemonSet pods gone")

    def test_deployment_scales_and_replaces_pods_on_template_change(self):
        self.env.kubectl("apply", "-f", "-", input=DEPLOYMENT)
        first = self.wait_pods("web-", 3, "3 Deployment pods")
        hashes = {n.rsplit("-", 2)[1] for n in first}
        self.assertEqual(len(hashes), 1)
        self.env.kubectl("patch", "deployment", "-n", "pods", "web", "--type=merge", "-p",
                        '{"spec": {"replicas": 2}}')
        scaled = self.wait_pods("web-", 2, "scaled to 2")
        self.assertLessEqual(set(scaled), set(first), "scaling down must keep pods")
        # A label patch changes nothing of the template: same pods.
        self.env.kubectl("label", "deployment", "-n", "pods", "web", "tier=front")
        self.assertEqual(set(self.pods("web-")), set(scaled))
        # An image change is a new template: new pods under a new hash.
        self.env.kubectl("set", "image", "deployment/web", "-n", "pods", "web=nginx:1.28")
        replaced = self.env.wait_for("pods replaced", lambda: (lambda p: p if len(p) == 2 and not
                                                                set(p) & set(scaled) else None)(
            self.pods("web-")), timeout=30)
        self.assertNotEqual({n.rsplit("-", 2)[1] for n in replaced}, hashes)
        self.env.kubectl("delete", "deployment", "-n", "pods", "web")
        self.wait_pods("web-", 0, "Deployment pods gone")


if __name__ == "__main__":
    unittest.main()
