"""Snapshot objects in cluster mode: `stash operator --snapshot-api-listen` serves
`repositories.stash.appscode.com/v1alpha1` as an aggregated (extension) API server,
installed with `kubectl apply -k deploy/` + `deploy/aggregated-api.yaml` on
`stash server --no-operator` (RBAC enforced), the operator running with in-cluster
configuration from its ServiceAccount alone.

- The operator runs here as a process, so the test plays the node for its pod
  (labels of the Service's selector, containerPort `snapshot-api`, then
  podIP 127.0.0.1 and Ready as a kubelet reports them); the server's endpoints
  controller makes the Service's Endpoints from it, and the APIService's
  Available condition goes from False (MissingEndpoints) to True (Passed), as
  `kubectl get apiservice` shows.
- Through the aggregator: the embedded server proxies the APIService's group to
  the Service's endpoint, verifying the operator against the caBundle the
  operator wrote; the real kubectl lists (table, label selectors), gets
  (-o yaml) and deletes snapshots, and `kubectl explain` reads the operator's
  OpenAPI document through the aggregator's /openapi/v3. The Repository's hostPath is an empty
  directory and its mountPath the repository: only the operator (which reads
  mountPath, as in its pod) sees the snapshots, so a listing proves the proxy.
- Directly, as kube-apiserver's aggregator calls it: its front-proxy client
  certificate (from the server's data directory) with X-Remote-User/-Group, or a
  bearer token (TokenReview); every decision is the API server's
  (SubjectAccessReview on the shipped RBAC): 403 with kube's message, 401
  without a certificate or token, and the headers alone name nobody.
- The operator gone: 503 through the aggregator, and the APIService turns
  False (FailedDiscoveryCheck).
"""
import base64
import http.client
import json
import os
import shutil
import socket
import ssl
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import enginelib  # noqa: E402
from helpers import wait_for  # noqa: E402
from test_api_server import ApiServer, KUBECTL  # noqa: E402
from test_deploy_operator import DEPLOY, Operator  # noqa: E402

GROUP = "repositories.stash.appscode.com"
SNAPSHOTS = "/apis/%s/v1alpha1/namespaces/demo/snapshots" % GROUP


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AggregatedSnapshotApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-aggr-")
        cls.server = ApiServer().start()
        cls.operator = None
        for args in (("apply", "-k", DEPLOY),
                     ("apply", "-f", os.path.join(DEPLOY, "aggregated-api.yaml"))):
            r = cls.server.kubectl(*args)
            assert r.returncode == 0, r.stderr
        sa_dir = os.path.join(cls.tmp, "sa")
        os.makedirs(sa_dir)
        r = cls.server.kubectl("create", "token", "stash-operator", "-n", "stash",
                               "--duration=2h")
        assert r.returncode == 0, r.stderr
        with open(os.path.join(sa_dir, "token"), "w") as f:
            f.write(r.stdout.strip())
        shutil.copy(os.path.join(cls.server.data_dir, "ca.crt"), os.path.join(sa_dir, "ca.crt"))
        with open(os.path.join(sa_dir, "namespace"), "w") as f:
            f.write("stash")
        cls.port = free_port()
        cls.operator = Operator(cls.server, sa_dir, [
            "--snapshot-api-listen", "127.0.0.1:%d" % cls.port,
            "--webhook-cert-dir", os.path.join(cls.tmp, "certs"),
            "--webhook-service", "stash-operator.stash.svc",
            "--webhook-cert-secret", "stash/stash-operator-webhook-cert"])
        wait_for("the operator's Snapshot API",
                 lambda: "Snapshot API (aggregated) on" in cls.operator.text() or
                 cls.operator.proc.poll() is not None)
        assert cls.operator.proc.poll() is None, cls.operator.text()
        secret = json.loads(cls.server.kubectl("get", "secret", "-n", "stash",
                                               "stash-operator-webhook-cert", "-o",
                                               "json").stdout)
        cls.ca = base64.b64decode(secret["data"]["ca.crt"]).decode()
        cls.ca_file = os.path.join(cls.tmp, "operator-ca.crt")
        with open(cls.ca_file, "w") as f:
            f.write(cls.ca)

        cls.make_operator_pod_ready()

        # A Repository the operator reaches at its mountPath (as in its pod);
        # at its hostPath (what the embedded server would read) nothing.
        cls.repo = os.path.join(cls.tmp, "repo")
        os.makedirs(os.path.join(cls.tmp, "empty"))
        for args in (("create", "ns", "demo"),
                     ("create", "secret", "generic", "-n", "demo", "repo-secret",
                      "--from-literal=RESTIC_PASSWORD=" + enginelib.PASSWORD),
                     ("create", "sa", "nobody", "-n", "demo")):
            r = cls.server.kubectl(*args)
            assert r.returncode == 0, r.stderr
        r = cls.server.kubectl("apply", "-f", "-", input=(
            "apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
            "  name: local-repo\n  namespace: demo\nspec:\n  backend:\n    local:\n"
            "      mountPath: %s\n      hostPath:\n        path: %s\n"
            "    storageSecretName: repo-secret\n" % (cls.repo, os.path.join(cls.tmp, "empty"))))
        assert r.returncode == 0, r.stderr
        enginelib.stash(cls.repo, "init")
        for host, text in (("host-0", "one"), ("host-0", "two"), ("host-1", "three")):
            src = os.path.join(cls.tmp, "src-" + host)
            os.makedirs(src, exist_ok=True)
            with open(os.path.join(src, "data.txt"), "w") as f:
                f.write(text + "\n")
            enginelib.stash(cls.repo, "backup", "--host", host, "--tag", "t-" + text, src)
        cls.snapshots = json.loads(enginelib.stash(cls.repo, "snapshots", "--json").stdout)

    @classmethod
    def apiservice_available(cls):
        """The AVAILABLE column of `kubectl get apiservice` for the Snapshot API."""
        r = cls.server.kubectl("get", "apiservice", "v1alpha1." + GROUP, "--no-headers")
        assert r.returncode == 0, r.stderr
        cols = r.stdout.split(None, 2)
        return cols[2].rsplit(None, 1)[0] if len(cols) > 2 else ""

    @classmethod
    def make_operator_pod_ready(cls):
        """Plays the node for the operator's pod: created (no IP yet), then the
        IP and Ready as a kubelet reports them. Records what the server shows
        before it is Ready (test_0 checks it)."""
        # The Service reaches the operator's port by name, as the pod declares it.
        r = cls.server.kubectl("patch", "svc", "stash-operator", "-n", "stash", "--type=json",
                               "-p", json.dumps([{"op": "replace", "path": "/spec/ports/1/targetPort",
                                                  "value": "snapshot-api"}]))
        assert r.returncode == 0, r.stderr
        labels = json.loads(cls.server.kubectl(
            "get", "svc", "stash-operator", "-n", "stash", "-o", "json").stdout)["spec"]["selector"]
        r = cls.server.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "stash-operator-local", "namespace": "stash", "labels": labels},
            "spec": {"nodeName": "local-node", "containers": [{
                "name": "operator", "image": "stash",
                "ports": [{"name": "snapshot-api", "containerPort": cls.port}]}]}}))
        assert r.returncode == 0, r.stderr
        wait_for("the APIService unavailable for lack of endpoints",
                 lambda: cls.apiservice_available() == "False (MissingEndpoints)")
        cls.before_ready = {
            "available": cls.apiservice_available(),
            "apiservice": json.loads(cls.server.kubectl(
                "get", "apiservice", "v1alpha1." + GROUP, "-o", "json").stdout),
            "get": cls.server.kubectl("get", "snapshots", "-n", "demo"),
        }
        r = cls.server.kubectl("patch", "pod", "stash-operator-local", "-n", "stash",
                               "--subresource=status", "--type=merge", "-p", json.dumps({
                                   "status": {"phase": "Running", "podIP": "127.0.0.1",
                                              "podIPs": [{"ip": "127.0.0.1"}],
                                              "conditions": [{"type": "Ready",
                                                              "status": "True"}]}}))
        assert r.returncode == 0, r.stderr
        wait_for("the APIService available", lambda: cls.apiservice_available() == "True",
                 detail=lambda: cls.server.kubectl("get", "apiservice", "v1alpha1." + GROUP,
                                                   "-o", "yaml").stdout)

    @classmethod
    def tearDownClass(cls):
        if cls.operator:
            cls.operator.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def kubeconfig(self, token):
        """A kubeconfig for the operator's server as `token`'s user."""
        path = os.path.join(self.tmp, "kubeconfig-%d" % abs(hash(token)))
        user = {"token": token}
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config",
                       "clusters": [{"name": "op", "cluster": {
                           "server": "https://127.0.0.1:%d" % self.port,
                           "certificate-authority": self.ca_file}}],
                       "users": [{"name": "u", "user": user}],
                       "contexts": [{"name": "c", "context": {"cluster": "op", "user": "u"}}],
                       "current-context": "c"}, f)
        return path

    def kubectl_as(self, token, *args):
        import subprocess
        env = dict(os.environ, KUBECONFIG=self.kubeconfig(token),
                   KUBECACHEDIR=os.path.join(self.tmp, "cache"), HOME=self.tmp)
        return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env,
                              timeout=60)

    def token_of(self, sa):
        r = self.server.kubectl("create", "token", sa, "-n", "demo")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def forwarded(self, method, path, user=None, groups=(), cert=True):
        """A request as kube-apiserver's aggregator sends it: (status, body)."""
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if cert:
            d = self.server.data_dir
            ctx.load_cert_chain(os.path.join(d, "front-proxy-client.crt"),
                                os.path.join(d, "front-proxy-client.key"))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        conn.putrequest(method, path)
        if user:
            conn.putheader("X-Remote-User", user)
        for g in groups:
            conn.putheader("X-Remote-Group", g)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        try:
            return resp.status, json.loads(body)
        except ValueError:
            return resp.status, body

    def test_0_endpoints_and_availability_follow_the_operators_pod(self):
        before = self.before_ready
        self.assertEqual(before["available"], "False (MissingEndpoints)")
        cond = next(c for c in before["apiservice"]["status"]["conditions"]
                    if c["type"] == "Available")
        self.assertEqual(cond["message"], 'endpoints for service/stash-operator in "stash" have '
                         'no addresses with port name "snapshot-api"')
        self.assertNotEqual(before["get"].returncode, 0)
        self.assertIn('no endpoints available for service "stash-operator"', before["get"].stderr)

        # The endpoints controller's Endpoints: the Ready pod only (the
        # Deployment's pods have no node, so no IP), ports by number and name.
        r = self.server.kubectl("get", "endpoints", "-n", "stash", "stash-operator")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"stash-operator\s+127\.0\.0\.1:8443,127\.0\.0\.1:%d\s"
                         % self.port)
        ep = json.loads(self.server.kubectl("get", "endpoints", "-n", "stash", "stash-operator",
                                            "-o", "json").stdout)
        self.assertEqual(len(ep["subsets"]), 1, ep)
        self.assertEqual([(a["ip"], a["targetRef"]["name"]) for a in ep["subsets"][0]["addresses"]],
                         [("127.0.0.1", "stash-operator-local")])
        self.assertNotIn("notReadyAddresses", ep["subsets"][0])
        self.assertEqual(sorted((p["name"], p["port"]) for p in ep["subsets"][0]["ports"]),
                         sorted([("webhook", 8443), ("snapshot-api", self.port)]))
        self.assertEqual(ep["metadata"]["labels"]["app.kubernetes.io/component"], "operator")

        r = self.server.kubectl("get", "apiservice", "v1alpha1." + GROUP)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^NAME\s+SERVICE\s+AVAILABLE\s+AGE\n")
        self.assertRegex(r.stdout, r"v1alpha1\.%s\s+stash/stash-operator\s+True\s"
                         % GROUP.replace(".", r"\."))
        cond = next(c for c in json.loads(self.server.kubectl(
            "get", "apiservice", "v1alpha1." + GROUP, "-o", "json").stdout)["status"]["conditions"]
            if c["type"] == "Available")
        self.assertEqual((cond["reason"], cond["message"]), ("Passed", "all checks passed"))

    def test_1_apiservice_carries_the_operators_ca(self):
        def ca_bundle():
            r = self.server.kubectl("get", "apiservice", "v1alpha1." + GROUP, "-o", "json")
            if r.returncode != 0:
                return None
            return json.loads(r.stdout)["spec"].get("caBundle")
        wait_for("the APIService's caBundle", lambda: ca_bundle() is not None)
        self.assertEqual(base64.b64decode(ca_bundle()).decode(), self.ca)
        cm = json.loads(self.server.kubectl("get", "cm", "-n", "kube-system",
                                            "extension-apiserver-authentication", "-o",
                                            "json").stdout)
        self.assertIn("BEGIN CERTIFICATE", cm["data"]["requestheader-client-ca-file"])
        self.assertEqual(json.loads(cm["data"]["requestheader-allowed-names"]),
                         ["front-proxy-client"])

    def test_2_kubectl_through_the_aggregator_lists_gets_and_deletes(self):
        kubectl = self.server.kubectl
        r = kubectl("api-resources", "--api-group=" + GROUP, "-o", "wide")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"snapshots\s+%s/v1alpha1\s+true\s+Snapshot\s+delete,get,list"
                         % GROUP)
        r = kubectl("get", "snapshots", "-n", "demo")
        self.assertEqual(r.returncode, 0, r.stderr + self.operator.text()[-3000:])
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^NAME\s+ID\s+REPOSITORY\s+HOSTNAME\s+CREATED AT$")
        self.assertEqual(len(lines), 1 + len(self.snapshots), r.stdout)
        for s in self.snapshots:
            self.assertRegex(r.stdout, r"local-repo-%s\s+%s\s+local-repo\s+%s\s" % (
                s["short_id"], s["id"], s["hostname"]))
        r = kubectl("get", "snapshots", "-n", "demo", "-l",
                    "repository=local-repo,hostname=host-0", "-o", "name")
        self.assertEqual(r.returncode, 0, r.stderr)
        host0 = [s for s in self.snapshots if s["hostname"] == "host-0"]
        self.assertEqual(sorted(r.stdout.split()),
                         sorted("snapshot.%s/local-repo-%s" % (GROUP, s["short_id"])
                                for s in host0))

        one = next(s for s in self.snapshots if s["hostname"] == "host-1")
        name = "local-repo-" + one["short_id"]
        r = kubectl("get", "snapshot", "-n", "demo", name, "-o", "yaml")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("kind: Snapshot", r.stdout)
        self.assertIn("uid: " + one["id"], r.stdout)
        self.assertIn("hostname: host-1", r.stdout)
        self.assertIn("- t-three", r.stdout)
        self.assertIn("tree: " + one["tree"], r.stdout)
        self.assertIn(one["paths"][0], r.stdout)

        r = kubectl("delete", "snapshot", "-n", "demo", name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('snapshot.%s "%s" deleted' % (GROUP, name), r.stdout)
        left = json.loads(enginelib.stash(self.repo, "snapshots", "--json").stdout)
        self.assertEqual(sorted(s["id"] for s in left), sorted(s["id"] for s in host0))
        r = kubectl("get", "snapshot", "-n", "demo", name)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("NotFound", r.stderr)

    def test_2b_kubectl_with_a_token_straight_to_the_operator(self):
        r = self.kubectl_as(self.server.token, "get", "snapshots", "-n", "demo", "-o", "name")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.split())
        self.assertTrue(all(n.startswith("snapshot.%s/local-repo-" % GROUP)
                            for n in r.stdout.split()), r.stdout)

    def test_3_a_user_without_rbac_for_snapshots_is_forbidden(self):
        token = self.token_of("nobody")
        denied = ('Error from server (Forbidden): snapshots.%s is forbidden: User '
                  '"system:serviceaccount:demo:nobody" cannot list resource "snapshots" in '
                  'API group "%s" in the namespace "demo"' % (GROUP, GROUP))
        # Straight to the operator: its SubjectAccessReview says no.
        r = self.kubectl_as(token, "get", "snapshots", "-n", "demo")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(denied, r.stderr)
        # Through the aggregator, the API server's own RBAC says no first.
        r = self.server.kubectl("--token", token, "get", "snapshots", "-n", "demo")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(denied, r.stderr)

    def test_4_the_front_proxy_forwards_a_user_whose_rbac_decides(self):
        status, body = self.forwarded("GET", SNAPSHOTS, "alice", ["system:authenticated"])
        self.assertEqual(status, 403, body)
        self.assertEqual(body["message"],
                         'snapshots.%s is forbidden: User "alice" cannot list resource '
                         '"snapshots" in API group "%s" in the namespace "demo"' % (GROUP, GROUP))
        for args in (("create", "role", "snapshot-reader", "-n", "demo", "--verb=get,list",
                      "--resource=snapshots." + GROUP),
                     ("create", "rolebinding", "alice-reads", "-n", "demo",
                      "--role=snapshot-reader", "--user=alice")):
            r = self.server.kubectl(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
        status, body = self.forwarded("GET", SNAPSHOTS, "alice", ["system:authenticated"])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["kind"], "SnapshotList")
        self.assertTrue(body["items"])
        # Reading is not deleting.
        name = body["items"][0]["metadata"]["name"]
        status, body = self.forwarded("DELETE", SNAPSHOTS + "/" + name, "alice",
                                      ["system:authenticated"])
        self.assertEqual(status, 403, body)
        # The headers without the front proxy's certificate name nobody.
        status, body = self.forwarded("GET", SNAPSHOTS, "alice", cert=False)
        self.assertEqual(status, 401, body)

    def test_5_no_certificate_and_no_token_is_401(self):
        status, body = self.forwarded("GET", SNAPSHOTS, cert=False)
        self.assertEqual(status, 401, body)
        self.assertEqual(body["reason"], "Unauthorized")
        # (kubectl itself asks for a password when a kubeconfig has no credentials.)
        r = self.kubectl_as("not-a-token", "get", "snapshots", "-n", "demo")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("error: You must be logged in to the server (Unauthorized)", r.stderr)

    def test_6_kubectl_explain_reads_the_operators_openapi_through_the_aggregator(self):
        r = self.server.kubectl("explain", "snapshots")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"GROUP:\s+%s\n" % GROUP.replace(".", r"\."))
        self.assertRegex(r.stdout, r"KIND:\s+Snapshot\n")
        self.assertRegex(r.stdout, r"VERSION:\s+v1alpha1\n")
        self.assertIn("Snapshot is a snapshot of a restic repository", r.stdout)
        self.assertRegex(r.stdout, r"status\s+<Object>")
        r = self.server.kubectl("explain", "snapshot.status.hostname")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"FIELD:\s+hostname <string>")
        self.assertIn("host-<ordinal>", r.stdout)
        r = self.server.kubectl("explain", "snapshots.status.nothing")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('field "nothing" does not exist', r.stderr)

    def test_9_the_operator_gone_is_503_through_the_aggregator(self):
        self.operator.stop()
        r = self.server.kubectl("get", "snapshots", "-n", "demo")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ServiceUnavailable", r.stderr)
        self.assertIn("error trying to reach service", r.stderr)
        # The failed request has the APIService checked again at once.
        wait_for("the APIService unavailable", lambda: self.apiservice_available() ==
                 "False (FailedDiscoveryCheck)", timeout=20)
        cond = next(c for c in json.loads(self.server.kubectl(
            "get", "apiservice", "v1alpha1." + GROUP, "-o", "json").stdout)["status"]["conditions"]
            if c["type"] == "Available")
        self.assertTrue(cond["message"].startswith(
            "failing or missing response from https://127.0.0.1:%d/apis/%s/v1alpha1: "
            % (self.port, GROUP)), cond["message"])


if __name__ == "__main__":
    unittest.main()
