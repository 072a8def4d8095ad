"""The Pause Backup guide end to end, against `stash server` with the real kubectl.

Steps as the guide: namespace, the gcs-secret made as the guide makes it (a
generated service-account key), Deployment + PVC (unchanged manifest), its 3
pods, the guide's Repository unchanged (bucket appscode-qa, prefix
/sample/data) on the GCS emulator via STORAGE_EMULATOR_HOST, BackupConfiguration
(the guide's manifest with a 2-second schedule, a stash extension, so the test
does not wait minutes), the sidecar in every pod (new pod names), scheduled
backup Succeeded, restic 0.14 restores data.txt from a byte-for-byte copy of
the bucket, pause, skipped ticks with the guide's event, the instant
BackupSession Skipped with the guide's Warning event, describe output, the pod
template and the pods unchanged, resume, and retention keeping 5 snapshots
after 7 backups.

Local (hostPath) repositories are covered by test_operator_errors and
test_operator_crash.
"""
import json
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import (OperatorEnv, gcs_emulator_available, seed,  # noqa: E402
                          service_account_key)

SCHEDULE = "*/2 * * * * *"
POD_ROW = re.compile(r"^(stash-demo-[a-z0-9]+-[a-z0-9]{5})\s+(\d+/\d+)\s+(\S+)\s+(\d+)", re.M)


def succeeded_sessions(env):
    bs = env.get_json("backupsession", "-n", "demo")
    names = set()
    for item in (bs or {}).get("items", []):
        if item.get("status", {}).get("phase") == "Succeeded":
            names.add(item["metadata"]["name"])
    return names


def pods(env):
    """`kubectl get pod -n demo` as {name: (READY, STATUS)}."""
    out = env.kubectl("get", "pod", "-n", "demo").stdout
    return {m.group(1): (m.group(2), m.group(3)) for m in POD_ROW.finditer(out)}


def pods_like(env, ready, exclude=()):
    """Three pods, all READY `ready` and STATUS NotRunByEmbeddedNode (busybox is
    not run here, and the pods say so), none of them named in `exclude`."""
    now = pods(env)
    if len(now) == 3 and set(now.values()) == {(ready, "NotRunByEmbeddedNode")} and \
            not set(now) & set(exclude):
        return now
    return None


@unittest.skipUnless(gcs_emulator_available(), "the firebase-tools storage emulator is not "
                     "installed (tests/peers; scripts/setup.sh installs it)")
class PauseBackupGuide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv(gcs=True)
        # Must reach no pod process (nor must anything else of the server's environment).
        cls.env.extra_env["STASH_TEST_SERVER_ONLY"] = "server-env-" + os.urandom(6).hex()
        cls.env.start()
        print("backup engine:", cls.env.engine or "stash", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def check_pod_identity(self, pod_names):
        """The sidecars run with their pod's ServiceAccount token where kubelet puts
        it (in their path map) and a container's environment: no admin credential,
        nothing of the server's environment, and the Role the operator made lets
        them read their Repository's Secret but no other."""
        env = self.env
        admin = env.admin_token()
        marker = env.extra_env["STASH_TEST_SERVER_ONLY"]
        sidecars = env.wait_for("3 sidecar processes", lambda: (lambda ps: ps if len(ps) == 3
                                else None)([p for p in env.node_processes()
                                            if "run-backup" in p[1]]))
        for pid, argv, environ in env.node_processes():
            text = "\0".join(argv) + "\0" + "\0".join("%s=%s" % kv for kv in environ.items())
            self.assertNotIn(admin, text, argv)
            self.assertNotIn(marker, text, argv)
            self.assertNotIn("KUBECONFIG", environ, argv)
        for pid, argv, environ in sidecars:
            self.assertEqual(environ["KUBERNETES_SERVICE_HOST"], "127.0.0.1")
            self.assertEqual(environ["KUBERNETES_SERVICE_PORT"], str(env.server.port))
            self.assertIn(environ["POD_NAME"], pod_names)
            sa_dir = environ["STASH_SERVICEACCOUNT_DIR"]
            self.assertEqual(json.loads(environ["STASH_PATH_MAP"])
                             ["/var/run/secrets/kubernetes.io/serviceaccount"], sa_dir)
            with open(os.path.join(sa_dir, "namespace")) as f:
                self.assertEqual(f.read(), "demo")
            self.assertTrue(os.path.getsize(os.path.join(sa_dir, "ca.crt")) > 0)
        with open(os.path.join(sidecars[0][2]["STASH_SERVICEACCOUNT_DIR"], "token")) as f:
            token = f.read().strip()
        r = env.server.kubectl("auth", "whoami", "--token", token, "-o",
                               "jsonpath={.status.userInfo.username}")
        self.assertEqual(r.stdout, "system:serviceaccount:demo:default", r.stderr)
        role = env.get_json("role", "-n", "demo", "stash-backup-pause-backup")
        self.assertEqual(role["metadata"]["ownerReferences"][0]["name"], "pause-backup")
        as_sidecar = ["--as=system:serviceaccount:demo:default"]
        for args, allowed in ((["get", "secret/gcs-secret", "-n", "demo"], "yes"),
                              (["get", "secrets", "-n", "demo"], "no"),
                              (["delete", "secrets", "-n", "demo"], "no"),
                              (["create", "backupsessions.stash.appscode.com", "-n", "demo"], "yes"),
                              (["get", "backupsessions.stash.appscode.com", "-n", "default"], "no")):
            r = env.server.kubectl("auth", "can-i", *args, *as_sidecar)
            self.assertEqual(r.stdout.strip(), allowed, (args, r.stderr))
        # The trigger CronJob runs as the account the operator made for it.
        cj = env.get_json("cronjob", "-n", "demo", "stash-trigger-pause-backup")
        self.assertEqual(cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
                         ["serviceAccountName"], "stash-trigger-pause-backup")
        self.assertIsNotNone(env.get_json("serviceaccount", "-n", "demo",
                                          "stash-trigger-pause-backup"))

    def test_guide(self):
        env = self.env
        env.create_namespace_and_secret(project="stash-local-test",
                                        key=service_account_key("stash-local-test"))
        secret = env.get_json("secret", "-n", "demo", "gcs-secret")
        self.assertEqual(sorted(secret["data"]), ["GOOGLE_PROJECT_ID",
                                                  "GOOGLE_SERVICE_ACCOUNT_JSON_KEY",
                                                  "RESTIC_PASSWORD"])
        r = env.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        self.assertIn("persistentvolumeclaim/source-pvc created", r.stdout)
        self.assertIn("deployment.apps/stash-demo created", r.stdout)
        # Three pods; busybox is not run by the embedded node, and they say so.
        plain = env.wait_for("3 pods", lambda: pods_like(env, "0/1"))
        # The PVC is a host directory; the busybox container does not run here, so the
        # user (this test) writes the guide's sample data into it.
        pvc = env.wait_for("the PVC directory", lambda: os.path.isdir(env.pvc_dir("source-pvc")))
        with open(os.path.join(env.pvc_dir("source-pvc"), "data.txt"), "w") as f:
            f.write("sample_data\n")
        env.wait_for("PVC Bound", lambda: (env.get_json("pvc", "-n", "demo", "source-pvc") or {})
                     .get("status", {}).get("phase") == "Bound")

        r = env.kubectl("apply", "-f", "-", input=seed("repository.yaml"))
        self.assertIn("repository.stash.appscode.com/gcs-repo created", r.stdout)
        bc_yaml = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"%s"' % SCHEDULE)
        r = env.kubectl("apply", "-f", "-", input=bc_yaml)
        self.assertIn("backupconfiguration.stash.appscode.com/pause-backup created", r.stdout)

        # The operator: finalizer, Ready, CronJob, sidecar.
        bc = env.wait_for("BackupConfiguration Ready", lambda: (
            lambda o: o if o and o.get("status", {}).get("phase") == "Ready" else None)(
                env.get_json("backupconfiguration", "-n", "demo", "pause-backup")))
        self.assertIn("stash.appscode.com", bc["metadata"]["finalizers"])
        types = {c["type"]: c["status"] for c in bc["status"]["conditions"]}
        for t in ("BackupTargetFound", "StashSidecarInjected", "CronJobCreated", "RepositoryFound",
                  "BackendSecretFound", "ValidationPassed"):
            self.assertEqual(types.get(t), "True", t)
        cj = env.get_json("cronjob", "-n", "demo", "stash-trigger-pause-backup")
        self.assertEqual(cj["spec"]["schedule"], SCHEDULE)
        self.assertIn("create-backupsession",
                      cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"])
        deploy = env.get_json("deploy", "-n", "demo", "stash-demo")
        containers = deploy["spec"]["template"]["spec"]["containers"]
        self.assertEqual([c["name"] for c in containers], ["busybox", "stash"])
        self.assertEqual(containers[1]["args"][0], "run-backup")
        self.assertIn({"name": "source-data", "mountPath": "/source/data"},
                      containers[1]["volumeMounts"])
        # The new template replaces the pods: 2 containers, the sidecar running in each.
        injected = env.wait_for("3 new pods with the sidecar",
                                lambda: pods_like(env, "1/2", exclude=plain))
        pod = env.get_json("pod", "-n", "demo", sorted(injected)[0])
        owner = pod["metadata"]["ownerReferences"][0]  # the Deployment's ReplicaSet
        self.assertEqual(owner["kind"], "ReplicaSet")
        self.assertRegex(owner["name"], r"^stash-demo-[a-z0-9]+$")
        states = {c["name"]: c["state"] for c in pod["status"]["containerStatuses"]}
        self.assertIn("running", states["stash"])
        self.assertEqual(states["busybox"]["waiting"]["reason"], "NotRunByEmbeddedNode")

        self.check_pod_identity(injected)

        # A scheduled BackupSession succeeds.
        first = set()

        def newest_succeeded():
            # At a 2-second schedule with backupHistoryLimit 1, the next
            # session's end may prune the one just listed: read it again then.
            names = succeeded_sessions(env)
            first.update(names)
            if not names:
                return None
            name = sorted(names)[-1]
            row = env.kubectl("get", "backupsession", "-n", "demo", name, check=False)
            obj = env.get_json("backupsession", "-n", "demo", name)
            return (name, row.stdout, obj) if row.returncode == 0 and obj else None
        name, row, bs = env.wait_for("a Succeeded BackupSession", newest_succeeded, timeout=90)
        self.assertRegex(name, r"^pause-backup-\d{10}$")
        self.assertRegex(row, r"NAME\s+INVOKER-TYPE\s+INVOKER-NAME\s+PHASE")
        self.assertRegex(row, name + r"\s+BackupConfiguration\s+pause-backup\s+Succeeded")
        stats = bs["status"]["targets"][0]["stats"][0]
        self.assertEqual(stats["hostname"], "host-0")
        self.assertEqual(stats["phase"], "Succeeded")
        self.assertEqual(stats["snapshots"][0]["path"], "/source/data")
        self.assertGreaterEqual(stats["snapshots"][0]["fileStats"]["totalFiles"], 1)
        self.assertTrue(bs["status"]["sessionDuration"].endswith("s"))
        repo = env.wait_for("Repository status", lambda: (
            lambda o: o if o and o.get("status", {}).get("snapshotCount") else None)(
                env.get_json("repository", "-n", "demo", "gcs-repo")))
        self.assertTrue(repo["status"]["integrity"])
        self.assertIn("lastBackupTime", repo["status"])

        # One replica's sidecar holds the Lease and backs up.
        lease = env.get_json("lease", "-n", "demo", "lock-backupconfiguration-pause-backup-backup")
        self.assertIn(lease["spec"]["holderIdentity"], injected)

        # restic 0.14 restores data.txt from what the sidecar wrote to the bucket.
        copy = env.copy_bucket("appscode-qa", "/sample/data")
        self.assertTrue(os.path.isfile(os.path.join(copy, "config")))
        target = tempfile.mkdtemp(prefix="stash-restore-")
        r = env.restic("restore", "latest", "--target", target, repo=copy)
        self.assertEqual(r.returncode, 0, r.stderr)
        # The snapshot holds the container's path, not the PVC's host directory.
        with open(os.path.join(target, "source", "data", "data.txt")) as f:
            self.assertEqual(f.read(), "sample_data\n")
        r = env.restic("ls", "latest", repo=copy)
        self.assertIn("/source/data/data.txt", r.stdout.splitlines(), r.stdout + r.stderr)
        r = env.restic("snapshots", "--json", repo=copy)
        snaps = json.loads(r.stdout)  # more backups may have run by now
        self.assertGreaterEqual(len(snaps), 1)
        self.assertEqual({(tuple(s["paths"]), s["hostname"]) for s in snaps},
                         {(("/source/data",), "host-0")})
        r = env.kubectl("get", "backupsession", "-n", "demo", "-o", "yaml")
        self.assertRegex(r.stdout, r"\n\s+path: /source/data\n")
        r = env.restic("check", "--read-data", repo=copy)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # Pause: the pod template stays as it is; ticks create no session, only the event.
        template_before = env.get_json("deploy", "-n", "demo", "stash-demo")["spec"]["template"]
        gen_before = env.get_json("deploy", "-n", "demo", "stash-demo")["metadata"].get("generation")
        r = env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup",
                        "--type=merge", "--patch", '{"spec": {"paused": true}}')
        self.assertIn("backupconfiguration.stash.appscode.com/pause-backup patched", r.stdout)
        # Once a tick is skipped the pause is in force; sessions seen then may
        # still come from a tick that was running when the patch landed.
        ticks = env.wait_paused_ticks()
        before = {i["metadata"]["name"] for i in
                  env.get_json("backupsession", "-n", "demo")["items"]}
        describe = env.kubectl("describe", "backupconfiguration", "-n", "demo",
                               "pause-backup").stdout
        env.wait_paused_ticks(since=ticks)  # at least one more tick
        after = {i["metadata"]["name"] for i in
                 env.get_json("backupsession", "-n", "demo")["items"]}
        self.assertEqual(after - before, set(), "ticks created sessions while paused")
        self.assertRegex(describe, r"Paused:\s+true")
        self.assertRegex(describe, r"Finalizers:\s*\n\s+stash\.appscode\.com")
        self.assertRegex(describe, r"Normal\s+Backup Skipped\s+\S+.*Backup Triggering CronJob\s+"
                         r"Skipping creating BackupSession\. Reason: Backup Configuration "
                         r"demo/pause-backup is paused\.")

        # The instant BackupSession ends Skipped with the guide's Warning event.
        r = env.kubectl("apply", "-f", "-", input=seed("backupsession.yaml"))
        self.assertIn("backupsession.stash.appscode.com/instant-backupsession created", r.stdout)
        env.wait_for("instant session Skipped", lambda: (env.get_json(
            "backupsession", "-n", "demo", "instant-backupsession") or {}).get(
                "status", {}).get("phase") == "Skipped", timeout=30)
        r = env.kubectl("get", "backupsession", "-n", "demo", "instant-backupsession")
        self.assertRegex(r.stdout, r"instant-backupsession\s+BackupConfiguration\s+pause-backup\s+"
                         r"Skipped")
        r = env.kubectl("describe", "backupsession", "-n", "demo", "instant-backupsession")
        self.assertRegex(r.stdout, r"Phase:\s+Skipped")
        self.assertRegex(r.stdout, r"Warning\s+BackupSessionSkipped\s+\S+.*BackupSession Controller"
                         r"\s+Backup Configuration is paused")

        deploy = env.get_json("deploy", "-n", "demo", "stash-demo")
        self.assertEqual(deploy["spec"]["template"], template_before)
        self.assertEqual(deploy["metadata"].get("generation"), gen_before)
        self.assertEqual(set(pods(env)), set(injected), "pausing replaced the pods")

        # Resume: the next tick backs up again; 7 backups in all leave 5 snapshots.
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec": {"paused": false}}')
        seen = set(first)
        resumed = set()

        def enough():
            now = succeeded_sessions(env)
            resumed.update(now - seen - before)
            seen.update(now)
            return len(seen) >= 7 and resumed
        env.wait_for("7 successful backups", enough, timeout=120, interval=0.5)
        ticks = env.event_count("Backup Skipped")
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec": {"paused": true}}')
        self.assertEqual(env.get_json("deploy", "-n", "demo", "stash-demo")["spec"]["template"],
                         template_before)
        self.assertEqual(set(pods(env)), set(injected), "resuming replaced the pods")

        def idle():
            items = env.get_json("backupsession", "-n", "demo")["items"]
            return not any(i.get("status", {}).get("phase") in (None, "Running") for i in items)
        env.wait_paused_ticks(since=ticks)  # no tick in flight starts another backup
        env.wait_for("no backup running", idle, timeout=60)
        # Every backup applied keepLast 5 with prune before it Succeeded.
        copy = env.copy_bucket("appscode-qa", "/sample/data")
        r = env.restic("snapshots", "--json", repo=copy)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)), 5, r.stdout)
        r = env.restic("check", repo=copy)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # Editing the retention (with the resume) restarts no pod: the sidecar
        # reads it at each session. The next backup applies keepLast 3.
        done = succeeded_sessions(env)
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec": {"paused": false, "retentionPolicy": {"keepLast": 3}}}')
        env.wait_for("a backup after the edit", lambda: succeeded_sessions(env) - done,
                     timeout=60, interval=0.5)
        ticks = env.event_count("Backup Skipped")
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "--patch", '{"spec": {"paused": true}}')
        env.wait_paused_ticks(since=ticks)
        env.wait_for("no backup running", idle, timeout=60)
        self.assertEqual(env.get_json("deploy", "-n", "demo", "stash-demo")["spec"]["template"],
                         template_before)
        self.assertEqual(set(pods(env)), set(injected), "editing keepLast replaced the pods")
        copy = env.copy_bucket("appscode-qa", "/sample/data")
        r = env.restic("snapshots", "--json", repo=copy)
        self.assertEqual(len(json.loads(r.stdout)), 3, r.stdout)

        # Deleting the BackupConfiguration removes the sidecar and the CronJob.
        env.kubectl("delete", "-n", "demo", "backupconfiguration", "pause-backup")
        env.wait_for("sidecar removed", lambda: [c["name"] for c in env.get_json(
            "deploy", "-n", "demo", "stash-demo")["spec"]["template"]["spec"]["containers"]] ==
            ["busybox"])
        env.wait_for("CronJob removed",
                     lambda: env.get_json("cronjob", "-n", "demo",
                                          "stash-trigger-pause-backup") is None)
        env.wait_for("pods without the sidecar", lambda: pods_like(env, "0/1", exclude=injected))


if __name__ == "__main__":
    unittest.main()
