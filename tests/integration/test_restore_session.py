"""RestoreSession end to end with the real kubectl against `stash server`
(operator and embedded node): the guide's backup, then a RestoreSession
brings the PVC back to the snapshot; a snapshot written by restic 0.14
restored the same way; bad input ends Failed or Invalid with the reason (and
the pod says why in `kubectl describe pod`); a backup tick during a restore is
held with its event and the next tick after it backs up; re-applying does
nothing and deleting removes the init container.

StatefulSet, Job mode and kill -9 are in test_restore_workloads.py.
"""
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from operator_env import OperatorEnv, seed  # noqa: E402


def restore_session(name, target, mount_path="/source/data", rules=None, volume="source-data",
                    repo="gcs-repo", kind="Deployment"):
    rules = rules if rules is not None else [{"paths": [mount_path]}]
    return json.dumps({
        "apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
        "metadata": {"name": name, "namespace": "demo"},
        "spec": {"repository": {"name": repo},
                 "target": {"ref": {"apiVersion": "apps/v1", "kind": kind, "name": target},
                            "volumeMounts": [{"name": volume, "mountPath": mount_path}],
                            "rules": rules}}})


def deployment(name, claim, mount_path, replicas=1):
    return ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: %s\n"
            "  namespace: demo\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n"
            "    requests:\n      storage: 1Gi\n---\n"
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  namespace: demo\n"
            "spec:\n  replicas: %d\n  selector:\n    matchLabels:\n      app: %s\n"
            "  template:\n    metadata:\n      labels:\n        app: %s\n    spec:\n"
            "      containers:\n      - name: app\n        image: busybox\n"
            "        volumeMounts:\n        - name: data\n          mountPath: %s\n"
            "      volumes:\n      - name: data\n        persistentVolumeClaim:\n"
            "          claimName: %s\n" % (claim, name, replicas, name, name, mount_path, claim))


class RestoreSessionGuide(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = OperatorEnv().start()
        env = cls.env
        env.create_namespace_and_secret()
        env.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        env.wait_for("PVC dir", lambda: os.path.isdir(env.pvc_dir("source-pvc")))
        env.kubectl("apply", "-f", "-", input=env.local_repository())

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()

    def session(self, name):
        return self.env.get_json("restoresession", "-n", "demo", name) or {}

    def wait_phase(self, name, phases, timeout=90):
        return self.env.wait_for("RestoreSession %s %s" % (name, "/".join(phases)), lambda: (
            lambda s: s if s.get("status", {}).get("phase") in phases else None)(
                self.session(name)), timeout=timeout)

    def condition(self, session, type_):
        for c in session.get("status", {}).get("conditions", []):
            if c["type"] == type_:
                return c
        return {}

    def pods(self, app):
        items = (self.env.get_json("pod", "-n", "demo", "-l", "app=" + app) or {}).get("items", [])
        return [p for p in items if "deletionTimestamp" not in p["metadata"]]

    def write(self, claim, rel, text):
        path = os.path.join(self.env.pvc_dir(claim), rel)
        with open(path, "w") as f:
            f.write(text)

    def read(self, claim, rel):
        with open(os.path.join(self.env.pvc_dir(claim), rel)) as f:
            return f.read()

    def test_1_guide_backup_then_restore(self):
        env = self.env
        self.write("source-pvc", "data.txt", "sample_data\n")
        self.write("source-pvc", "keep.txt", "as at the snapshot\n")
        bc = seed("backupconfiguration.yaml").replace('"*/5 * * * *"', '"*/3 * * * * *"')
        env.kubectl("apply", "-f", "-", input=bc)
        env.wait_for("a Succeeded BackupSession", lambda: [
            i for i in (env.get_json("backupsession", "-n", "demo") or {}).get("items", [])
            if i.get("status", {}).get("phase") == "Succeeded"], timeout=90)
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "-p", '{"spec": {"paused": true}}')
        env.wait_for("no backup running", lambda: all(
            i.get("status", {}).get("phase") != "Running"
            for i in (env.get_json("backupsession", "-n", "demo") or {}).get("items", [])))

        # The user loses a file and changes another.
        os.remove(os.path.join(env.pvc_dir("source-pvc"), "data.txt"))
        self.write("source-pvc", "keep.txt", "changed after the backup\n")
        before = {p["metadata"]["name"] for p in self.pods("stash-demo")}
        r = env.kubectl("apply", "-f", "-", input=restore_session("restore-demo", "stash-demo"))
        self.assertIn("restoresession.stash.appscode.com/restore-demo created", r.stdout)
        s = self.wait_phase("restore-demo", ["Succeeded", "Failed"])
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        self.assertEqual(self.read("source-pvc", "data.txt"), "sample_data\n")
        self.assertEqual(self.read("source-pvc", "keep.txt"), "as at the snapshot\n")
        self.assertEqual(s["status"]["totalHosts"], 1)
        self.assertEqual([(h["hostname"], h["phase"]) for h in s["status"]["stats"]],
                         [("host-0", "Succeeded")])
        self.assertTrue(s["status"]["sessionDuration"].endswith("s"))
        self.assertEqual(self.condition(s, "RestoreCompleted").get("status"), "True")

        # The pods rolled and restored before their containers started.
        deploy = env.get_json("deploy", "-n", "demo", "stash-demo")
        init = deploy["spec"]["template"]["spec"]["initContainers"]
        self.assertEqual(init[0]["name"], "stash-init")
        self.assertIn({"name": "source-data", "mountPath": "/source/data"}, init[0]["volumeMounts"])
        after = env.wait_for("3 new pods", lambda: (lambda p: p if len(p) == 3 and not p & before
                                                    else None)(
            {p["metadata"]["name"] for p in self.pods("stash-demo")}))
        # The session is Succeeded once the host's stats are written, just
        # before stash-init exits: wait for the pod's status to say so.
        init_state = env.wait_for("stash-init terminated", lambda: (lambda st: st if "terminated"
                                                                    in st else None)(
            env.get_json("pod", "-n", "demo", sorted(after)[0])["status"]
            ["initContainerStatuses"][0]["state"]))
        self.assertEqual(init_state["terminated"].get("exitCode"), 0, init_state)

        out = env.kubectl("get", "restoresession", "-n", "demo").stdout
        self.assertRegex(out, r"NAME\s+REPOSITORY\s+PHASE\s+DURATION\s+AGE")
        self.assertRegex(out, r"restore-demo\s+gcs-repo\s+Succeeded\s+\d")
        desc = env.kubectl("describe", "restoresession", "-n", "demo", "restore-demo").stdout
        for text in ("Phase:", "Succeeded", "Total Hosts:", "host-0", "Init-Container Injection "
                     "Succeeded", "RestoreSession Controller", "Host Restore Succeeded",
                     "restore succeeded for host \"host-0\""):
            self.assertIn(text, desc)
        desc = env.kubectl("describe", "pod", "-n", "demo", sorted(after)[0]).stdout
        self.assertRegex(desc, r"Init Containers:\s+stash-init:")
        self.assertRegex(desc, r"Reason:\s+Completed")

        # Re-applying the same session does nothing: no restore, no new pods.
        self.write("source-pvc", "keep.txt", "changed after the restore\n")
        rv = env.get_json("restoresession", "-n", "demo", "restore-demo")["metadata"][
            "resourceVersion"]
        r = env.kubectl("apply", "-f", "-", input=restore_session("restore-demo", "stash-demo"))
        self.assertIn("unchanged", r.stdout)
        # No write, so no watch event: nothing for the controller to act on.
        self.assertEqual(env.get_json("restoresession", "-n", "demo", "restore-demo")["metadata"][
            "resourceVersion"], rv)
        self.assertEqual({p["metadata"]["name"] for p in self.pods("stash-demo")}, after)
        self.assertEqual(self.read("source-pvc", "keep.txt"), "changed after the restore\n")

        # Deleting it removes the init container; the pods roll back.
        env.kubectl("delete", "restoresession", "-n", "demo", "restore-demo")
        env.wait_for("init container removed", lambda: not (env.get_json(
            "deploy", "-n", "demo", "stash-demo") or {}).get("spec", {}).get("template", {}).get(
            "spec", {}).get("initContainers"))
        env.wait_for("pods without stash-init", lambda: (lambda p: len(p) == 3 and all(
            not x["spec"].get("initContainers") for x in p))(self.pods("stash-demo")))

    def test_2_restic_snapshot(self):
        """Snapshots restic 0.14 wrote into the Repository, restored by id and
        by a rule naming restic's host."""
        env = self.env
        src = tempfile.mkdtemp(prefix="stash-restic-src-")
        with open(os.path.join(src, "from-restic.txt"), "w") as f:
            f.write("written by restic 0.14\n")
        os.makedirs(os.path.join(src, "sub"))
        with open(os.path.join(src, "sub", "b.bin"), "wb") as f:
            f.write(os.urandom(300000))
        r = env.restic("backup", "--host", "host-0", "--json", src)
        self.assertEqual(r.returncode, 0, r.stderr)
        snap = [json.loads(l) for l in r.stdout.splitlines() if '"summary"' in l][0]["snapshot_id"]
        env.kubectl("apply", "-f", "-", input=deployment("restic-demo", "restic-pvc", src))
        env.wait_for("restic-pvc dir", lambda: os.path.isdir(env.pvc_dir("restic-pvc")))
        env.kubectl("apply", "-f", "-", input=restore_session(
            "restore-restic", "restic-demo", mount_path=src, volume="data",
            rules=[{"snapshots": [snap[:8]]}]))
        s = self.wait_phase("restore-restic", ["Succeeded", "Failed"])
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        self.assertEqual(self.read("restic-pvc", "from-restic.txt"), "written by restic 0.14\n")
        with open(os.path.join(src, "sub", "b.bin"), "rb") as a, \
                open(os.path.join(env.pvc_dir("restic-pvc"), "sub", "b.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())

        # restic's newer snapshot of that path under another host name, chosen
        # by a rule naming the host (sourceHost + paths), not by id.
        with open(os.path.join(src, "from-restic.txt"), "w") as f:
            f.write("restic, later, as restic-laptop\n")
        r = env.restic("backup", "--host", "restic-laptop", src)
        self.assertEqual(r.returncode, 0, r.stderr)
        env.kubectl("delete", "restoresession", "-n", "demo", "restore-restic")
        env.kubectl("apply", "-f", "-", input=restore_session(
            "restore-restic-host", "restic-demo", mount_path=src, volume="data",
            rules=[{"sourceHost": "restic-laptop", "paths": [src]}]))
        s = self.wait_phase("restore-restic-host", ["Succeeded", "Failed"])
        self.assertEqual(s["status"]["phase"], "Succeeded", json.dumps(s["status"], indent=1))
        self.assertEqual(self.read("restic-pvc", "from-restic.txt"),
                         "restic, later, as restic-laptop\n")
        env.kubectl("delete", "restoresession", "-n", "demo", "restore-restic-host")

    def test_3_bad_input(self):
        env = self.env
        env.kubectl("apply", "-f", "-", input=deployment("bad-demo", "bad-pvc", "/data"))
        # A missing snapshot id: Failed, and the reason on the session and the pod.
        env.kubectl("apply", "-f", "-", input=restore_session(
            "missing-snapshot", "bad-demo", mount_path="/data", volume="data",
            rules=[{"snapshots": ["deadbeef"]}]))
        s = self.wait_phase("missing-snapshot", ["Succeeded", "Failed"])
        self.assertEqual(s["status"]["phase"], "Failed")
        self.assertIn('snapshot "deadbeef" is not in the repository', s["status"]["stats"][0]["error"])
        self.assertIn("deadbeef", self.condition(s, "RestoreCompleted")["message"])
        pod = env.wait_for("the pod past its init container", lambda: [
            p for p in self.pods("bad-demo") if p.get("status", {}).get("initContainerStatuses")
            and p["status"]["initContainerStatuses"][0].get("lastState", {}).get("terminated")])[0]
        desc = env.kubectl("describe", "pod", "-n", "demo", pod["metadata"]["name"]).stdout
        self.assertRegex(desc, r"Last State:\s+Terminated")
        self.assertRegex(desc, r"Exit Code:\s+1")
        self.assertIn("deadbeef", desc)
        env.kubectl("delete", "restoresession", "-n", "demo", "missing-snapshot")

        # A wrong password: Failed, saying so.
        env.kubectl("create", "secret", "generic", "-n", "demo", "wrong-secret",
                    "--from-literal=RESTIC_PASSWORD=not-it")
        env.kubectl("apply", "-f", "-", input=env.local_repository(name="wrong-repo",
                                                                   secret="wrong-secret"))
        env.kubectl("apply", "-f", "-", input=restore_session(
            "wrong-password", "bad-demo", mount_path="/data", volume="data", repo="wrong-repo"))
        s = self.wait_phase("wrong-password", ["Succeeded", "Failed"])
        self.assertEqual(s["status"]["phase"], "Failed")
        self.assertRegex(s["status"]["stats"][0]["error"], "wrong password|no key found")
        env.kubectl("delete", "restoresession", "-n", "demo", "wrong-password")

        # A missing Repository and invalid rules: Invalid, with the condition
        # naming the problem, and no init container.
        env.kubectl("apply", "-f", "-", input=restore_session(
            "no-repo", "bad-demo", mount_path="/data", volume="data", repo="nope"))
        s = self.wait_phase("no-repo", ["Invalid"])
        c = self.condition(s, "RepositoryFound")
        self.assertEqual((c["status"], c["message"]), ("False", "Repository demo/nope does not exist."))
        # Invalid rules are refused at apply by Stash's validating webhook
        # (the controller's own check stays behind it for other API servers).
        r = env.kubectl("apply", "-f", "-", check=False, input=restore_session(
            "bad-rules", "bad-demo", mount_path="/data", volume="data",
            rules=[{"paths": ["/data"]}, {"sourceHost": "host-1", "paths": ["/data"]}]))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('admission webhook "restoresession.admission.stash.appscode.com" denied',
                      r.stderr)
        self.assertIn("2 rules found with empty targetHosts", r.stderr)
        self.assertIsNone(env.get_json("restoresession", "-n", "demo", "bad-rules"))
        self.assertFalse((env.get_json("deploy", "-n", "demo", "bad-demo") or {})["spec"][
            "template"]["spec"].get("initContainers"))

    def test_4_backup_held_during_restore(self):
        """A tick while the restore runs takes no backup (Normal event saying
        why, spec.paused untouched); the next tick after it backs up."""
        env = self.env
        # Hold the restore in its init container: another holder owns its Lease.
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        env.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "lock-deployment-stash-demo-restore", "namespace": "demo"},
            "spec": {"holderIdentity": "someone-else", "leaseDurationSeconds": 3600,
                     "acquireTime": now, "renewTime": now}}))
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "-p", '{"spec": {"paused": false}}')
        env.kubectl("apply", "-f", "-", input=restore_session("held-restore", "stash-demo"))
        self.wait_phase("held-restore", ["Running"])
        started = time.time()

        def held_events():
            ev = env.get_json("events", "-n", "demo", "--field-selector",
                              "involvedObject.name=pause-backup") or {}
            return [e for e in ev.get("items", []) if e["reason"] == "Backup Skipped" and
                    "held-restore" in e["message"]]
        events = env.wait_for("a held tick", held_events, timeout=30)
        self.assertEqual(events[0]["type"], "Normal")
        self.assertIn("RestoreSession demo/held-restore is restoring Deployment demo/stash-demo",
                      events[0]["message"])
        bc = env.get_json("backupconfiguration", "-n", "demo", "pause-backup")
        self.assertFalse(bc["spec"].get("paused", False))
        sessions_before = {i["metadata"]["name"] for i in (
            env.get_json("backupsession", "-n", "demo") or {}).get("items", [])}
        # Let the restore go.
        env.kubectl("delete", "lease", "-n", "demo", "lock-deployment-stash-demo-restore")
        s = self.wait_phase("held-restore", ["Succeeded", "Failed"])
        self.assertEqual(s["status"]["phase"], "Succeeded")
        done = time.time()
        self.assertGreater(done - started, 2)
        new = env.wait_for("a backup after the restore", lambda: [
            i for i in (env.get_json("backupsession", "-n", "demo") or {}).get("items", [])
            if i["metadata"]["name"] not in sessions_before and
            i.get("status", {}).get("phase") == "Succeeded"], timeout=60)
        self.assertTrue(new)
        env.kubectl("patch", "backupconfiguration", "-n", "demo", "pause-backup", "--type=merge",
                    "-p", '{"spec": {"paused": true}}')


if __name__ == "__main__":
    unittest.main()
