"""Bad input to the operator: each problem shows up as a phase and a condition
that name it, sessions end instead of hanging, and nothing crashes.

Also kill -9 of the server during a backup: after the restart that session
ends Failed (not Running forever) and the next tick backs up.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv, seed  # noqa: E402

DEPLOY = seed("deployment.yaml")


def bc_yaml(name, schedule="*/5 * * * *", repo="gcs-repo", target="stash-demo"):
    return (seed("backupconfiguration.yaml")
            .replace("name: pause-backup", "name: " + name)
            .replace('"*/5 * * * *"', '"%s"' % schedule)
            .replace("name: gcs-repo", "name: " + repo)
            .replace("name: stash-demo", "name: " + target))


class OperatorErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv().start()
        cls.env.create_namespace_and_secret()
        cls.env.kubectl("apply", "-f", "-", input=DEPLOY)

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def wait_phase(self, name, phase, timeout=30):
        env = self.env

        def check():
            o = env.get_json("backupconfiguration", "-n", "demo", name)
            return o if o and o.get("status", {}).get("phase") == phase else None
        bc = env.wait_for("%s phase %s" % (name, phase), check, timeout=timeout)
        return {c["type"]: c for c in bc["status"]["conditions"]}

    def test_invalid_cron(self):
        # Refused at apply with the reason (Stash's validating webhook, built
        # into the embedded server), so no Invalid object stops backups silently.
        self.env.kubectl("apply", "-f", "-", input=self.env.local_repository())
        r = self.env.kubectl("apply", "-f", "-", input=bc_yaml("bad-cron", schedule="61 * * * *"),
                             check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('admission webhook "backupconfiguration.admission.stash.appscode.com" '
                      'denied the request: spec.schedule 61 * * * * is invalid. Reason: minute: '
                      'value 61 out of range 0-59', r.stderr)
        self.assertIsNone(self.env.get_json("backupconfiguration", "-n", "demo", "bad-cron"))
        # A good schedule is taken, and an edit to a bad one is refused while
        # the object keeps working.
        self.env.kubectl("apply", "-f", "-", input=bc_yaml("bad-cron", schedule="0 * * * *"))
        self.wait_phase("bad-cron", "Ready")
        r = self.env.kubectl("patch", "backupconfiguration", "-n", "demo", "bad-cron",
                             "--type=merge", "--patch", '{"spec": {"schedule": "not a cron"}}',
                             check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("spec.schedule not a cron is invalid. Reason: ", r.stderr)
        self.assertIsNotNone(self.env.get_json("cronjob", "-n", "demo", "stash-trigger-bad-cron"))
        self.env.kubectl("delete", "-n", "demo", "backupconfiguration", "bad-cron")

    def test_missing_repository_and_session_skipped(self):
        self.env.kubectl("apply", "-f", "-", input=bc_yaml("no-repo", repo="nowhere"))
        conds = self.wait_phase("no-repo", "NotReady")
        self.assertEqual(conds["RepositoryFound"]["status"], "False")
        self.assertEqual(conds["RepositoryFound"]["reason"], "RepositoryNotAvailable")
        self.assertIn("Repository demo/nowhere does not exist", conds["RepositoryFound"]["message"])
        # A session for it is not left Pending.
        self.env.kubectl("apply", "-f", "-", input=seed("backupsession.yaml")
                         .replace("instant-backupsession", "no-repo-now")
                         .replace("pause-backup", "no-repo"))
        bs = self.env.wait_for("session skipped", lambda: (lambda o: o if o and o.get(
            "status", {}).get("phase") == "Skipped" else None)(
                self.env.get_json("backupsession", "-n", "demo", "no-repo-now")))
        msg = bs["status"]["conditions"][0]["message"]
        self.assertIn("Repository demo/nowhere does not exist", msg)
        self.env.kubectl("delete", "-n", "demo", "backupconfiguration", "no-repo")

    def test_missing_secret(self):
        self.env.kubectl("apply", "-f", "-", input=self.env.local_repository(
            name="repo-nosecret", secret="absent-secret"))
        self.env.kubectl("apply", "-f", "-", input=bc_yaml("no-secret", repo="repo-nosecret"))
        conds = self.wait_phase("no-secret", "NotReady")
        self.assertEqual(conds["BackendSecretFound"]["status"], "False")
        self.assertIn("Backend Secret demo/absent-secret does not exist",
                      conds["BackendSecretFound"]["message"])
        self.env.kubectl("delete", "-n", "demo", "backupconfiguration", "no-secret")

    def test_missing_target(self):
        self.env.kubectl("apply", "-f", "-", input=self.env.local_repository())
        self.env.kubectl("apply", "-f", "-", input=bc_yaml("no-target", target="ghost"))
        conds = self.wait_phase("no-target", "NotReady")
        self.assertEqual(conds["BackupTargetFound"]["status"], "False")
        self.assertEqual(conds["BackupTargetFound"]["reason"], "TargetNotAvailable")
        self.assertIn("apps/v1 Deployment demo/ghost does not exist",
                      conds["BackupTargetFound"]["message"])
        self.env.kubectl("delete", "-n", "demo", "backupconfiguration", "no-target")

    def test_wrong_password(self):
        env = self.env
        other = os.path.join(env.repo_dir, "wrongpw")
        os.makedirs(other)
        r = env.restic("init", password="not-the-secret", repo=other)
        self.assertEqual(r.returncode, 0, r.stderr)
        env.kubectl("apply", "-f", "-", input=env.local_repository(name="repo-wrongpw", path=other))
        # A Deployment of its own, so this sidecar does not race the others for the PVC.
        env.kubectl("apply", "-f", "-", input=DEPLOY.split("---")[1]
                    .replace("name: stash-demo", "name: wrongpw-demo"))
        env.kubectl("apply", "-f", "-", input=bc_yaml("wrongpw", repo="repo-wrongpw",
                                                      target="wrongpw-demo", schedule="0 0 1 1 *"))
        self.wait_phase("wrongpw", "Ready")
        env.kubectl("apply", "-f", "-", input=seed("backupsession.yaml")
                    .replace("instant-backupsession", "wrongpw-now").replace("pause-backup",
                                                                             "wrongpw"))
        bs = env.wait_for("session Failed", lambda: (lambda o: o if o and o.get(
            "status", {}).get("phase") == "Failed" else None)(
                env.get_json("backupsession", "-n", "demo", "wrongpw-now")), timeout=60)
        err = bs["status"]["targets"][0]["stats"][0]["error"]
        self.assertIn("wrong password", err)
        cond = {c["type"]: c for c in bs["status"]["conditions"]}["BackendRepositoryInitialized"]
        self.assertEqual(cond["status"], "False")
        r = env.kubectl("describe", "backupsession", "-n", "demo", "wrongpw-now")
        self.assertRegex(r.stdout, r"Warning\s+Host Backup Failed")
        env.kubectl("delete", "-n", "demo", "backupconfiguration", "wrongpw")

    def test_sidecar_denied_says_so_and_backs_off(self):
        """A sidecar whose credentials the API server refuses (its ServiceAccount
        deleted: 401) says so in its log and retries with a growing back-off,
        instead of a silent 2-second loop."""
        env = self.env
        env.kubectl("create", "serviceaccount", "-n", "demo", "denied-sa")
        deploy = DEPLOY.split("---")[1].replace("name: stash-demo", "name: denied-demo")
        deploy = deploy.replace("    spec:\n      containers:",
                                "    spec:\n      serviceAccountName: denied-sa\n      containers:")
        self.assertIn("serviceAccountName: denied-sa", deploy)
        env.kubectl("apply", "-f", "-", input=deploy)
        env.kubectl("apply", "-f", "-", input=bc_yaml("denied", target="denied-demo",
                                                      schedule="0 0 1 1 *"))
        self.wait_phase("denied", "Ready")
        binding = env.get_json("rolebinding", "-n", "demo", "stash-backup-denied")
        self.assertIn({"kind": "ServiceAccount", "name": "denied-sa", "namespace": "demo"},
                      binding["subjects"])

        def sidecar_log():
            pods = env.get_json("pod", "-n", "demo", "-l", "app=stash-demo") or {"items": []}
            for p in pods["items"]:
                if p["metadata"]["ownerReferences"][0]["name"].startswith("denied-demo") and \
                        len(p["spec"]["containers"]) == 2:
                    r = env.server.kubectl("logs", "-n", "demo", p["metadata"]["name"], "-c",
                                           "stash")
                    if "leading lock-backupconfiguration-denied-backup" in r.stdout:
                        return r.stdout
            return None
        env.wait_for("the sidecar leading", sidecar_log, timeout=60)
        env.kubectl("delete", "serviceaccount", "-n", "demo", "denied-sa")
        log = env.wait_for("denials backed off to 8 s", lambda: (
            lambda t: t if t and "retrying in 8s" in t else None)(sidecar_log()), timeout=90)
        self.assertRegex(log, r"denied by the API server: .*Unauthorized")
        for wait in ("2s", "4s", "8s"):
            self.assertIn("retrying in " + wait, log)
        env.kubectl("delete", "-n", "demo", "backupconfiguration", "denied")
        env.wait_for("Role removed with the BackupConfiguration", lambda: env.get_json(
            "role", "-n", "demo", "stash-backup-denied") is None, timeout=30)


if __name__ == "__main__":
    unittest.main()
