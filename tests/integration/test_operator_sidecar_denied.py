"""A backup sidecar the API server denies says so, where a user looks (issue 13).

RBAC is enforced by `stash server`; the sidecar runs with its pod's
ServiceAccount token and the Role the operator made for the
BackupConfiguration. Once the sidecar is Ready and leads (it holds its Lease),
the test takes rules out of that Role (the operator does not watch its Roles,
and a status change is no reason to reconcile, so they stay out until the test
puts them back), first `update` of the Lease (the renewal), then `list` and
`watch` of BackupSessions (its cache's next re-list, its watches being
renewed every few seconds here: STASH_WATCH_TIMEOUT_SECONDS). Each time:

- the BackupConfiguration gets the condition StashSidecarAuthorized=False and
  a Warning "Permission Denied" event, both naming the verb, the resource,
  the namespace and the ServiceAccount, as kube's Forbidden message does;
- the sidecar's readinessProbe (`stash sidecar-ready`, in the Deployment's
  pod template, run by the node as a kubelet runs it) fails, also when run
  by hand in the sidecar's environment, and `kubectl get pod`'s READY counts
  the container out;
- the sidecar does not exit (restart count 0) and its retries back off: each
  wait is longer than the one before (the log's timestamps), not a 2 s loop;
- with the rule back the condition turns True, the probe passes, the
  container is Ready, and an instant BackupSession Succeeds.
"""
import datetime
import glob
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH  # noqa: E402
from operator_env import OperatorTestMixin, seed  # noqa: E402

# The sidecar's watches end (and are renewed, RBAC checked) every 3 s.
os.environ["STASH_WATCH_TIMEOUT_SECONDS"] = "3"

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
        status = self.sidecar_status()
        return status and (status[0], status[1]["ready"])

    def sidecar_status(self):
        """(pod name, the stash container's status) of the one running pod with a sidecar."""
        pods = self.env.get_json("pod", "-n", "demo") or {}
        for p in pods.get("items", []):
            if p["metadata"].get("deletionTimestamp"):
                continue
            for c in p.get("status", {}).get("containerStatuses", []):
                if c["name"] == "stash" and "running" in c.get("state", {}):
                    return p["metadata"]["name"], c
        return None

    def probe(self, pod):
        """Runs the stash container's readinessProbe as the node runs it: its
        command (stash's binary for the image's) in the sidecar process's own
        environment; returns the completed process."""
        tmpl = self.env.get_json("deployment", "-n", "demo", "stash-demo")["spec"]["template"]
        sidecar = [c for c in tmpl["spec"]["containers"] if c["name"] == "stash"][0]
        command = sidecar["readinessProbe"]["exec"]["command"]
        environ = [e for _, argv, e in self.env.node_processes()
                   if "run-backup" in argv and e.get("POD_NAME") == pod]
        self.assertEqual(len(environ), 1, "one sidecar process of pod %s" % pod)
        return subprocess.run([STASH, *command[1:]], env=environ[0], capture_output=True,
                              text=True, timeout=60)

    def assert_denied_and_recovers(self, pod, original, denial, since=0):
        """With Role rules cut (`original`: all of them), the condition and an
        event name `denial`, the probe fails, READY drops, retries back off
        in the same process; with the rules back all recovers."""
        env = self.env
        _, missing = env.wait_denied(self.condition, denial, ROLE, timeout=90)
        events = env.wait_for("the Permission Denied event", lambda: [
            e for e in (env.get_json("events", "-n", "demo") or {}).get("items", [])
            if e["reason"] == "Permission Denied" and e["type"] == "Warning" and
            e["involvedObject"]["name"] == "pause-backup" and
            missing.group(0) in e["message"]])
        self.assertIn("stash sidecar", events[0]["message"])
        describe = env.kubectl("describe", "backupconfiguration", "-n", "demo",
                               "pause-backup").stdout
        self.assertIn(CONDITION, describe)

        # Not Ready while denied: the readinessProbe fails, saying why.
        env.wait_for("the sidecar container not Ready", lambda: (
            lambda p: p and p[1] is False)(self.sidecar_pod()), timeout=60)
        self.assertRegex(env.kubectl("get", "pod", "-n", "demo", pod).stdout,
                         r"%s\s+0/2\s" % re.escape(pod))
        probe = self.probe(pod)
        self.assertEqual(probe.returncode, 1, probe)
        self.assertRegex(probe.stderr, denial)  # the latest denial (watch, then list)
        unhealthy = [e for e in (env.get_json("events", "-n", "demo") or {}).get("items", [])
                     if e["reason"] == "Unhealthy" and e["involvedObject"]["name"] == pod]
        self.assertTrue(unhealthy, "kubelet's Unhealthy event on the pod")
        self.assertIn("Readiness probe failed", unhealthy[0]["message"])

        # Backing off: three denials in one process, each wait longer than the last.
        def denials():
            got = DENIAL.findall(self.sidecar_log(pod)[since:])
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
        # The operator repaired nothing meanwhile, and the sidecar never exited.
        self.assertNotEqual(env.get_json("role", "-n", "demo", ROLE)["rules"], original)
        self.assertEqual(self.sidecar_status()[1]["restartCount"], 0)

        # The rules back: at the next retry the condition clears, the probe
        # passes, the container is Ready, and backups run again.
        env.replace_role_rules(ROLE, lambda _: original)
        cond = env.wait_for("StashSidecarAuthorized=True", lambda: (
            lambda c: c if c and c["status"] == "True" else None)(self.condition()), timeout=120)
        self.assertEqual(cond["reason"], "PermissionGranted")
        env.wait_for("a Ready sidecar again", lambda: (
            lambda p: p and p[1])(self.sidecar_pod()), timeout=60)
        probe = self.probe(pod)
        self.assertEqual(probe.returncode, 0, probe)
        self.assertEqual(self.sidecar_status()[1]["restartCount"], 0)

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

    def test_a_sidecar_denied_after_start_sets_the_condition_goes_unready_and_backs_off(self):
        env = self.env
        env.guide_workload()
        # One replica: one sidecar, one log to read.
        env.kubectl("scale", "deployment", "-n", "demo", "stash-demo", "--replicas=1")
        # No tick during the test: the operator's reconcile at a tick would
        # put the Role's rules back before the sidecar meets their absence.
        env.kubectl("apply", "-f", "-", input=seed("backupconfiguration.yaml").replace(
            '"*/5 * * * *"', '"0 0 1 1 *"'))
        env.wait_for("a Ready sidecar", lambda: (lambda p: p and p[1])(self.sidecar_pod()))
        self.instant_session("before")
        self.assertIsNone(self.condition(), "a sidecar that was never denied adds no condition")
        pod, _ = self.sidecar_pod()
        # The pod template has the readinessProbe a kubelet runs.
        tmpl = env.get_json("deployment", "-n", "demo", "stash-demo")["spec"]["template"]
        sidecar = [c for c in tmpl["spec"]["containers"] if c["name"] == "stash"][0]
        self.assertEqual(sidecar["readinessProbe"]["exec"]["command"],
                         ["/usr/local/bin/stash", "sidecar-ready"])
        self.assertEqual(self.probe(pod).returncode, 0)

        # The leader's Lease renewal is refused: `update` of the Lease is cut.
        def without_lease_update(rules):
            out = []
            for r in rules:
                if LEASE in r.get("resourceNames", []):
                    r = dict(r, verbs=[v for v in r["verbs"] if v != "update"])
                out.append(r)
            return out
        original = env.replace_role_rules(ROLE, without_lease_update)
        self.assert_denied_and_recovers(
            pod, original, r'User "system:serviceaccount:demo:default" cannot update '
            r'resource "leases" in API group "coordination.k8s.io" in the namespace "demo"')
        self.instant_session("after-lease")

        # The cache of BackupSessions can no longer re-list or watch.
        since = len(self.sidecar_log(pod))
        env.replace_role_rules(ROLE, lambda rules: [
            dict(r, verbs=[v for v in r["verbs"] if v not in ("list", "watch")])
            if r.get("resources") == ["backupsessions"] else r for r in rules])
        self.assert_denied_and_recovers(
            pod, original, r'User "system:serviceaccount:demo:default" cannot (list|watch) '
            r'resource "backupsessions" in API group "stash.appscode.com" in the namespace '
            r'"demo"', since=since)
        self.instant_session("after-watch")


if __name__ == "__main__":
    unittest.main()
