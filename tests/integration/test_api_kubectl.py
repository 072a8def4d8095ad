"""The guide's kubectl flow against `stash server`, with the real kubectl.

Creates the namespace and the storage secret, applies the guide's four
manifests unchanged, and checks what kubectl prints for get (the guide's
columns), get -w, patch, describe with events, apply again, -o yaml/json and
delete.
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helpers  # noqa: E402
from test_api_server import ApiServer  # noqa: E402

SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "seed")


def ts(seconds_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class KubectlGuideFlowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        cls.work = tempfile.mkdtemp(prefix="stash-guide-")
        for name, content in (("RESTIC_PASSWORD", "changeit"), ("GOOGLE_PROJECT_ID", "appscode-qa"),
                              ("GOOGLE_SERVICE_ACCOUNT_JSON_KEY", '{"type":"service_account"}')):
            with open(os.path.join(cls.work, name), "w") as f:
                f.write(content)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def kubectl(self, *args, ok=True):
        r = self.server.kubectl(*args, cwd=self.work)
        if ok:
            self.assertEqual(r.returncode, 0, f"kubectl {' '.join(args)}: {r.stderr}")
        return r

    def test_guide_flow(self):
        k = self.kubectl
        self.assertEqual(k("create", "ns", "demo").stdout, "namespace/demo created\n")
        r = k("create", "secret", "generic", "-n", "demo", "gcs-secret",
              "--from-file=./RESTIC_PASSWORD", "--from-file=./GOOGLE_PROJECT_ID",
              "--from-file=./GOOGLE_SERVICE_ACCOUNT_JSON_KEY")
        self.assertEqual(r.stdout, "secret/gcs-secret created\n")
        secret = json.loads(k("get", "secret", "-n", "demo", "gcs-secret", "-o", "json").stdout)
        self.assertEqual(secret["type"], "Opaque")
        self.assertEqual(secret["data"]["RESTIC_PASSWORD"], "Y2hhbmdlaXQ=")

        self.assertEqual(k("apply", "-f", f"{SEED}/deployment.yaml").stdout,
                         "persistentvolumeclaim/source-pvc created\n"
                         "deployment.apps/stash-demo created\n")
        # The Deployment's ReplicaSet makes its 3 pods; without a Node they
        # stay Pending, as on a cluster with no node.
        rows = helpers.wait_for("3 pods of stash-demo", lambda: (
            lambda out: out if len(out) == 4 else None)(
                k("get", "pod", "-n", "demo").stdout.splitlines()))
        self.assertRegex(rows[0], r"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$")
        for row in rows[1:]:
            self.assertRegex(row, r"^stash-demo-[a-z0-9]+-[a-z0-9]{5}\s+0/1\s+Pending\s+0\s+")
        self.assertEqual(k("apply", "-f", f"{SEED}/repository.yaml").stdout,
                         "repository.stash.appscode.com/gcs-repo created\n")
        self.assertEqual(k("apply", "-f", f"{SEED}/backupconfiguration.yaml").stdout,
                         "backupconfiguration.stash.appscode.com/pause-backup created\n")

        lines = k("get", "backupconfiguration", "-n", "demo").stdout.splitlines()
        self.assertEqual(lines[0], "NAME           TASK   SCHEDULE      PAUSED   AGE")
        self.assertRegex(lines[1], r"^pause-backup          \*/5 \* \* \* \*            \d+s$")
        self.assertEqual(k("get", "bc", "-n", "demo", "-o", "name").stdout,
                         "backupconfiguration.stash.appscode.com/pause-backup\n")

        # get -w sees the patch as a new row.
        watch = self.server.kubectl_bg("get", "backupconfiguration", "-n", "demo", "-w")
        rows = []

        def read():
            for line in watch.stdout:
                rows.append(line.rstrip("\n"))
        reader = threading.Thread(target=read)
        reader.start()

        def wait_rows(n):
            deadline = time.time() + 30
            while len(rows) < n and time.time() < deadline:
                time.sleep(0.05)
            self.assertGreaterEqual(len(rows), n, rows)
        try:
            wait_rows(2)  # the header and the object as it is
            r = k("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                  "--patch", '{"spec": {"paused": true}}')
            self.assertEqual(r.stdout, "backupconfiguration.stash.appscode.com/pause-backup patched\n")
            wait_rows(3)
        finally:
            watch.terminate()
            reader.join(10)
        out = "\n".join(rows)
        self.assertEqual(rows[0], "NAME           TASK   SCHEDULE      PAUSED   AGE")
        self.assertRegex(rows[-1], r"^pause-backup          \*/5 \* \* \* \*   true     \d+s$")
        self.assertEqual(len(rows), 3, out)

        r = k("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
              "--patch", '{"spec": {"paused": true}}')
        self.assertEqual(r.stdout,
                         "backupconfiguration.stash.appscode.com/pause-backup patched (no change)\n")
        self.assertEqual(k("apply", "-f", f"{SEED}/backupconfiguration.yaml").stdout,
                         "backupconfiguration.stash.appscode.com/pause-backup unchanged\n")
        changed = os.path.join(self.work, "bc2.yaml")
        with open(f"{SEED}/backupconfiguration.yaml") as f, open(changed, "w") as g:
            g.write(f.read().replace('"*/5 * * * *"', '"*/1 * * * *"'))
        self.assertEqual(k("apply", "-f", changed).stdout,
                         "backupconfiguration.stash.appscode.com/pause-backup configured\n")
        r = k("apply", "-f", f"{SEED}/deployment.yaml")
        self.assertEqual((r.stdout, r.stderr), ("persistentvolumeclaim/source-pvc unchanged\n"
                                                "deployment.apps/stash-demo unchanged\n", ""))

        # BackupSession: the guide's columns, status through the subresource.
        self.assertEqual(k("apply", "-f", f"{SEED}/backupsession.yaml").stdout,
                         "backupsession.stash.appscode.com/instant-backupsession created\n")
        k("patch", "backupsession", "-n", "demo", "instant-backupsession", "--subresource=status",
          "--type=merge", "-p", '{"status":{"phase":"Skipped"}}')
        lines = k("get", "backupsession", "-n", "demo").stdout.splitlines()
        self.assertEqual(lines[0], "NAME                    INVOKER-TYPE          INVOKER-NAME   PHASE     AGE")
        self.assertRegex(lines[1], r"^instant-backupsession   BackupConfiguration   pause-backup   Skipped   \d+s$")

        # describe shows the events of the object (field selector on involvedObject).
        bc = json.loads(k("get", "bc", "-n", "demo", "pause-backup", "-o", "json").stdout)
        self.assertEqual(bc["spec"]["paused"], True)
        self.assertEqual(bc["spec"]["schedule"], "*/1 * * * *")
        self.assertEqual(bc["metadata"]["generation"], 3)
        involved = {"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
                    "name": "pause-backup", "namespace": "demo", "uid": bc["metadata"]["uid"]}
        event = {"apiVersion": "v1", "kind": "Event",
                 "metadata": {"name": "pause-backup.187a2b3c4d5e6f70", "namespace": "demo"},
                 "involvedObject": involved, "type": "Normal", "reason": "Backup Skipped",
                 "message": "Skipping creating BackupSession. Reason: Backup Configuration "
                            "demo/pause-backup is paused.",
                 "source": {"component": "Backup Triggering CronJob"},
                 "firstTimestamp": ts(184), "lastTimestamp": ts(34), "count": 4}
        status, _, _ = self.server.request("POST", "/api/v1/namespaces/demo/events", event)
        self.assertEqual(status, 201)
        other = dict(event, metadata={"name": "other.1", "namespace": "demo"},
                     involvedObject=dict(involved, name="instant-backupsession",
                                         kind="BackupSession"), reason="Elsewhere")
        self.assertEqual(self.server.request("POST", "/api/v1/namespaces/demo/events", other)[0], 201)
        out = k("describe", "backupconfiguration", "-n", "demo", "pause-backup").stdout
        self.assertIn("Name:         pause-backup\nNamespace:    demo\n", out)
        self.assertIn("  Paused:  true\n", out)
        events = out[out.index("Events:"):].splitlines()
        self.assertRegex(events[1], r"^\s+Type\s+Reason\s+Age\s+From\s+Message$")
        self.assertRegex(events[3], r"^\s+Normal\s+Backup Skipped\s+3\ds \(x4 over 3m\d+s\)\s+"
                                    r"Backup Triggering CronJob\s+Skipping creating BackupSession\. "
                                    r"Reason: Backup Configuration demo/pause-backup is paused\.$")
        self.assertEqual(len(events), 4, out)

        # -o yaml / -o json keep the last-applied annotation and the fields.
        y = k("get", "backupconfiguration", "-n", "demo", "pause-backup", "-o", "yaml").stdout
        self.assertIn("kind: BackupConfiguration\n", y)
        self.assertIn("    kubectl.kubernetes.io/last-applied-configuration: |\n", y)
        self.assertIn("  paused: true\n", y)
        self.assertIn("  schedule: '*/1 * * * *'\n", y)
        listed = json.loads(k("get", "backupconfiguration", "-n", "demo", "-o", "json").stdout)
        self.assertEqual(listed["kind"], "List")
        self.assertEqual([i["metadata"]["name"] for i in listed["items"]], ["pause-backup"])

        # delete, then it is gone.
        self.assertEqual(k("delete", "-n", "demo", "backupconfiguration", "pause-backup").stdout,
                         'backupconfiguration.stash.appscode.com "pause-backup" deleted\n')
        r = k("get", "backupconfiguration", "-n", "demo", "pause-backup", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, 'Error from server (NotFound): backupconfigurations.stash.appscode.com '
                                   '"pause-backup" not found\n')
        self.assertEqual(k("delete", "ns", "demo").stdout, 'namespace "demo" deleted\n')
        r = k("get", "secret", "-n", "demo", ok=False)
        self.assertEqual(r.stderr, "No resources found in demo namespace.\n")
        r = k("get", "ns", "demo", ok=False)
        self.assertEqual(r.stderr, 'Error from server (NotFound): namespaces "demo" not found\n')

    def test_server_side_apply_creates_then_updates(self):
        k = self.kubectl
        k("create", "ns", "ssa")
        manifest = os.path.join(self.work, "ssa-repo.yaml")
        with open(f"{SEED}/repository.yaml") as f, open(manifest, "w") as g:
            g.write(f.read().replace("namespace: demo", "namespace: ssa"))
        self.assertEqual(k("apply", "--server-side", "-f", manifest).stdout,
                         "repository.stash.appscode.com/gcs-repo serverside-applied\n")
        with open(manifest) as f:
            text = f.read().replace("appscode-qa", "other-bucket")
        with open(manifest, "w") as f:
            f.write(text)
        k("apply", "--server-side", "-f", manifest)
        got = json.loads(k("get", "repo", "-n", "ssa", "gcs-repo", "-o", "json").stdout)
        self.assertEqual(got["spec"]["backend"]["gcs"]["bucket"], "other-bucket")
        self.assertEqual(got["metadata"]["generation"], 2)

    def test_unknown_field_is_a_warning_without_strict_validation(self):
        k = self.kubectl
        k("create", "ns", "warn")
        manifest = os.path.join(self.work, "warn-bc.yaml")
        with open(f"{SEED}/backupconfiguration.yaml") as f, open(manifest, "w") as g:
            g.write(f.read().replace("namespace: demo", "namespace: warn")
                    .replace("  schedule:", "  foo: bar\n  schedule:"))
        r = k("apply", "--validate=warn", "-f", manifest)
        self.assertEqual(r.stderr, 'Warning: unknown field "spec.foo"\n')
        self.assertEqual(r.stdout, "backupconfiguration.stash.appscode.com/pause-backup created\n")
        got = json.loads(k("get", "bc", "-n", "warn", "pause-backup", "-o", "json").stdout)
        self.assertNotIn("foo", got["spec"])  # pruned, as the apiserver does

    def test_other_kubectl_versions(self):
        # 1.27 asks only for v2beta1 aggregated discovery; 1.31 sends JSON
        # bodies; 1.33 protobuf ones, like the built-in 1.32.
        sdk = "/usr/lib/google-cloud-sdk/bin"
        versions = [v for v in ("1.27", "1.31", "1.33") if os.path.exists(f"{sdk}/kubectl.{v}")]
        if not versions:
            self.skipTest("no per-minor kubectl binaries")
        for v in versions:
            ns = "v" + v.replace(".", "")
            env = self.server.env()
            env["KUBECACHEDIR"] = tempfile.mkdtemp(prefix="stash-kubecache-")

            def run(*args, input=None):
                r = subprocess.run([f"{sdk}/kubectl.{v}", *args], capture_output=True, text=True,
                                   env=env, input=input, cwd=self.work, timeout=60)
                self.assertEqual(r.returncode, 0, f"kubectl {v} {args}: {r.stderr}")
                return r.stdout

            self.assertEqual(run("create", "ns", ns), f"namespace/{ns} created\n")
            self.assertEqual(run("create", "secret", "generic", "-n", ns, "s",
                                 "--from-file=./RESTIC_PASSWORD"), "secret/s created\n")
            with open(f"{SEED}/backupconfiguration.yaml") as f:
                manifest = f.read().replace("namespace: demo", f"namespace: {ns}")
            self.assertEqual(run("apply", "-f", "-", input=manifest),
                             "backupconfiguration.stash.appscode.com/pause-backup created\n")
            lines = run("get", "bc", "-n", ns).splitlines()
            self.assertEqual(lines[0], "NAME           TASK   SCHEDULE      PAUSED   AGE", v)

    def test_create_service_generators(self):
        # kubectl sends generated Services as protobuf.
        k = self.kubectl
        k("create", "ns", "svc")
        self.assertEqual(k("create", "service", "clusterip", "-n", "svc", "web",
                           "--tcp=80:8080", "--tcp=443:web-tls").stdout,
                         "service/web created\n")
        k("create", "service", "nodeport", "-n", "svc", "np", "--tcp=5678:8080",
          "--node-port=30080")
        k("create", "service", "externalname", "-n", "svc", "ext", "--external-name=example.com")
        k("create", "service", "clusterip", "-n", "svc", "headless", "--clusterip=None")
        got = {i["metadata"]["name"]: i["spec"] for i in
               json.loads(k("get", "svc", "-n", "svc", "-o", "json").stdout)["items"]}
        self.assertEqual(got["web"]["ports"], [
            {"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080},
            {"name": "443-web-tls", "port": 443, "protocol": "TCP", "targetPort": "web-tls"}])
        self.assertEqual(got["web"]["selector"], {"app": "web"})
        self.assertEqual(got["np"]["type"], "NodePort")
        self.assertEqual(got["np"]["ports"][0]["nodePort"], 30080)
        self.assertEqual((got["ext"]["type"], got["ext"]["externalName"]),
                         ("ExternalName", "example.com"))
        self.assertEqual(got["headless"]["clusterIP"], "None")

    def test_finalizers_hold_deletion_until_removed(self):
        k = self.kubectl
        k("create", "ns", "fin")
        repo = {"apiVersion": "stash.appscode.com/v1alpha1", "kind": "Repository",
                "metadata": {"name": "r", "namespace": "fin", "finalizers": ["stash.appscode.com"]},
                "spec": {"backend": {"local": {"mountPath": "/r"}}}}
        path = "/apis/stash.appscode.com/v1alpha1/namespaces/fin/repositories"
        self.assertEqual(self.server.request("POST", path, repo)[0], 201)
        r = k("delete", "repository", "-n", "fin", "r", "--wait=false")
        self.assertEqual(r.stdout, 'repository.stash.appscode.com "r" deleted\n')
        got = json.loads(k("get", "repository", "-n", "fin", "r", "-o", "json").stdout)
        self.assertIn("deletionTimestamp", got["metadata"])
        k("patch", "repository", "-n", "fin", "r", "--type=merge", "-p",
          '{"metadata":{"finalizers":null}}')
        r = k("get", "repository", "-n", "fin", "r", ok=False)
        self.assertIn('"r" not found', r.stderr)

    def test_a_job_selects_its_own_pods(self):
        """As kube-apiserver does at create: a Job without manualSelector gets
        a selector of its uid and the matching template labels, so `kubectl
        logs job/NAME` and `kubectl describe job` find its own pods only."""
        k = self.kubectl
        k("create", "ns", "jobs")
        k("create", "job", "-n", "jobs", "one", "--image=busybox", "--", "echo", "hi")
        job = json.loads(k("get", "job", "-n", "jobs", "one", "-o", "json").stdout)
        uid = job["metadata"]["uid"]
        self.assertEqual(job["spec"]["selector"],
                         {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        labels = job["spec"]["template"]["metadata"]["labels"]
        for key in ("controller-uid", "batch.kubernetes.io/controller-uid"):
            self.assertEqual(labels[key], uid)
        for key in ("job-name", "batch.kubernetes.io/job-name"):
            self.assertEqual(labels[key], "one")
        manual = {"apiVersion": "batch/v1", "kind": "Job",
                  "metadata": {"name": "manual", "namespace": "jobs"},
                  "spec": {"manualSelector": True,
                           "selector": {"matchLabels": {"app": "m"}},
                           "template": {"metadata": {"labels": {"app": "m"}},
                                        "spec": {"restartPolicy": "Never",
                                                 "containers": [{"name": "c",
                                                                 "image": "busybox"}]}}}}
        path = "/apis/batch/v1/namespaces/jobs/jobs"
        self.assertEqual(self.server.request("POST", path, manual)[0], 201)
        got = json.loads(k("get", "job", "-n", "jobs", "manual", "-o", "json").stdout)
        self.assertEqual(got["spec"]["selector"], {"matchLabels": {"app": "m"}})
        self.assertEqual(got["spec"]["template"]["metadata"]["labels"], {"app": "m"})



if __name__ == "__main__":
    unittest.main()
