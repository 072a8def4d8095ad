"""Every manifest in deploy/ applies to `stash server --no-operator` with the real
kubectl: the kustomization (`apply -k`), then aggregated-api.yaml and
validating-webhook.yaml (`apply -f`), as a user installs cluster mode.

- The ValidatingWebhookConfiguration is stored (`kubectl get` prints it as on a
  cluster) but this server calls no admission webhook: every create and update
  of one answers with a warning that says so, which kubectl prints.
- The APIService is registered and, with no operator pod running, `kubectl get
  apiservice` shows AVAILABLE False (MissingEndpoints); the endpoints controller
  has made the Service's Endpoints (none ready).
- `kubectl delete -f` removes them again.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import wait_for  # noqa: E402
from test_api_server import ApiServer  # noqa: E402
from test_deploy_operator import DEPLOY  # noqa: E402

NOT_CALLED = ('Warning: ValidatingWebhookConfiguration "admission.stash.appscode.com" is stored '
              'but not called: stash server calls no admission webhooks (it runs Stash\'s own '
              'validations in-process)')


class DeployManifests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_every_manifest_applies(self):
        kubectl = self.server.kubectl
        r = kubectl("apply", "-k", DEPLOY)
        self.assertEqual(r.returncode, 0, r.stderr)
        files = [os.path.join(DEPLOY, f) for f in ("aggregated-api.yaml", "validating-webhook.yaml")]
        args = [a for f in files for a in ("-f", f)]
        r = kubectl("apply", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("validatingwebhookconfiguration.admissionregistration.k8s.io/"
                      "admission.stash.appscode.com created", r.stdout)
        self.assertIn("apiservice.apiregistration.k8s.io/v1alpha1.repositories.stash.appscode.com"
                      " created", r.stdout)
        self.assertIn(NOT_CALLED, r.stderr)

        r = kubectl("get", "validatingwebhookconfigurations")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^NAME\s+WEBHOOKS\s+AGE\n")
        self.assertRegex(r.stdout, r"admission\.stash\.appscode\.com\s+4\s")
        config = json.loads(kubectl("get", "validatingwebhookconfiguration",
                                    "admission.stash.appscode.com", "-o", "json").stdout)
        self.assertEqual(config["webhooks"][0]["clientConfig"]["service"]["name"],
                         "stash-operator")

        # An update (the operator writes caBundles this way) warns again.
        r = kubectl("patch", "validatingwebhookconfiguration", "admission.stash.appscode.com",
                    "--type=json", "-p", json.dumps([{
                        "op": "add", "path": "/webhooks/0/clientConfig/caBundle",
                        "value": "Y2E="}]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(NOT_CALLED, r.stderr)
        # Applying everything again changes nothing and fails nothing.
        r = kubectl("apply", *args)
        self.assertEqual(r.returncode, 0, r.stderr)

        # No operator pod: the Service's Endpoints exist with no address, and
        # the APIService says why it is not available.
        def available():
            r = kubectl("get", "apiservice", "v1alpha1.repositories.stash.appscode.com",
                        "--no-headers")
            return r.stdout.split()[2:4] == ["False", "(MissingEndpoints)"] and r.stdout
        wait_for("AVAILABLE False (MissingEndpoints)", available)
        r = kubectl("get", "svc", "-n", "stash", "-o", "wide")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE"
                         r"\s+SELECTOR\n")
        self.assertRegex(r.stdout, r"stash-operator\s+ClusterIP\s+\S+\s+<none>\s+443/TCP,8444/TCP\s+"
                         r"\S+\s+app.kubernetes.io/component=operator,app.kubernetes.io/name=stash\n")
        r = kubectl("get", "endpoints", "-n", "stash", "stash-operator", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("addresses", json.dumps(json.loads(r.stdout).get("subsets", [])))

        r = kubectl("delete", "--ignore-not-found", *args)  # one Service in both files
        self.assertEqual(r.returncode, 0, r.stderr)
        r = kubectl("get", "validatingwebhookconfigurations", "-o", "name")
        self.assertEqual(r.stdout.strip(), "")
        wait_for("the Service's Endpoints gone", lambda: kubectl(
            "get", "endpoints", "-n", "stash", "stash-operator").returncode != 0)


if __name__ == "__main__":
    unittest.main()
