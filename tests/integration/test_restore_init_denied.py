"""A restore init container the API server denies says so on its RestoreSession (issue 13).

RBAC is enforced by `stash server`; the init container `stash-init` runs
with its pod's ServiceAccount token and the Role the operator made for the
RestoreSession (stash-restore-<name>). The test takes the rule for reading
the Repository out of that Role before the workload has a pod (the operator
does not watch its Roles, so it stays out until the test puts it back):

- the RestoreSession gets the condition StashInitContainerAuthorized=False
  and a Warning "Permission Denied" event, both naming the verb, the
  resource, the namespace and the ServiceAccount, as kube's Forbidden
  message does, and the Role to grant it in;
- the host is not recorded Failed (a permission can be granted later), the
  pod is not Initialized, and the node restarts the init container with
  growing delays (the init container's log's timestamps);
- with the rule back the restore completes (the data is back in the
  volume) and the condition turns True.
"""
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import STASH  # noqa: E402
from operator_env import OperatorTestMixin  # noqa: E402

NAME = "restore-denied"
ROLE = "stash-restore-" + NAME
CONDITION = "StashInitContainerAuthorized"
DENIAL = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\S* error run-restore: denied by "
                    r"the API server", re.M)
SESSION = json.dumps({
    "apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
    "metadata": {"name": NAME, "namespace": "demo"},
    "spec": {"repository": {"name": "gcs-repo"},
             "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment",
                                "name": "stash-demo"},
                        "volumeMounts": [{"name": "source-data", "mountPath": "/source/data"}],
                        "rules": [{"paths": ["/source/data"]}]}}})


class RestoreInitDenied(OperatorTestMixin, unittest.TestCase):
    def session(self):
        return self.env.get_json("restoresession", "-n", "demo", NAME) or {}

    def condition(self):
        for c in self.session().get("status", {}).get("conditions", []):
            if c["type"] == CONDITION:
                return c
        return None

    def pods(self):
        return [p for p in (self.env.get_json("pod", "-n", "demo", "-l", "app=stash-demo")
                            or {}).get("items", [])
                if not p["metadata"].get("deletionTimestamp")]

    def stash(self, *args, path_map=None):
        env = dict(os.environ, RESTIC_PASSWORD="changeit")
        if path_map:
            env["STASH_PATH_MAP"] = json.dumps(path_map)
        r = subprocess.run([STASH, "-r", self.env.repo_dir, *args], capture_output=True,
                           text=True, env=env, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_denied_init_container_sets_the_condition_and_recovers(self):
        env = self.env
        pvc = env.guide_workload(data="restored data\n")
        self.stash("init")
        self.stash("backup", "--host", "host-0", "/source/data", path_map={"/source/data": pvc})
        with open(os.path.join(pvc, "data.txt"), "w") as f:
            f.write("changed since the backup\n")
        # No pod until the Role is cut: the first init container must meet the denial.
        env.kubectl("scale", "deployment", "-n", "demo", "stash-demo", "--replicas=0")
        env.wait_for("no pods", lambda: not self.pods())
        env.kubectl("apply", "-f", "-", input=SESSION)
        env.wait_for("the init container injected", lambda: env.get_json(
            "deployment", "-n", "demo", "stash-demo")["spec"]["template"]["spec"].get(
                "initContainers"))
        env.wait_for("the operator's Role", lambda: env.get_json("role", "-n", "demo", ROLE))
        original = env.replace_role_rules(ROLE, lambda rules: [
            r for r in rules if r.get("resources") != ["repositories"]])
        self.assertEqual(len(env.get_json("role", "-n", "demo", ROLE)["rules"]),
                         len(original) - 1, original)
        env.kubectl("scale", "deployment", "-n", "demo", "stash-demo", "--replicas=1")

        cond, missing = env.wait_denied(
            self.condition, r'User "system:serviceaccount:demo:[a-z0-9-]+" cannot get resource '
            r'"repositories" in API group "stash.appscode.com" in the namespace "demo"', ROLE)
        self.assertIn("stash init container", cond["message"])
        events = env.wait_for("the Permission Denied event", lambda: [
            e for e in (env.get_json("events", "-n", "demo") or {}).get("items", [])
            if e["reason"] == "Permission Denied" and e["type"] == "Warning" and
            e["involvedObject"]["kind"] == "RestoreSession" and
            e["involvedObject"]["name"] == NAME and missing.group(0) in e["message"]])
        self.assertIn("stash init container", events[0]["message"])
        self.assertIn(CONDITION, env.kubectl("describe", "restoresession", "-n", "demo",
                                             NAME).stdout)
        # Denied is not failed: no host stats Failed, the pod not Initialized.
        for st in self.session().get("status", {}).get("stats", []):
            self.assertNotEqual(st.get("phase"), "Failed", st)
        pod = env.wait_for("the pod", lambda: (lambda p: p[0] if p else None)(self.pods()))
        initialized = [c["status"] for c in pod.get("status", {}).get("conditions", [])
                       if c["type"] == "Initialized"]
        self.assertEqual(initialized, ["False"], pod.get("status"))
        self.assertRegex(env.kubectl("get", "pod", "-n", "demo", pod["metadata"]["name"]).stdout,
                         r"Init:")
        # The node's restarts back off: each denied run waits longer than the last.
        def denials():
            text = ""
            for path in glob.glob(os.path.join(env.node_dir, "logs", "demo_%s_stash-init*" %
                                               pod["metadata"]["name"])):
                with open(path, errors="replace") as f:
                    text += f.read()
            got = DENIAL.findall(text)
            return got if len(got) >= 4 else None
        times = [datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f")
                 for t in env.wait_for("four denied runs", denials, timeout=40)[:4]]
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        print("denied init container runs: gaps %s s" % ["%.1f" % g for g in gaps],
              file=sys.stderr)
        self.assertGreater(gaps[2], gaps[0] * 2, gaps)

        # The rule back: the node's next restart of the init container restores.
        env.replace_role_rules(ROLE, lambda _: original)
        s = env.wait_for("RestoreSession final", lambda: (
            lambda s: s if s.get("status", {}).get("phase") in ("Succeeded", "Failed") else None)(
                self.session()), timeout=90)
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        cond = env.wait_for("%s=True" % CONDITION, lambda: (
            lambda c: c if c and c["status"] == "True" else None)(self.condition()))
        self.assertEqual(cond["reason"], "PermissionGranted")
        with open(os.path.join(pvc, "data.txt")) as f:
            self.assertEqual(f.read(), "restored data\n")


if __name__ == "__main__":
    unittest.main()
