"""`stash server`: start-up, credentials, kubeconfig and authentication.

Also the shared ApiServer helper the other test_api_* files use: it starts the
real binary on 127.0.0.1 with a free port and a temporary data directory, and
runs the real kubectl against it with a fresh cache directory.
"""
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH  # noqa: E402

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


class ApiServer:
    """One `stash server` process; restartable on the same data directory."""

    def __init__(self, data_dir=None, extra_args=(), preexec_fn=None, operator=False):
        self.extra_args = list(extra_args)
        self.operator = operator  # also run the operator and the embedded node
        self.preexec_fn = preexec_fn  # runs in the server's process before exec (limits)
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="stash-api-")
        self.proc = None
        self.url = None
        self.port = None
        self.stderr_lines = []
        self.cache_dir = None
        self.home = tempfile.mkdtemp(prefix="stash-kubehome-")

    def start(self, timeout=60):
        self.stderr_lines = []
        self.proc = subprocess.Popen(
            [STASH, "server", "--operator" if self.operator else "--no-operator",
             "--data-dir", self.data_dir,
             "--listen", "127.0.0.1:0", *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=self.preexec_fn)
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("stash server exited: " + "".join(self.stderr_lines))
            self.stderr_lines.append(line)
            if "serving the Kubernetes API on " in line:
                self.url = line.strip().rsplit(" ", 1)[-1]
                self.port = int(self.url.rsplit(":", 1)[-1])
            if line.startswith("export KUBECONFIG="):
                break
        threading.Thread(target=self._drain, daemon=True).start()
        # A fresh kubectl cache per server instance (discovery is cached by host:port).
        self.cache_dir = tempfile.mkdtemp(prefix="stash-kubecache-")
        return self

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    @property
    def kubeconfig(self):
        return os.path.join(self.data_dir, "kubeconfig")

    @property
    def token(self):
        with open(os.path.join(self.data_dir, "token")) as f:
            return f.read().strip()

    def env(self):
        env = dict(os.environ)
        env.update({"KUBECONFIG": self.kubeconfig, "KUBECACHEDIR": self.cache_dir,
                    "HOME": self.home})
        return env

    def kubectl(self, *args, input=None, timeout=60, cwd=None):
        return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=self.env(),
                              input=input, timeout=timeout, cwd=cwd)

    def kubectl_bg(self, *args):
        return subprocess.Popen([KUBECTL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self.env())

    def ssl_context(self):
        return ssl.create_default_context(cafile=os.path.join(self.data_dir, "ca.crt"))

    def request(self, method, path, body=None, content_type="application/json", token=True,
                accept="application/json", timeout=30):
        """Returns (status, parsed JSON or text, headers)."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl_context(),
                                           timeout=timeout)
        headers = {"Accept": accept}
        if token is True:
            headers["Authorization"] = "Bearer " + self.token
        elif token:
            headers["Authorization"] = "Bearer " + token
        if body is not None:
            headers["Content-Type"] = content_type
            if not isinstance(body, (str, bytes)):
                body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read().decode()
        conn.close()
        try:
            data = json.loads(data)
        except ValueError:
            pass
        return resp.status, data, dict(resp.getheaders())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)
        if self.cache_dir:
            shutil.rmtree(self.cache_dir, ignore_errors=True)


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_kubeconfig_is_private_and_works(self):
        mode = os.stat(self.server.kubeconfig).st_mode & 0o777
        self.assertEqual(mode, 0o600)
        with open(self.server.kubeconfig) as f:
            text = f.read()
        self.assertIn("server: " + self.server.url, text)
        self.assertIn("certificate-authority-data:", text)
        r = self.server.kubectl("get", "ns", "default", "-o", "name")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "namespace/default")

    def test_startup_prints_export_hint(self):
        hint = [l for l in self.server.stderr_lines if l.startswith("export KUBECONFIG=")]
        self.assertEqual(hint, ["export KUBECONFIG=" + self.server.kubeconfig + "\n"])

    def test_missing_or_wrong_token_is_401(self):
        for token in (None, "not-the-token"):
            status, body, _ = self.server.request("GET", "/api/v1/namespaces", token=token)
            self.assertEqual(status, 401)
            self.assertEqual(body["reason"], "Unauthorized")

    def test_kubectl_with_wrong_token_says_unauthorized(self):
        bad = os.path.join(self.server.home, "bad-kubeconfig")
        with open(self.server.kubeconfig) as f:
            text = f.read().replace(self.server.token, "wrong-token")
        with open(bad, "w") as f:
            f.write(text)
        env = self.server.env()
        env["KUBECONFIG"] = bad
        r = subprocess.run([KUBECTL, "get", "ns"], capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("error: You must be logged in to the server (Unauthorized)", r.stderr)

    def test_project_crds_are_installed(self):
        r = self.server.kubectl("get", "crd", "-o", "name")
        self.assertEqual(r.returncode, 0, r.stderr)
        names = set(r.stdout.split())
        for plural in ("backupconfigurations", "backupsessions", "repositories",
                       "restoresessions"):
            self.assertIn(f"customresourcedefinition.apiextensions.k8s.io/{plural}.stash.appscode.com",
                          names)

    def test_discovery_honours_the_requested_format(self):
        agg = "application/json;g=apidiscovery.k8s.io;v={};as=APIGroupDiscoveryList"
        for version in ("v2", "v2beta1"):
            status, body, headers = self.server.request(
                "GET", "/apis", accept=agg.format(version) + ",application/json")
            self.assertEqual(status, 200)
            self.assertEqual(headers["Content-Type"], agg.format(version))
            stash = [g for g in body["items"] if g["metadata"]["name"] == "stash.appscode.com"][0]
            self.assertEqual([v["version"] for v in stash["versions"]], ["v1beta1", "v1alpha1"])
            bc = [r for r in stash["versions"][0]["resources"]
                  if r["resource"] == "backupconfigurations"][0]
            self.assertEqual((bc["scope"], bc["shortNames"], bc["responseKind"]["kind"]),
                             ("Namespaced", ["bc"], "BackupConfiguration"))
        status, body, headers = self.server.request("GET", "/apis")
        self.assertEqual((status, body["kind"]), (200, "APIGroupList"))
        stash = [g for g in body["groups"] if g["name"] == "stash.appscode.com"][0]
        self.assertEqual(stash["preferredVersion"]["version"], "v1beta1")
        self.assertEqual(self.server.request("GET", "/api")[1]["versions"], ["v1"])
        status, body, _ = self.server.request("GET", "/apis/stash.appscode.com/v1beta1")
        names = {r["name"]: r["namespaced"] for r in body["resources"]}
        self.assertEqual(names["backupconfigurations"], True)
        self.assertIn("backupconfigurations/status", names)

    def test_openapi_v3_lists_patch_with_field_validation(self):
        status, root, _ = self.server.request("GET", "/openapi/v3")
        self.assertEqual(status, 200)
        url = root["paths"]["apis/stash.appscode.com/v1beta1"]["serverRelativeURL"]
        status, doc, _ = self.server.request("GET", url)
        op = doc["paths"]["/apis/stash.appscode.com/v1beta1/namespaces/{namespace}/"
                          "backupconfigurations/{name}"]["patch"]
        self.assertEqual(op["x-kubernetes-group-version-kind"]["kind"], "BackupConfiguration")
        self.assertIn("fieldValidation", [p["name"] for p in op["parameters"]])
        schema = doc["components"]["schemas"]["com.appscode.stash.v1beta1.BackupConfiguration"]
        self.assertEqual(schema["properties"]["spec"]["properties"]["schedule"]["type"], "string")

    def test_sigterm_stops_cleanly(self):
        # Within a second, with a watch open (with the operator:
        # test_operator_crash).
        other = ApiServer().start()
        try:
            self.assertEqual(other.kubectl("get", "ns").returncode, 0)
            watch = other.kubectl_bg("get", "ns", "-w")
            self.assertIn("NAME", watch.stdout.readline())
            self.assertIn("default", watch.stdout.readline())  # the watch is open
            start = time.monotonic()
            other.proc.send_signal(signal.SIGTERM)
            self.assertEqual(other.proc.wait(15), 0)
            self.assertLessEqual(time.monotonic() - start, 1.0)
            watch.kill()
            watch.wait()
        finally:
            other.cleanup()


if __name__ == "__main__":
    unittest.main()
