"""prune: stash's prune leaves a repository restic 0.14 checks and restores,
reclaims about what restic's prune reclaims, and survives kill -9.

The repository is written by restic (4 MiB packs, several backups of a
changing tree), so forgetting old snapshots leaves unused, partly used and
fully used packs: the cases prune decides between.
"""
import hashlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from test_retention_forget import STASH, env, must, restic, stash, TestRepo


def tree_digest(root):
    """Content and mode of every file below root (relative names)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = (hashlib.sha256(f.read()).hexdigest(),
                                                 os.lstat(p).st_mode)
    return out


def dir_bytes(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def file_set(repo):
    out = set()
    for dirpath, _, files in os.walk(repo):
        for name in files:
            out.add(os.path.relpath(os.path.join(dirpath, name), repo))
    return out


@unittest.skipIf(shutil.which("restic") is None, "restic not installed")
class PruneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-prune-")
        cls.base = os.path.join(cls.tmp, "base")
        src = os.path.join(cls.tmp, "src")
        os.makedirs(src)
        must(restic(cls.base, "init"))
        TestRepo(cls.base).cheapen_key()
        rnd = random.Random(5)
        # Five backups of a changing tree: files come, change and go, so old
        # snapshots hold data nothing newer needs.
        for gen in range(5):
            for i in range(6):
                if rnd.random() < 0.5 or gen == 0:
                    with open(os.path.join(src, "f%d.bin" % i), "wb") as f:
                        f.write(rnd.randbytes(rnd.randrange(200_000, 1_500_000)))
            with open(os.path.join(src, "small-%d.txt" % gen), "w") as f:
                f.write("generation %d\n" % gen * 100)
            if gen == 3:
                os.remove(os.path.join(src, "small-0.txt"))
            must(restic(cls.base, "backup", "--pack-size", "4", "--host", "h",
                        "--time", "2024-0%d-01 12:00:00" % (gen + 1), src))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def copy(self, name):
        path = os.path.join(self.tmp, name)
        shutil.copytree(self.base, path)
        return path

    def restore_all(self, repo, label):
        """{snapshot id: digest of its restored tree}, restored by restic."""
        import json
        out = {}
        for sn in json.loads(must(restic(repo, "snapshots", "--json")).stdout):
            target = os.path.join(self.tmp, "restore-%s-%s" % (label, sn["short_id"]))
            must(restic(repo, "restore", sn["id"], "--target", target))
            out[sn["id"]] = tree_digest(target)
            shutil.rmtree(target)
        return out

    def test_forget_prune_checks_restores_and_reclaims_like_restic(self):
        original = self.restore_all(self.base, "orig")
        ours, theirs = self.copy("ours"), self.copy("theirs")
        before = dir_bytes(os.path.join(self.base, "data"))
        p = must(stash(ours, "forget", "--keep-last", "2", "--prune"))
        self.assertIn(b"removing", p.stdout)
        must(restic(theirs, "forget", "--keep-last", "2", "--prune"))
        must(restic(ours, "check", "--read-data"))
        # Every kept snapshot restores exactly as before the prune.
        kept = self.restore_all(ours, "ours")
        self.assertEqual(len(kept), 2)
        for sid, digest in kept.items():
            self.assertEqual(digest, original[sid], sid)
        reclaimed_ours = before - dir_bytes(os.path.join(ours, "data"))
        reclaimed_theirs = before - dir_bytes(os.path.join(theirs, "data"))
        print("reclaimed: stash %d bytes, restic %d bytes" % (reclaimed_ours, reclaimed_theirs))
        self.assertGreater(reclaimed_theirs, 1_000_000)
        self.assertLess(abs(reclaimed_ours - reclaimed_theirs), 0.10 * reclaimed_theirs,
                        "stash reclaimed %d bytes, restic %d" % (reclaimed_ours, reclaimed_theirs))
        # Nothing is left to do for either tool.
        again = must(stash(ours, "prune", "--dry-run", "-v")).stdout.decode()
        self.assertIn("this removes:          0 blobs / 0 B", again)

    def test_dry_run_changes_nothing_and_reports_what_it_would_free(self):
        repo = self.copy("dry")
        must(restic(repo, "forget", "--keep-last", "1"))
        files = file_set(repo)
        p = must(stash(repo, "prune", "--dry-run"))
        self.assertEqual(file_set(repo), files)
        out = p.stdout.decode()
        self.assertIn("total prune:", out)
        self.assertRegex(out, r"unused size after prune: .* of remaining size")

    def test_max_unused_unlimited_only_drops_unused_packs(self):
        repo = self.copy("unlimited")
        must(restic(repo, "forget", "--keep-last", "3"))
        out = must(stash(repo, "prune", "--max-unused", "unlimited", "-v")).stdout.decode()
        self.assertRegex(out, r"to repack: +0 packs")
        must(restic(repo, "check", "--read-data"))
        p = stash(repo, "prune", "--max-unused", "100%")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"must be below 100%", p.stderr)

    def test_repack_uncompressed_compresses_once_and_converges(self):
        repo = os.path.join(self.tmp, "uncompressed")
        src = os.path.join(self.tmp, "text-src")
        os.makedirs(src)
        for i in range(3):
            with open(os.path.join(src, "t%d.txt" % i), "w") as f:
                f.write("compressible line %d\n" % i * 40000)
        must(restic(repo, "init"))
        TestRepo(repo).cheapen_key()
        must(restic(repo, "backup", "--compression", "off", src))
        packs_before = dir_bytes(os.path.join(repo, "data"))
        out = must(stash(repo, "prune", "--repack-uncompressed", "-v")).stdout.decode()
        self.assertRegex(out, r"to repack: +[1-9]\d* packs")
        self.assertLess(dir_bytes(os.path.join(repo, "data")), packs_before / 10)
        must(restic(repo, "check", "--read-data"))
        target = os.path.join(self.tmp, "uncompressed-restore")
        must(restic(repo, "restore", "latest", "--target", target))
        self.assertEqual(tree_digest(os.path.join(target, src.lstrip("/"))), tree_digest(src))
        # Everything is compressed now: a second run has nothing to repack.
        again = must(stash(repo, "prune", "--repack-uncompressed", "-v")).stdout.decode()
        self.assertRegex(again, r"to repack: +0 packs")

    def test_prune_killed_at_any_moment_leaves_a_repository_restic_checks(self):
        # How long a full prune takes here, to spread the kills over it.
        timing = self.copy("timing")
        must(restic(timing, "forget", "--keep-last", "1"))
        t0 = time.time()
        must(stash(timing, "prune"))
        full = time.time() - t0
        outcomes = {}  # fraction of `full` -> untouched | changed | finished

        def kill_at(i, frac):
            repo = self.copy("kill%d" % i)
            must(restic(repo, "forget", "--keep-last", "1"))
            files = file_set(repo)
            proc = subprocess.Popen([STASH, "-r", repo, "prune"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env())
            try:
                proc.wait(timeout=full * frac)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            if proc.returncode == 0:
                outcomes[frac] = "finished"
            else:
                self.assertEqual(proc.returncode, -signal.SIGKILL, "prune failed on its own")
                outcomes[frac] = "untouched" if file_set(repo) == files else "changed"
                # The killed prune's lock is stale (its process is gone).
                must(stash(repo, "unlock"))
            must(restic(repo, "check", "--read-data"))
            # The next prune finishes the job.
            must(stash(repo, "prune"))
            must(restic(repo, "check"))
            shutil.rmtree(repo)

        for i, frac in enumerate([0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9]):
            kill_at(i, frac)
        # The kills must have caught a prune that had begun changing the
        # repository; on a loaded machine the schedule can miss that window,
        # so aim between the last kill too early and the first too late.
        for i in range(7, 13):
            if "changed" in outcomes.values():
                break
            early = max([f for f, o in outcomes.items() if o == "untouched"], default=0.0)
            late = min([f for f, o in outcomes.items() if o != "untouched" and f > early],
                       default=early + 1.0)
            kill_at(i, (early + late) / 2)
        print("prune %.2fs; kill outcomes: %s" % (full, sorted(outcomes.items())))
        self.assertIn("changed", outcomes.values(),
                      "no kill landed while prune was changing the repository: %s" % outcomes)


if __name__ == "__main__":
    unittest.main()
