"""Bad input gets Kubernetes' error shape and the message kubectl users know."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api_server import ApiServer  # noqa: E402

SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "seed")
BC_PATH = "/apis/stash.appscode.com/v1beta1/namespaces/demo/backupconfigurations"


class ErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        cls.work = tempfile.mkdtemp(prefix="stash-errors-")
        with open(f"{SEED}/backupconfiguration.yaml") as f:
            cls.manifest = f.read()
        r = cls.server.kubectl("create", "ns", "demo")
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def apply_variant(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return self.server.kubectl("apply", "-f", path)

    def test_malformed_yaml(self):
        r = self.apply_variant("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: [\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("error converting YAML to JSON: yaml: line 5: mapping values are not allowed",
                      r.stderr)

    def test_malformed_json_body(self):
        status, body, _ = self.server.request("POST", BC_PATH, '{"apiVersion": ')
        self.assertEqual(status, 400)
        self.assertEqual((body["kind"], body["status"], body["reason"], body["code"]),
                         ("Status", "Failure", "BadRequest", 400))
        self.assertIn("json parse error", body["message"])

    def test_unknown_field_under_strict_validation(self):
        r = self.apply_variant("unknown.yaml", self.manifest.replace(
            "  schedule:", "  foo: bar\n  schedule:"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'Error from server (BadRequest): error when creating "'
                         + os.path.join(self.work, "unknown.yaml")
                         + '": strict decoding error: unknown field "spec.foo"\n')

    def test_wrong_type(self):
        r = self.apply_variant("type.yaml", self.manifest.replace('"*/5 * * * *"', "5"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'The BackupConfiguration "pause-backup" is invalid: spec.schedule: '
                         'Invalid value: "integer": spec.schedule in body must be of type string: '
                         '"integer"\n')

    def test_missing_required_field(self):
        r = self.apply_variant("req.yaml", self.manifest.replace("    name: 'keep-last-5'\n", ""))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'The BackupConfiguration "pause-backup" is invalid: '
                         "spec.retentionPolicy.name: Required value\n")
        status, body, _ = self.server.request("POST", BC_PATH, {
            "apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
            "metadata": {"name": "x"}, "spec": {"retentionPolicy": {"keepLast": 1}}})
        self.assertEqual(status, 422)
        self.assertEqual(body["reason"], "Invalid")
        self.assertEqual(body["details"]["causes"][0]["field"], "spec.retentionPolicy.name")
        self.assertEqual(body["details"]["causes"][0]["reason"], "FieldValueRequired")

    def test_stale_resource_version(self):
        name = "stale"
        r = self.apply_variant("stale.yaml", self.manifest.replace("pause-backup", name))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.kubectl("get", "bc", "-n", "demo", name, "-o", "json")
        old = os.path.join(self.work, "old.json")
        with open(old, "w") as f:
            f.write(r.stdout)
        r = self.server.kubectl("patch", "bc", "-n", "demo", name, "--type=merge", "-p",
                                '{"spec":{"paused":true}}')
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.kubectl("replace", "-f", old)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'Error from server (Conflict): error when replacing "' + old + '": '
                         'Operation cannot be fulfilled on backupconfigurations.stash.appscode.com '
                         f'"{name}": the object has been modified; please apply your changes to the '
                         'latest version and try again\n')

    def test_unknown_kind(self):
        r = self.apply_variant("kind.yaml", self.manifest.replace("kind: BackupConfiguration",
                                                                  "kind: BackupConfig"))
        self.assertEqual(r.returncode, 1)
        self.assertIn('no matches for kind "BackupConfig" in version "stash.appscode.com/v1beta1"',
                      r.stderr)
        r = self.server.kubectl("get", "backupconfig", "-n", "demo")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'error: the server doesn\'t have a resource type "backupconfig"\n')

    def test_namespace_that_does_not_exist(self):
        r = self.apply_variant("ns.yaml", self.manifest.replace("namespace: demo", "namespace: nope"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'Error from server (NotFound): error when creating "'
                         + os.path.join(self.work, "ns.yaml") + '": namespaces "nope" not found\n')
        r = self.server.kubectl("get", "bc", "-n", "nope", "x")
        self.assertEqual(r.stderr, 'Error from server (NotFound): namespaces "nope" not found\n')

    def test_missing_object(self):
        r = self.server.kubectl("get", "bc", "-n", "demo", "nope")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'Error from server (NotFound): backupconfigurations.stash.appscode.com'
                         ' "nope" not found\n')

    def test_already_exists(self):
        r = self.server.kubectl("create", "ns", "demo")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'Error from server (AlreadyExists): namespaces "demo" already exists\n')

    def test_strategic_merge_patch_on_custom_resource(self):
        name = "smp"
        self.assertEqual(self.apply_variant("smp.yaml", self.manifest.replace("pause-backup", name))
                         .returncode, 0)
        r = self.server.kubectl("patch", "bc", "-n", "demo", name, "-p", '{"spec":{"paused":true}}')
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "error: application/strategic-merge-patch+json is not supported by "
                         "stash.appscode.com/v1beta1, Kind=BackupConfiguration: the body of the request "
                         "was in an unknown format - accepted media types include: "
                         "application/json-patch+json, application/merge-patch+json, "
                         "application/apply-patch+yaml\n")

    def test_missing_token(self):
        status, body, _ = self.server.request("GET", BC_PATH, token=None)
        self.assertEqual(status, 401)
        self.assertEqual(body["message"], "Unauthorized")

    def test_watch_with_malformed_resource_version(self):
        status, body, _ = self.server.request("GET", BC_PATH + "?watch=true&resourceVersion=abc")
        self.assertEqual(status, 400)
        self.assertEqual(body["reason"], "BadRequest")


if __name__ == "__main__":
    unittest.main()
