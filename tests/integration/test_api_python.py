"""The guide's flow through python3-kubernetes (Debian's client) as a second
client: CoreV1Api and CustomObjectsApi calls, field selectors and a watch."""
import os
import sys

if __name__ == "__main__" and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    # python3-kubernetes is a Debian package: it lives in the system python.
    os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])

import threading  # noqa: E402
import unittest  # noqa: E402

import yaml  # noqa: E402
from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api_server import ApiServer  # noqa: E402

SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "seed")
G, V, P = "stash.appscode.com", "v1beta1", "backupconfigurations"


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        cls.api_client = config.new_client_from_config(config_file=cls.server.kubeconfig)
        cls.core = client.CoreV1Api(cls.api_client)
        cls.custom = client.CustomObjectsApi(cls.api_client)

    @classmethod
    def tearDownClass(cls):
        cls.api_client.close()
        cls.server.cleanup()

    def test_guide_flow(self):
        self.core.create_namespace({"metadata": {"name": "demo"}})
        secret = self.core.create_namespaced_secret(
            "demo", {"metadata": {"name": "gcs-secret"}, "stringData": {"RESTIC_PASSWORD": "changeit"}})
        self.assertEqual(secret.data, {"RESTIC_PASSWORD": "Y2hhbmdlaXQ="})
        self.assertEqual(secret.type, "Opaque")

        with open(f"{SEED}/backupconfiguration.yaml") as f:
            manifest = yaml.safe_load(f)
        created = self.custom.create_namespaced_custom_object(G, V, "demo", P, manifest)
        self.assertEqual(created["metadata"]["generation"], 1)
        got = self.custom.get_namespaced_custom_object(G, V, "demo", P, "pause-backup")
        self.assertEqual(got["spec"]["schedule"], "*/5 * * * *")
        rv = self.custom.list_namespaced_custom_object(G, V, "demo", P)["metadata"]["resourceVersion"]

        events = []

        def watcher():
            w = watch.Watch()
            for e in w.stream(self.custom.list_namespaced_custom_object, G, V, "demo", P,
                              resource_version=rv, timeout_seconds=10):
                events.append((e["type"], e["object"]["spec"].get("paused")))
                if e["type"] == "MODIFIED":
                    w.stop()

        # The watch starts from `rv`, so it sees the patch whenever it connects.
        t = threading.Thread(target=watcher)
        t.start()
        patched = self.custom.patch_namespaced_custom_object(G, V, "demo", P, "pause-backup",
                                                             {"spec": {"paused": True}})
        self.assertTrue(patched["spec"]["paused"])
        self.assertEqual(patched["metadata"]["generation"], 2)
        t.join(15)
        self.assertEqual(events, [("MODIFIED", True)])

        listed = self.custom.list_namespaced_custom_object(G, V, "demo", P,
                                                           label_selector="missing=label")
        self.assertEqual(listed["items"], [])

        for name, obj in (("pause-backup.1", "pause-backup"), ("other.1", "other")):
            self.core.create_namespaced_event("demo", {
                "metadata": {"name": name},
                "involvedObject": {"kind": "BackupConfiguration", "name": obj, "namespace": "demo"},
                "reason": "Backup Skipped", "message": "paused", "type": "Normal"})
        evs = self.core.list_namespaced_event(
            "demo", field_selector="involvedObject.kind=BackupConfiguration,"
                                   "involvedObject.name=pause-backup")
        self.assertEqual([e.metadata.name for e in evs.items], ["pause-backup.1"])
        self.assertEqual(evs.items[0].count, 1)
        self.assertIsNotNone(evs.items[0].first_timestamp)

        self.custom.delete_namespaced_custom_object(G, V, "demo", P, "pause-backup")
        with self.assertRaises(ApiException) as ctx:
            self.custom.get_namespaced_custom_object(G, V, "demo", P, "pause-backup")
        self.assertEqual(ctx.exception.status, 404)

    def test_strategic_merge_patch_on_a_deployment(self):
        self.core.create_namespace({"metadata": {"name": "apps"}})
        with open(f"{SEED}/deployment.yaml") as f:
            deploy = list(yaml.safe_load_all(f))[1]
        deploy["metadata"]["namespace"] = "apps"
        apps = client.AppsV1Api(self.api_client)
        apps.create_namespaced_deployment("apps", deploy)
        patched = apps.patch_namespaced_deployment("stash-demo", "apps", {"spec": {"template": {"spec": {
            "containers": [{"name": "stash", "image": "stash:latest"}]}}}})
        names = [c.name for c in patched.spec.template.spec.containers]
        self.assertEqual(sorted(names), ["busybox", "stash"])  # merged by name, not replaced
        self.assertEqual(patched.metadata.generation, 2)


if __name__ == "__main__":
    unittest.main()
