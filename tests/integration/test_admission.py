"""Stash's validating admission: `kubectl apply` of a bad BackupConfiguration,
Repository, BackupSession update or RestoreSession is refused with the reason,
by the embedded server in-process; `stash operator --webhook-listen` serves the
same checks as an AdmissionReview webhook for cluster mode. `kubectl explain`
tells what `paused` really does.
"""
import base64
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH  # noqa: E402
from test_api_server import ApiServer  # noqa: E402

SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "seed")
DENIED_BC = ('admission webhook "backupconfiguration.admission.stash.appscode.com" denied the '
             'request: ')


def seed(name):
    with open(os.path.join(SEED, name)) as f:
        return f.read()


def bc(schedule='"*/5 * * * *"', name="pause-backup", ns="adm"):
    return (seed("backupconfiguration.yaml").replace("namespace: demo", "namespace: " + ns)
            .replace("name: pause-backup", "name: " + name)
            .replace('"*/5 * * * *"', schedule))


class AdmissionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        cls.work = tempfile.mkdtemp(prefix="stash-admission-")
        r = cls.server.kubectl("create", "ns", "adm")
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def apply(self, text, name="obj.yaml", *extra):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return self.server.kubectl("apply", "-f", path, *extra), path

    def assertRefused(self, r, message):
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("Error from server (Forbidden)", r.stderr)
        self.assertIn(message, r.stderr)

    def test_invalid_schedules_are_refused_at_apply(self):
        for schedule, reason in (("61 * * * *", "minute: value 61 out of range 0-59"),
                                 ("not a cron", "expected 5 fields"),
                                 ("*/5 * * * * * *", "expected 5 fields"),
                                 ("0 25 * * *", "hour: value 25 out of range 0-23")):
            r, path = self.apply(bc('"%s"' % schedule, name="bad-cron"), "bad-cron.yaml")
            self.assertRefused(r, 'error when creating "%s": %sspec.schedule %s is invalid. '
                               'Reason: %s' % (path, DENIED_BC, schedule, reason))
        r = self.server.kubectl("get", "bc", "-n", "adm", "bad-cron")
        self.assertIn("NotFound", r.stderr)
        # Server-side dry run is judged the same way.
        r, _ = self.apply(bc('"61 * * * *"', name="dry"), "dry.yaml", "--dry-run=server")
        self.assertRefused(r, "spec.schedule 61 * * * * is invalid")

    def test_an_edit_to_an_invalid_schedule_is_refused_and_the_old_one_stays(self):
        r, _ = self.apply(bc(name="edited"), "edited.yaml")
        self.assertEqual(r.returncode, 0, r.stderr)
        r, _ = self.apply(bc('"@every 0s"', name="edited"), "edited.yaml")
        self.assertRefused(r, DENIED_BC + "spec.schedule @every 0s is invalid. Reason: ")
        r = self.server.kubectl("patch", "bc", "-n", "adm", "edited", "--type=merge", "-p",
                                '{"spec":{"schedule":"* * 32 * *"}}')
        self.assertRefused(r, "spec.schedule * * 32 * * is invalid. Reason: day-of-month")
        got = json.loads(self.server.kubectl("get", "bc", "-n", "adm", "edited", "-o",
                                             "json").stdout)
        self.assertEqual(got["spec"]["schedule"], "*/5 * * * *")
        # Changes that leave the spec alone pass (a controller finishing with it).
        r = self.server.kubectl("label", "bc", "-n", "adm", "edited", "team=a")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_retention_and_target_are_checked(self):
        text = bc(name="keep").replace("keepLast: 5", "keepLast: -1")
        r, _ = self.apply(text, "keep.yaml")
        self.assertRefused(r, "spec.retentionPolicy.keepLast -1 is invalid. Reason: must be a "
                              "number of snapshots, 0 or more")
        text = bc(name="pod-target").replace("kind: Deployment", "kind: Pod")
        r, _ = self.apply(text, "pod.yaml")
        self.assertRefused(r, "spec.target.ref.kind Pod is invalid. Reason: ")
        text = bc(name="rel").replace("    - /source/data", "    - source/data")
        r, _ = self.apply(text, "rel.yaml")
        self.assertRefused(r, "spec.target.paths[0] source/data is invalid. Reason: must be an "
                              "absolute path")
        text = bc(name="task").replace("  schedule:", "  task:\n    name: pvc-backup\n  schedule:")
        r, _ = self.apply(text, "task.yaml")
        self.assertRefused(r, "spec.task pvc-backup is invalid. Reason: Tasks (the job model) are "
                              "not supported")

    def repository(self, backend, name="repo", extra=""):
        return ("apiVersion: stash.appscode.com/v1alpha1\nkind: Repository\nmetadata:\n"
                "  name: %s\n  namespace: adm\nspec:\n%s  backend:\n%s"
                "    storageSecretName: s\n" % (name, extra, backend))

    def test_repository_backend_is_checked_with_stashs_messages(self):
        denied = ('admission webhook "repository.admission.stash.appscode.com" denied the '
                  'request: ')
        local = "    local:\n      mountPath: /safe/data\n      hostPath:\n        path: /srv/r\n"
        r, _ = self.apply(self.repository(local, "wipe", "  wipeOut: true\n"), "wipe.yaml")
        self.assertRefused(r, denied + "wipe out operation is not supported for local backend")
        r, _ = self.apply(self.repository(local.replace("/safe/data", "/stash/data"), "mnt"),
                          "mnt.yaml")
        self.assertRefused(r, denied + "Invalid `mountPath` specification for local backend.")
        two = local + "    gcs:\n      bucket: b\n"
        r, _ = self.apply(self.repository(two, "two"), "two.yaml")
        self.assertRefused(r, "must set exactly one of local, s3, gcs, azure, rest")
        r, _ = self.apply(self.repository("    swift:\n      container: c\n", "swift"),
                          "swift.yaml")
        self.assertRefused(r, "b2 and swift are not supported by stash")
        r, _ = self.apply(self.repository(local, "good"), "good.yaml")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_backupsession_spec_is_immutable(self):
        text = seed("backupsession.yaml").replace("namespace: demo", "namespace: adm")
        r, path = self.apply(text, "bs.yaml")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.kubectl("patch", "backupsession", "-n", "adm", "instant-backupsession",
                                "--type=merge", "-p", '{"spec":{"invoker":{"name":"other"}}}')
        self.assertRefused(r, 'admission webhook "backupsession.admission.stash.appscode.com" '
                              'denied the request: BackupSession spec is immutable')
        r = self.server.kubectl("patch", "backupsession", "-n", "adm", "instant-backupsession",
                                "--subresource=status", "--type=merge", "-p",
                                '{"status":{"phase":"Running"}}')
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_restoresession_rules(self):
        rs = {"apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
              "metadata": {"name": "rs", "namespace": "adm"},
              "spec": {"repository": {"name": "r"},
                       "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment",
                                          "name": "d"},
                                  "rules": [{"paths": ["/a"]}, {"paths": ["/b"]}]}}}
        r, _ = self.apply(json.dumps(rs), "rs.yaml")
        self.assertRefused(r, "2 rules found with empty targetHosts (Rules: rule[0], rule[1])")

    def test_explain_paused_says_instant_sessions_are_skipped(self):
        r = self.server.kubectl("explain", "backupconfiguration.spec.paused")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = " ".join(r.stdout.split())
        self.assertIn("BackupSessions created by hand (instant backups) end Skipped", text)
        self.assertNotIn("still run", text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookTest(unittest.TestCase):
    """The operator's webhook endpoint, as kube-apiserver calls it."""

    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        cls.certs = tempfile.mkdtemp(prefix="stash-webhook-")
        cls.port = free_port()
        cls.log = open(os.path.join(cls.certs, "operator.log"), "w")
        # The certificate goes into a Secret that other replicas would share.
        cls.operator = subprocess.Popen(
            [STASH, "--log-level", "info", "operator", "--kubeconfig", cls.server.kubeconfig,
             "--webhook-listen", "127.0.0.1:%d" % cls.port, "--webhook-cert-dir", cls.certs,
             "--webhook-service", "localhost", "--webhook-cert-secret", "default/webhook-cert"],
            stdout=cls.log, stderr=cls.log)
        deadline = time.time() + 30
        secret = None
        while time.time() < deadline and secret is None:
            r = cls.server.kubectl("get", "secret", "-n", "default", "webhook-cert", "-o", "json")
            secret = json.loads(r.stdout) if r.returncode == 0 else None
            time.sleep(0.1)
        assert secret, open(os.path.join(cls.certs, "operator.log")).read()
        cls.secret = secret
        ca = os.path.join(cls.certs, "from-secret-ca.crt")
        with open(ca, "wb") as f:
            f.write(base64.b64decode(secret["data"]["ca.crt"]))
        cls.ctx = ssl.create_default_context(cafile=ca)

    @classmethod
    def tearDownClass(cls):
        cls.operator.terminate()
        cls.operator.wait(20)
        cls.server.cleanup()

    def review(self, path, request, version="v1"):
        body = {"apiVersion": "admission.k8s.io/" + version, "kind": "AdmissionReview",
                "request": request}
        deadline = time.time() + 30
        while True:
            try:
                conn = http.client.HTTPSConnection("localhost", self.port, context=self.ctx,
                                                   timeout=10)
                conn.request("POST", path, body=json.dumps(body),
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = json.loads(resp.read())
                conn.close()
                return resp.status, data
            except (ConnectionRefusedError, ssl.SSLError, OSError):
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def bc_request(self, schedule, uid="u-1"):
        obj = {"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
               "metadata": {"name": "x", "namespace": "demo"},
               "spec": {"repository": {"name": "r"}, "schedule": schedule,
                        "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment",
                                           "name": "d"}, "paths": ["/data"]},
                        "retentionPolicy": {"name": "k", "keepLast": 1}}}
        return {"uid": uid, "operation": "CREATE", "namespace": "demo", "name": "x",
                "kind": {"group": "stash.appscode.com", "version": "v1beta1",
                         "kind": "BackupConfiguration"},
                "resource": {"group": "stash.appscode.com", "version": "v1beta1",
                             "resource": "backupconfigurations"},
                "object": obj}

    def test_certificate_is_shared_through_a_tls_secret(self):
        self.assertEqual(self.secret["type"], "kubernetes.io/tls")
        self.assertEqual(sorted(self.secret["data"]), ["ca.crt", "tls.crt", "tls.key"])

    def test_webhook_answers_admission_reviews(self):
        path = "/apis/admission.stash.appscode.com/v1beta1/backupconfigurationvalidators"
        status, out = self.review(path, self.bc_request("61 * * * *", uid="abc"))
        self.assertEqual(status, 200)
        self.assertEqual((out["apiVersion"], out["kind"]), ("admission.k8s.io/v1",
                                                            "AdmissionReview"))
        self.assertEqual(out["response"]["uid"], "abc")
        self.assertFalse(out["response"]["allowed"])
        self.assertEqual(out["response"]["status"]["code"], 403)
        self.assertEqual(out["response"]["status"]["message"],
                         "spec.schedule 61 * * * * is invalid. Reason: minute: value 61 out of "
                         "range 0-59")
        status, out = self.review(path, self.bc_request("*/5 * * * *", uid="def"), "v1beta1")
        self.assertEqual(out["apiVersion"], "admission.k8s.io/v1beta1")
        self.assertEqual(out["response"], {"uid": "def", "allowed": True})
        status, _ = self.review("/nowhere", self.bc_request("* * * * *"))
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
