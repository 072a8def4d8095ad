"""Locks interoperate with restic 0.14 both ways.

A process is caught holding its lock by watching locks/ and stopping it with
SIGSTOP during the 200 ms both tools wait after writing their lock; the other
tool must then refuse, naming the holder. A lock left by a killed process is
stale (its pid is gone on this host): `stash unlock` removes it, while a lock
of a live process survives `stash unlock` and goes only with --remove-all.
"""
import os
import shutil
import signal
import tempfile
import unittest

from enginelib import hold_lock
from enginelib import lock_files as locks
from test_retention_forget import (STASH, TestRepo, env, make_base_repo, must, restic, stash)


def start_and_catch_lock(argv):
    return hold_lock(argv, env())


@unittest.skipIf(shutil.which("restic") is None, "restic not installed")
class LockInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-locks-")
        cls.base, cls.tree = make_base_repo(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def repo_with_snapshots(self, name, n=6):
        path = os.path.join(self.tmp, name)
        shutil.copytree(self.base, path)
        r = TestRepo(path)
        for i in range(n):
            r.write_unpacked("snapshots", {"time": "2024-01-%02dT10:00:00Z" % (i + 1),
                                           "tree": self.tree, "paths": ["/srv"],
                                           "hostname": "h", "username": "root"})
        return path

    def test_restic_refuses_while_stash_holds_an_exclusive_lock(self):
        repo = self.repo_with_snapshots("stash-holds")
        holder = start_and_catch_lock([STASH, "-r", repo, "forget", "--keep-last", "3"])
        try:
            for args in (["forget", "--keep-last", "1"], ["prune"], ["backup", self.tmp]):
                p = restic(repo, *args)
                self.assertNotEqual(p.returncode, 0, args)
                self.assertIn(b"repository is already locked exclusively by PID %d" % holder.pid,
                              p.stderr)
            # A live holder's lock is not stale: plain unlock keeps it.
            must(stash(repo, "unlock"))
            self.assertEqual(len(locks(repo)), 1)
        finally:
            holder.send_signal(signal.SIGCONT)
            out, err = holder.communicate(timeout=60)
        self.assertEqual(holder.returncode, 0, err)
        self.assertEqual(locks(repo), [])  # released on exit
        self.assertEqual(len(os.listdir(os.path.join(repo, "snapshots"))), 3)

    def test_stash_refuses_while_restic_holds_a_lock_and_names_it(self):
        repo = self.repo_with_snapshots("restic-holds")
        holder = start_and_catch_lock(["restic", "-r", repo, "--no-cache", "forget",
                                       "--keep-last", "2"])
        try:
            for args in (["forget", "--keep-last", "1"], ["prune"]):
                p = stash(repo, *args)
                self.assertEqual(p.returncode, 1, args)
                err = p.stderr.decode()
                self.assertIn("repository is already locked exclusively by PID %d on %s" % (
                    holder.pid, os.uname().nodename), err)
                self.assertIn("ago)", err)
                self.assertIn("`unlock`", err)
            must(stash(repo, "unlock"))
            self.assertEqual(len(locks(repo)), 1)
        finally:
            holder.send_signal(signal.SIGCONT)
            holder.communicate(timeout=60)
        self.assertEqual(holder.returncode, 0)
        self.assertEqual(locks(repo), [])

    def test_restore_and_check_wait_for_an_exclusive_lock(self):
        repo = self.repo_with_snapshots("shared")
        holder = start_and_catch_lock(["restic", "-r", repo, "--no-cache", "forget",
                                       "--keep-last", "2"])
        source = os.path.join(self.tmp, "source")
        os.makedirs(source, exist_ok=True)
        try:
            for args in (["check"], ["restore", "latest", "--target",
                                     os.path.join(self.tmp, "blocked")], ["backup", source]):
                p = stash(repo, *args)
                self.assertEqual(p.returncode, 1, args)
                # restic's words, once, with no "Fatal: " before them.
                self.assertTrue(p.stderr.decode().startswith(
                    "unable to create lock in backend: repository is already locked "
                    "exclusively by PID %d" % holder.pid), p.stderr)
        finally:
            holder.send_signal(signal.SIGCONT)
            holder.communicate(timeout=60)
        # Unopposed, both run and leave no lock behind.
        must(stash(repo, "check"))
        must(stash(repo, "restore", "latest", "--target", os.path.join(self.tmp, "free")))
        self.assertEqual(locks(repo), [])
        # While stash's restore holds its shared lock, restic's forget must wait.
        holder = start_and_catch_lock([STASH, "-r", repo, "restore", "latest", "--target",
                                       os.path.join(self.tmp, "holding")])
        try:
            p = restic(repo, "forget", "--keep-last", "1")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"repository is already locked by PID %d" % holder.pid, p.stderr)
        finally:
            holder.send_signal(signal.SIGCONT)
            holder.communicate(timeout=60)
        self.assertEqual(holder.returncode, 0)
        self.assertEqual(locks(repo), [])

    def test_check_takes_an_exclusive_lock_as_restic_does(self):
        # A reader's (here restic's restore) shared lock keeps check out, for
        # restic 0.14's check and stash's alike: check must not see another
        # process's snapshot before its index, nor a prune half done.
        repo = self.repo_with_snapshots("check-exclusive")
        holder = start_and_catch_lock(["restic", "-r", repo, "--no-cache", "restore", "latest",
                                       "--target", os.path.join(self.tmp, "reading")])
        try:
            r = restic(repo, "check")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(b"repository is already locked by PID %d" % holder.pid, r.stderr)
            p = stash(repo, "check")
            self.assertEqual(p.returncode, 1)
            self.assertIn("repository is already locked by PID %d" % holder.pid,
                          p.stderr.decode())
        finally:
            holder.send_signal(signal.SIGCONT)
            holder.communicate(timeout=60)
        must(stash(repo, "check"))
        self.assertEqual(locks(repo), [])

    def test_lock_of_a_killed_process_is_stale_and_unlock_clears_it(self):
        repo = self.repo_with_snapshots("killed")
        holder = start_and_catch_lock([STASH, "-r", repo, "forget", "--keep-last", "3"])
        holder.kill()
        holder.communicate()
        self.assertEqual(len(locks(repo)), 1)
        # Stale locks still block (as in restic) until unlock removes them.
        p = restic(repo, "forget", "--keep-last", "1")
        self.assertNotEqual(p.returncode, 0)
        must(stash(repo, "unlock"))
        self.assertEqual(locks(repo), [])
        must(restic(repo, "forget", "--keep-last", "1"))
        must(restic(repo, "check"))

    def test_remove_all_clears_live_locks_too(self):
        repo = self.repo_with_snapshots("remove-all")
        holder = start_and_catch_lock(["restic", "-r", repo, "--no-cache", "forget",
                                       "--keep-last", "2"])
        try:
            must(stash(repo, "unlock", "--remove-all"))
            self.assertEqual(locks(repo), [])
        finally:
            holder.kill()
            holder.communicate()


if __name__ == "__main__":
    unittest.main()
