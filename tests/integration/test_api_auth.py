"""Authentication and RBAC in `stash server`, through the real kubectl.

ServiceAccounts (a `default` one per namespace), `kubectl create token`,
`kubectl auth whoami`, `kubectl auth can-i` (also with --as and --list),
Roles/RoleBindings that grant named objects only, kube's 403 messages, and
tokens that stop working with their bound object or their duration.
"""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api_server import KUBECTL, ApiServer  # noqa: E402

SA = "system:serviceaccount:demo:default"


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        r = cls.server.kubectl("create", "ns", "demo")
        assert r.returncode == 0, r.stderr
        deadline = time.time() + 30
        while cls.server.kubectl("get", "sa", "default", "-n", "demo").returncode != 0:
            assert time.time() < deadline, "no default ServiceAccount in demo"
            time.sleep(0.1)
        for name in ("mine", "theirs"):
            r = cls.server.kubectl("create", "secret", "generic", name, "-n", "demo",
                                   "--from-literal=k=v")
            assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def token(self, *args):
        r = self.server.kubectl("create", "token", "default", "-n", "demo", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def as_token(self, token, *args):
        """kubectl with a kubeconfig holding `token` instead of the admin's."""
        path = os.path.join(self.server.home, "sa-kubeconfig-%d" % abs(hash(token)))
        with open(self.server.kubeconfig) as f:
            text = f.read().replace(self.server.token, token)
        with open(path, "w") as f:
            f.write(text)
        env = self.server.env()
        env["KUBECONFIG"] = path
        return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env,
                              timeout=60)

    def test_whoami(self):
        r = self.server.kubectl("auth", "whoami")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"Username\s+stash-admin")
        self.assertRegex(r.stdout, r"Groups\s+\[system:masters system:authenticated\]")
        r = self.as_token(self.token(), "auth", "whoami")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"Username\s+" + SA)
        self.assertIn("[system:serviceaccounts system:serviceaccounts:demo system:authenticated]",
                      r.stdout)

    def test_service_account_is_forbidden_with_kubes_message(self):
        token = self.token()
        r = self.as_token(token, "get", "secrets", "-n", "demo")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr,
                         'Error from server (Forbidden): secrets is forbidden: User "%s" cannot list '
                         'resource "secrets" in API group "" in the namespace "demo"\n' % SA)
        r = self.as_token(token, "delete", "secret", "theirs", "-n", "demo")
        self.assertIn('secrets "theirs" is forbidden: User "%s" cannot delete resource "secrets" '
                      'in API group "" in the namespace "demo"' % SA, r.stderr)

    def test_can_i_as_a_service_account(self):
        r = self.server.kubectl("auth", "can-i", "delete", "secrets", "-n", "demo", "--as=" + SA)
        self.assertEqual((r.returncode, r.stdout), (1, "no\n"), r.stderr)
        r = self.server.kubectl("auth", "can-i", "delete", "secrets", "-n", "demo")
        self.assertEqual((r.returncode, r.stdout), (0, "yes\n"), r.stderr)
        # A ServiceAccount may not impersonate the admin's way round.
        r = self.as_token(self.token(), "auth", "can-i", "get", "pods", "--as=someone")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('users "someone" is forbidden: User "%s" cannot impersonate resource '
                      '"users" in API group "" at the cluster scope' % SA, r.stderr)

    def test_role_grants_only_the_named_secret(self):
        r = self.server.kubectl("create", "role", "read-mine", "-n", "demo", "--verb=get",
                                "--resource=secrets", "--resource-name=mine")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.kubectl("create", "rolebinding", "read-mine", "-n", "demo",
                                "--role=read-mine", "--serviceaccount=demo:default")
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            token = self.token()
            r = self.as_token(token, "get", "secret", "mine", "-n", "demo", "-o", "name")
            self.assertEqual((r.returncode, r.stdout), (0, "secret/mine\n"), r.stderr)
            r = self.as_token(token, "get", "secret", "theirs", "-n", "demo")
            self.assertIn('secrets "theirs" is forbidden', r.stderr)
            r = self.server.kubectl("auth", "can-i", "get", "secret/mine", "-n", "demo",
                                    "--as=" + SA)
            self.assertEqual(r.stdout, "yes\n", r.stderr)
            r = self.server.kubectl("auth", "can-i", "--list", "-n", "demo", "--as=" + SA)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"secrets\s+\[\]\s+\[mine\]\s+\[get\]")
            r = self.server.kubectl("get", "rolebinding", "read-mine", "-n", "demo", "-o", "wide")
            self.assertRegex(r.stdout, r"read-mine\s+Role/read-mine\s+\S+\s+demo/default")
        finally:
            self.server.kubectl("delete", "rolebinding,role", "read-mine", "-n", "demo")

    def test_token_durations_and_bound_objects(self):
        r = self.server.kubectl("create", "token", "default", "-n", "demo", "--duration=1m")
        self.assertEqual(r.returncode, 1)
        self.assertIn("may not specify a duration less than 10 minutes", r.stderr)
        r = self.server.kubectl("create", "secret", "generic", "holder", "-n", "demo")
        self.assertEqual(r.returncode, 0, r.stderr)
        token = self.token("--bound-object-kind=Secret", "--bound-object-name=holder",
                           "--duration=20m")
        r = self.as_token(token, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
        self.assertEqual(r.stdout, SA, r.stderr)
        self.assertEqual(self.server.kubectl("delete", "secret", "holder", "-n", "demo").returncode,
                         0)
        r = self.as_token(token, "auth", "whoami")
        self.assertIn("You must be logged in to the server (Unauthorized)", r.stderr)
        r = self.server.kubectl("create", "token", "nobody", "-n", "demo")
        self.assertEqual(r.stderr,
                         'error: failed to create token: serviceaccounts "nobody" not found\n')

    def test_bootstrap_policy_is_listed(self):
        r = self.server.kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "wide")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"cluster-admin\s+ClusterRole/cluster-admin\s+\S+\s+\s*system:masters")
        r = self.server.kubectl("get", "sa", "-n", "demo")
        self.assertRegex(r.stdout, r"NAME\s+SECRETS\s+AGE\ndefault\s+0\s+")


if __name__ == "__main__":
    unittest.main()
