"""With the operator and the embedded node: the Node object as `kubectl get
nodes` shows it on a cluster, and `kubectl delete bc` taking the
BackupSessions its trigger created along (the operator's finalizer first, then
the garbage collector).
"""
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv, seed  # noqa: E402


class NodeAndCollectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv().start()

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def test_get_nodes(self):
        env = self.env

        def row():
            r = env.kubectl("get", "nodes", check=False)
            lines = r.stdout.splitlines()
            return lines if len(lines) == 2 and " Ready " in lines[1] else None
        lines = env.wait_for("the node Ready", row, timeout=30)
        self.assertRegex(lines[0], r"^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$")
        self.assertRegex(lines[1],
                         r"^stash-embedded-node\s+Ready\s+control-plane\s+\d+s\s+v1\.32\.4$")
        wide = env.kubectl("get", "nodes", "-o", "wide").stdout.splitlines()
        self.assertRegex(wide[0], r"INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+"
                                  r"CONTAINER-RUNTIME$")
        self.assertIn(" 127.0.0.1 ", wide[1])
        self.assertIn(os.uname().release, wide[1])
        node = env.get_json("node", "stash-embedded-node")
        conds = {c["type"]: c for c in node["status"]["conditions"]}
        self.assertEqual(conds["Ready"]["reason"], "KubeletReady")
        self.assertEqual(node["metadata"]["labels"]["kubernetes.io/hostname"],
                         "stash-embedded-node")
        described = env.kubectl("describe", "node", "stash-embedded-node").stdout
        self.assertRegex(described, r"Roles:\s+control-plane")
        self.assertIn("kubelet is posting ready status", described)

    def test_delete_backupconfiguration_removes_its_sessions(self):
        env = self.env
        env.create_namespace_and_secret()
        env.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        env.kubectl("apply", "-f", "-", input=env.local_repository())
        env.kubectl("apply", "-f", "-", input=seed("backupconfiguration.yaml").replace(
            '"*/5 * * * *"', '"*/3 * * * * *"'))

        def sessions():
            got = env.get_json("backupsession", "-n", "demo")
            items = got["items"] if got else []
            owned = [s for s in items if any(o.get("kind") == "BackupConfiguration" for o in
                                             s["metadata"].get("ownerReferences", []))]
            return owned if len(owned) >= 2 else None
        env.wait_for("two scheduled sessions", sessions, timeout=60)
        start = time.time()
        r = env.kubectl("delete", "bc", "-n", "demo", "pause-backup")
        self.assertEqual(r.stdout,
                         'backupconfiguration.stash.appscode.com "pause-backup" deleted\n')
        env.wait_for("sessions collected",
                     lambda: (env.get_json("backupsession", "-n", "demo") or {}).get("items")
                     == [], timeout=10)
        self.assertLess(time.time() - start, 10)
        self.assertIsNone(env.get_json("cronjob", "-n", "demo", "stash-trigger-pause-backup"))


if __name__ == "__main__":
    unittest.main()
