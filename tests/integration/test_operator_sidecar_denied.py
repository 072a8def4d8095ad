"""A backup sidecar the API server denies says so, where a user looks (issue 13).

RBAC is enforced by `stash server`; the sidecar runs with its pod's
ServiceAccount token and the Role the operator made for the
BackupConfiguration. The test removes the rule for the sidecar's Lease from
that Role (the operator does not watch its Roles, and a status change is no
reason to reconcile, so it stays removed until the test puts it back):

- the BackupConfiguration gets the condition StashSidecarAuthorized=False and
  a Warning "Permission Denied" event, both naming the verb, the resource,
  the namespace and the ServiceAccount, as kube's Forbidden message does;
- the sidecar's container is not Ready (`kubectl get pod`'s READY counts
  it out), as with a failing readiness probe;
- its retries back off: each wait is longer than the one before (the log's
  timestamps), not a fixed 2 s loop;
- with the rule back the condition turns True, the container Ready, and an
  instant BackupSession Succeeds.
"""
import datetime
import glob
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorTestMixin, seed  # noqa: E402

ROLE = "stash-backup-pause-backup"
LEASE = "lock-backupconfiguration-pause-backup-backup"
CONDITION = "StashSidecarAuthorized"
DENIAL = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\S* error run-backup: denied by "
                    r"the API server.*retrying in (\d+)s$", re.M)


class SidecarDenied(OperatorTestMixin, unittest.TestCase):
    def condition(self):
        bc = self.env.get_json("backupconfiguration", "-n", "demo", "pause-backup") or {}
        for c in bc.get("status", {}).get("conditions", []):
            if c["type"] == CONDITION:
                return c
        return None

    def sidecar_pod(self):
        """(name, the stash container's ready) of the one running pod with a sidecar."""
        pods = self.env.get_json("pod", "-n", "demo") or {}
        for p in pods.get("items", []):
            if p["metadata"].get("deletionTimestamp"):
                continue
            for c in p.get("status", {}).get("containerStatuses", []):
                if c["name"] == "stash" and "running" in c.get("state", {}):
                    return p["metadata"]["name"], c["ready"]
        return None

    def sidecar_log(self, pod):
        text = ""
        for path in glob.glob(os.path.join(self.env.node_dir, "logs", "demo_%s_stash*" % pod)):
            with open(path, errors="replace") as f:
                text += f.read()
        return text

    def instant_session(self, name):
        self.env.kubectl("create", "-f", "-", input=seed("backupsession.yaml").replace(
            "instant-backupsession", name))
        return self.env.wait_for("BackupSession %s Succeeded" % name, lambda: (
            self.env.get_json("backupsession", "-n", "demo", name) or {}).get(
                "status", {}).get("phase") == "Succeeded", timeout=90)

    def test_a_denied_sidecar_sets_the_condition_goes_unready_and_backs_off(self):
        env = self.env
        env.guide_workload()
        # One replica: one sidecar, one log to read.
        env.kubectl("scale", "deployment", "-n", "demo", "stash-demo", "--replicas=1")
        env.kubectl("apply", "-f", "-", input=seed("backupconfiguration.yaml"))
        env.wait_for("a Ready sidecar", lambda: (lambda p: p and p[1])(self.sidecar_pod()))
        self.instant_session("before")
        self.assertIsNone(self.condition(), "a sidecar that was never denied adds no condition")
        pod, _ = self.sidecar_pod()

        original = env.replace_role_rules(ROLE, lambda rules: [
            r for r in rules if LEASE not in r.get("resourceNames", [])])
        self.assertEqual(len(env.get_json("role", "-n", "demo", ROLE)["rules"]),
                         len(original) - 1)

        # The condition and the event name the permission (the lease is renewed
        # with an update, then read again with a get: either verb).
        _, missing = env.wait_denied(
            self.condition, r'User "system:serviceaccount:demo:default" cannot (get|update) '
            r'resource "leases" in API group "coordination.k8s.io" in the namespace "demo"',
            ROLE, timeout=90)
        events = env.wait_for("the Permission Denied event", lambda: [
            e for e in (env.get_json("events", "-n", "demo") or {}).get("items", [])
            if e["reason"] == "Permission Denied" and e["type"] == "Warning" and
            e["involvedObject"]["name"] == "pause-backup" and
            missing.group(0) in e["message"]])
        self.assertIn("stash sidecar", events[0]["message"])
        describe = env.kubectl("describe", "backupconfiguration", "-n", "demo",
                               "pause-backup").stdout
        self.assertIn(CONDITION, describe)

        # Not Ready while denied, as a failing readiness probe makes it.
        env.wait_for("the sidecar container not Ready", lambda: (
            lambda p: p and p[1] is False)(self.sidecar_pod()), timeout=60)
        pod, _ = self.sidecar_pod()
        self.assertRegex(env.kubectl("get", "pod", "-n", "demo", pod).stdout,
                         r"%s\s+0/2\s" % re.escape(pod))

        # Backing off: three denials in one process, each wait longer than the last.
        def denials():
            got = DENIAL.findall(self.sidecar_log(pod))
            return got if len(got) >= 3 else None
        got = env.wait_for("three denied attempts", denials, timeout=90)[-3:]
        times = [datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f") for t, _ in got]
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        waits = [int(w) for _, w in got]
        print("denied retries: waits %s s, measured gaps %s s" % (
            waits, ["%.1f" % g for g in gaps]), file=sys.stderr)
        self.assertEqual(waits[1:], [w * 2 for w in waits[:-1]], waits)
        for shorter, longer in zip(gaps, gaps[1:]):
            self.assertGreater(longer, shorter * 1.5, gaps)
        # The operator repaired nothing meanwhile: the denial is the test's.
        self.assertEqual(len(env.get_json("role", "-n", "demo", ROLE)["rules"]),
                         len(original) - 1)

        # The rule back: at the next retry the condition clears, the container
        # is Ready, and backups run again.
        env.replace_role_rules(ROLE, lambda _: original)
        cond = env.wait_for("StashSidecarAuthorized=True", lambda: (
            lambda c: c if c and c["status"] == "True" else None)(self.condition()), timeout=120)
        self.assertEqual(cond["reason"], "PermissionGranted")
        env.wait_for("a Ready sidecar again", lambda: (
            lambda p: p and p[1])(self.sidecar_pod()), timeout=60)
        self.instant_session("after")


if __name__ == "__main__":
    unittest.main()
