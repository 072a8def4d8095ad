"""forget: stash decides exactly as restic 0.14 does.

Differential test: 48 generated histories (snapshots spread over 3 years,
several hosts, paths and tags, several UTC offsets) and random policies
(every keep rule, --group-by variants, --host/--tag filters);
`stash forget --dry-run --json` must print the same groups (keep, remove,
reasons) as `restic forget --dry-run --json` on the same repository.

To stay fast, the repository is made once with restic (init + one backup for
a real tree), its key is swapped for a cheap-scrypt key, and each history's
snapshot documents are sealed here with the repository's master key (restic
reads them like its own). One history is also made the slow way, with
`restic backup --time`.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from repocrypto import TestRepo as _TestRepo  # noqa: E402

STASH = os.environ.get("STASH_BIN", "stash")
PASSWORD = "retention-test"


def env(extra=None):
    e = dict(os.environ)
    for k in ("RESTIC_REPOSITORY", "RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND"):
        e.pop(k, None)
    e["RESTIC_PASSWORD"] = PASSWORD
    e["TZ"] = "UTC"
    e["STASH_TEST_SCRYPT_N"] = "1024"
    if extra:
        e.update(extra)
    return e


def run(argv, timeout=300, cwd=None, extra_env=None):
    return subprocess.run(argv, capture_output=True, env=env(extra_env), timeout=timeout, cwd=cwd)


def restic(repo, *args, **kw):
    return run(["restic", "-r", repo, "--no-cache", *args], **kw)


def stash(repo, *args, **kw):
    return run([STASH, "-r", repo, *args], **kw)


def must(proc):
    if proc.returncode != 0:
        raise AssertionError("%r failed (%d):\nstdout: %s\nstderr: %s" % (
            proc.args, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    return proc


def TestRepo(path):
    return _TestRepo(path, PASSWORD)


def make_base_repo(root):
    """restic init + one backup; returns (repo path, tree id of the backup)."""
    repo = os.path.join(root, "base")
    src = os.path.join(root, "src")
    os.makedirs(src)
    with open(os.path.join(src, "f"), "w") as f:
        f.write("retention\n")
    must(restic(repo, "init"))
    TestRepo(repo).cheapen_key()
    must(restic(repo, "backup", "--host", "seed", src))
    sn = json.loads(must(restic(repo, "snapshots", "--json")).stdout)
    for name in os.listdir(os.path.join(repo, "snapshots")):
        os.remove(os.path.join(repo, "snapshots", name))
    return repo, sn[0]["tree"]


OFFSETS = ["Z", "+02:00", "-05:00", "+05:30"]
HOSTS = ["alpha", "beta", "gamma"]
PATHS = [["/srv/app"], ["/srv/db"], ["/srv/db", "/srv/app"]]
TAGS = ["daily", "manual", "db", "web"]


def gen_history(rnd, n):
    """n snapshot documents over 3 years, clustered so that several land in the
    same hour/day/week; distinct instants (restic orders ties by listing)."""
    docs, used = [], set()
    base = 1640995200  # 2022-01-01
    centres = [base + rnd.randrange(3 * 365 * 86400) for _ in range(max(2, n // 3))]
    while len(docs) < n:
        t = rnd.choice(centres) + rnd.choice([0, 1, 3, 26, 80, 200, 24 * 7]) * rnd.randrange(3600)
        t += rnd.randrange(60)
        if t in used:
            continue
        used.add(t)
        off = rnd.choice(OFFSETS)
        secs = 0 if off == "Z" else (1 if off[0] == "+" else -1) * (
            int(off[1:3]) * 3600 + int(off[4:6]) * 60)
        import datetime
        local = datetime.datetime.utcfromtimestamp(t + secs)
        stamp = local.strftime("%Y-%m-%dT%H:%M:%S")
        if rnd.random() < 0.3:
            stamp += ".%09d" % rnd.randrange(10 ** 9)
        stamp += off
        doc = {"time": stamp, "paths": list(rnd.choice(PATHS)),
               "hostname": rnd.choice(HOSTS), "username": "root"}
        tags = sorted(rnd.sample(TAGS, rnd.choice([0, 0, 1, 1, 2])))
        if tags:
            rnd.shuffle(tags)
            doc["tags"] = tags
        docs.append(doc)
    return docs


def gen_policy(rnd):
    """Random forget arguments: at least one keep rule, sometimes filters."""
    args = []
    for flag in ["--keep-last", "--keep-hourly", "--keep-daily", "--keep-weekly",
                 "--keep-monthly", "--keep-yearly"]:
        if rnd.random() < 0.35:
            args += [flag, str(rnd.randrange(1, 6))]
    def dur():
        parts = [(rnd.randrange(1, 3), "y"), (rnd.randrange(1, 14), "m"),
                 (rnd.randrange(1, 40), "d"), (rnd.randrange(1, 72), "h")]
        return "".join("%d%s" % p for p in rnd.sample(parts, rnd.randrange(1, 3)))
    for flag in ["--keep-within", "--keep-within-hourly", "--keep-within-daily",
                 "--keep-within-weekly", "--keep-within-monthly", "--keep-within-yearly"]:
        if rnd.random() < 0.15:
            args += [flag, dur()]
    if rnd.random() < 0.3:
        args += ["--keep-tag", ",".join(rnd.sample(TAGS, rnd.randrange(1, 3)))]
    if not args:
        args += ["--keep-last", "1"]
    args += ["--group-by", rnd.choice(["host,paths", "host,paths", "host", "paths", "tags",
                                       "host,tags", "paths,tags", ""])]
    r = rnd.random()
    if r < 0.15:
        args += ["--host", rnd.choice(HOSTS)]
    elif r < 0.25:
        args += ["--tag", rnd.choice(TAGS)]
    return args


def normalise(groups):
    """Groups of a forget --json answer, ordered by key (restic's order is a Go
    map's); everything else exactly as printed."""
    def key(g):
        return json.dumps([g["host"], g["paths"], g["tags"]])
    return sorted(groups or [], key=key)


@unittest.skipIf(shutil.which("restic") is None, "restic not installed")
class ForgetDifferentialTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-retention-")
        cls.base, cls.tree = make_base_repo(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def copy_base(self, name):
        path = os.path.join(self.tmp, name)
        shutil.copytree(self.base, path)
        return TestRepo(path)

    def compare(self, repo, args, label):
        r = must(restic(repo, "forget", "--dry-run", "--json", *args))
        s = must(stash(repo, "forget", "--dry-run", "--json", *args))
        want = normalise(json.loads(r.stdout) if r.stdout.strip() else [])
        got = normalise(json.loads(s.stdout) if s.stdout.strip() else [])
        if want != got:
            self.fail("%s: forget %s differs from restic\nrestic: %s\nstash:  %s" % (
                label, " ".join(args), json.dumps(want)[:4000], json.dumps(got)[:4000]))
        return want

    def test_generated_histories_match_restic(self):
        rnd = random.Random(20261126)
        removed_total = kept_total = 0
        for case in range(48):
            repo = self.copy_base("h%02d" % case)
            for doc in gen_history(rnd, rnd.randrange(4, 28)):
                doc["tree"] = self.tree
                repo.write_unpacked("snapshots", doc)
            # Two policies per history: the decision must match for each.
            for variant in range(2):
                args = gen_policy(rnd)
                groups = self.compare(repo.path, args, "history %d/%d" % (case, variant))
                for g in groups:
                    kept_total += len(g["keep"] or [])
                    removed_total += len(g["remove"] or [])
            shutil.rmtree(repo.path)
        # The generator must exercise both outcomes, or the test proves nothing.
        self.assertGreater(removed_total, 100)
        self.assertGreater(kept_total, 100)

    def test_history_made_with_restic_backup_time(self):
        repo = self.copy_base("real")
        src = os.path.join(self.tmp, "src")
        rnd = random.Random(7)
        for i in range(10):
            day = 1 + rnd.randrange(27)
            args = ["backup", "--time", "202%d-%02d-%02d %02d:%02d:00" % (
                3 + i % 3, 1 + rnd.randrange(12), day, rnd.randrange(24), rnd.randrange(60)),
                "--host", HOSTS[i % 2]]
            if i % 3 == 0:
                args += ["--tag", "db"]
            must(restic(repo.path, *args, src))
        for args in (["--keep-last", "2"], ["--keep-monthly", "3", "--keep-yearly", "1"],
                     ["--keep-weekly", "2", "--keep-tag", "db", "--group-by", "host"],
                     ["--keep-within", "1y", "--group-by", ""]):
            self.compare(repo.path, args, "restic-made history")
        # Explicit ids are removed without a policy; the removal is real.
        before = repo.snapshot_ids()
        must(stash(repo.path, "forget", before[0][:8], before[1]))
        self.assertEqual(repo.snapshot_ids(), before[2:])
        must(restic(repo.path, "check"))

    def test_text_output_and_removal_match_restic(self):
        a = self.copy_base("text-a")
        rnd = random.Random(3)
        for doc in gen_history(rnd, 12):
            doc["tree"] = self.tree
            a.write_unpacked("snapshots", doc)
        b_path = os.path.join(self.tmp, "text-b")
        shutil.copytree(a.path, b_path)
        args = ["--keep-daily", "2", "--keep-monthly", "2"]
        r = must(restic(a.path, "forget", "--dry-run", *args))
        s = must(stash(a.path, "forget", "--dry-run", *args))
        # restic prints groups in Go map order: compare the set of blocks.
        def blocks(text):
            first, rest = text.decode().split("\n", 1)
            return first, sorted(rest.split("\n\n"))
        self.assertEqual(blocks(s.stdout), blocks(r.stdout))
        # Without --dry-run both delete the same snapshot files.
        must(restic(a.path, "forget", *args))
        must(stash(b_path, "forget", *args))
        self.assertEqual(sorted(os.listdir(os.path.join(b_path, "snapshots"))), a.snapshot_ids())
        self.assertLess(len(a.snapshot_ids()), 12)

    def test_bad_arguments_are_refused(self):
        repo = self.copy_base("bad")
        p = stash(repo.path, "forget", "--keep-within", "3w")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"invalid unit", p.stderr)
        p = stash(repo.path, "forget", "--keep-last", "1", "--group-by", "colour")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"unknown grouping option: 'colour'", p.stderr)
        p = stash(repo.path, "forget", "--no-lock", "--keep-last", "1")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"--no-lock is only applicable", p.stderr)


if __name__ == "__main__":
    unittest.main()
