"""The local cache for remote repositories, as restic 0.14's: layout and flags
(--cache-dir, RESTIC_CACHE_DIR, --no-cache, --cleanup-cache, `stash cache`),
restic 0.14 reading a repository through a cache stash filled, invalidation
when another client forgets and prunes, concurrent processes sharing one
cache, and the point of it all: a no-change backup of 10,000 files to S3
(moto) in a repository of 50 snapshots reads under 1 MB from the store
(counted by a proxy in front of it), in no more requests than opening,
locking and saving a snapshot take, and runs about 3x faster than without
the cache (see CacheS3).
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import enginelib  # noqa: E402
import peerlib  # noqa: E402
from enginelib import RESTIC, run, stash  # noqa: E402
from helpers import STASH  # noqa: E402

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def repo_id(repo, cache):
    out = stash(repo, "--cache-dir", cache, "cat", "config").stdout
    return json.loads(out)["id"]


def files_under(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def make_files(root, count, per_dir=100, seed=1):
    for i in range(count):
        d = os.path.join(root, "d%03d" % (i // per_dir))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%05d.txt" % i), "w") as f:
            f.write("file %d seed %d\n" % (i, seed) * 3)


class CacheLocal(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stash-cache-")
        self.repo = os.path.join(self.tmp, "repo")
        self.src = os.path.join(self.tmp, "src")
        make_files(self.src, 300, per_dir=30)
        stash(self.repo, "init")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_layout_flags_and_restic_reading_through_it(self):
        cache = os.path.join(self.tmp, "cache")
        stash(self.repo, "--cache-dir", cache, "backup", self.src)
        rid = repo_id(self.repo, cache)
        self.assertTrue(HEX64.match(rid))
        with open(os.path.join(cache, "CACHEDIR.TAG")) as f:
            self.assertTrue(f.read().startswith("Signature: 8a477f597d28d172789f06886806bc55"))
        with open(os.path.join(cache, rid, "version")) as f:
            self.assertEqual(f.read().strip(), "1")
        # Index, snapshot and the tree packs the backup wrote; never data packs.
        snaps = files_under(os.path.join(cache, rid, "snapshots"))
        self.assertEqual(snaps, files_under(os.path.join(self.repo, "snapshots")))
        self.assertEqual(files_under(os.path.join(cache, rid, "index")),
                         files_under(os.path.join(self.repo, "index")))
        cached_packs = [n for p in files_under(os.path.join(cache, rid, "data"))
                        for n in files_under(os.path.join(cache, rid, "data", p))]
        all_packs = [n for p in files_under(os.path.join(self.repo, "data"))
                     for n in files_under(os.path.join(self.repo, "data", p))]
        self.assertTrue(cached_packs)
        self.assertLess(len(cached_packs), len(all_packs) + 1)
        self.assertTrue(set(cached_packs) <= set(all_packs))
        self.assertEqual(os.stat(os.path.join(cache, rid)).st_mode & 0o777, 0o700)
        # restic 0.14 uses the same layout: it reads the repository through it.
        r = run([RESTIC, "-r", self.repo, "--cache-dir", cache, "ls", "latest"])
        self.assertIn("/d000/f00000.txt", r.stdout.decode())
        # RESTIC_CACHE_DIR is the default; --no-cache leaves no trace.
        env_cache = os.path.join(self.tmp, "env-cache")
        stash(self.repo, "snapshots", extra_env={"RESTIC_CACHE_DIR": env_cache})
        self.assertEqual(files_under(env_cache), sorted(["CACHEDIR.TAG", rid]))
        none = os.path.join(self.tmp, "none")
        stash(self.repo, "--no-cache", "snapshots", extra_env={"RESTIC_CACHE_DIR": none})
        self.assertFalse(os.path.exists(none))
        # Without RESTIC_CACHE_DIR: $XDG_CACHE_HOME/restic, else ~/.cache/restic.
        xdg = os.path.join(self.tmp, "xdg")
        e = {"XDG_CACHE_HOME": xdg, "RESTIC_CACHE_DIR": ""}
        stash(self.repo, "snapshots", extra_env=e)
        self.assertTrue(os.path.isdir(os.path.join(xdg, "restic", rid)))
        home = os.path.join(self.tmp, "home")
        stash(self.repo, "snapshots",
              extra_env={"HOME": home, "XDG_CACHE_HOME": "", "RESTIC_CACHE_DIR": ""})
        self.assertTrue(os.path.isdir(os.path.join(home, ".cache", "restic", rid)))

    def test_another_client_forgets_and_prunes(self):
        mine, theirs = os.path.join(self.tmp, "mine"), os.path.join(self.tmp, "theirs")
        stash(self.repo, "--cache-dir", mine, "backup", self.src)
        make_files(os.path.join(self.src, "more"), 50, seed=2)
        stash(self.repo, "--cache-dir", mine, "backup", self.src)
        rid = repo_id(self.repo, mine)
        self.assertEqual(len(files_under(os.path.join(mine, rid, "snapshots"))), 2)
        # The other client keeps one snapshot and prunes (repacking trees).
        stash(self.repo, "--cache-dir", theirs, "forget", "--keep-last", "1", "--prune",
              "--max-unused", "0")
        self.assertEqual(len(files_under(os.path.join(self.repo, "snapshots"))), 1)
        # This client's cache follows: only what the store still has.
        out = stash(self.repo, "--cache-dir", mine, "snapshots", "--json").stdout
        self.assertEqual(len(json.loads(out)), 1)
        self.assertEqual(files_under(os.path.join(mine, rid, "snapshots")),
                         files_under(os.path.join(self.repo, "snapshots")))
        dest = os.path.join(self.tmp, "restored")
        stash(self.repo, "--cache-dir", mine, "restore", "latest", "--target", dest)
        self.assertEqual(enginelib.diff_signatures(
            enginelib.signature(os.path.join(dest, self.src.lstrip("/")), False),
            enginelib.signature(self.src, False)), [])
        self.assertEqual(files_under(os.path.join(mine, rid, "index")),
                         files_under(os.path.join(self.repo, "index")))
        repo_packs = {n for p in files_under(os.path.join(self.repo, "data"))
                      for n in files_under(os.path.join(self.repo, "data", p))}
        cached = {n for p in files_under(os.path.join(mine, rid, "data"))
                  for n in files_under(os.path.join(mine, rid, "data", p))}
        self.assertTrue(cached and cached <= repo_packs, (cached - repo_packs))
        stash(self.repo, "check", "--read-data")

    def test_concurrent_processes_share_one_cache(self):
        cache = os.path.join(self.tmp, "shared")
        stash(self.repo, "--cache-dir", cache, "backup", self.src)
        procs = []
        for i in range(4):
            src = os.path.join(self.tmp, "src%d" % i)
            make_files(src, 120, per_dir=40, seed=10 + i)
            procs.append(subprocess.Popen(
                [STASH, "-r", self.repo, "--cache-dir", cache, "backup", src, self.src],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=enginelib.env()))
        readers = [subprocess.Popen([STASH, "-r", self.repo, "--cache-dir", cache, "ls", "latest"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    env=enginelib.env()) for _ in range(3)]
        for p in procs + readers:
            _, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, err)
        rid = repo_id(self.repo, cache)
        leftovers = [n for sub in ("snapshots", "index")
                     for n in files_under(os.path.join(cache, rid, sub)) if not HEX64.match(n)]
        self.assertEqual(leftovers, [])
        self.assertEqual(len(files_under(os.path.join(cache, rid, "snapshots"))), 5)
        stash(self.repo, "check")

    def test_old_cache_directories(self):
        cache = os.path.join(self.tmp, "c")
        stash(self.repo, "--cache-dir", cache, "snapshots")
        old = os.path.join(cache, "ab" * 32)
        os.makedirs(os.path.join(old, "snapshots"))
        forty_days = time.time() - 40 * 86400
        os.utime(old, (forty_days, forty_days))
        out = stash(self.repo, "--cache-dir", cache, "cache").stdout.decode()
        self.assertRegex(out, r"Repo ID\s+Last Used\s+Old\s+Size")
        self.assertRegex(out, r"abababababa?\s+40 days ago\s+yes")
        self.assertIn("2 cache dirs in " + cache, out)
        stash(self.repo, "--cache-dir", cache, "--cleanup-cache", "snapshots")
        self.assertFalse(os.path.exists(old))
        self.assertEqual(len([n for n in os.listdir(cache) if HEX64.match(n)]), 1)
        os.makedirs(old)
        os.utime(old, (forty_days, forty_days))
        out = stash(self.repo, "--cache-dir", cache, "cache", "--cleanup").stdout.decode()
        self.assertIn("remove 1 old cache directories", out)
        self.assertFalse(os.path.exists(old))
        r = stash(self.repo, "--no-cache", "cache", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Refusing to do anything, the cache is disabled", r.stderr.decode())


@unittest.skipUnless(shutil.which("moto_server") or peerlib.in_ci(), "moto_server not installed")
class CacheS3(unittest.TestCase):
    """The issue's measurement: 10,000 files, 50 snapshots, S3 on moto (behind a
    20 ms round trip)."""

    FILES = int(os.environ.get("STASH_CACHE_TEST_FILES", "10000"))
    SNAPSHOTS = 50

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stash-cache-s3-")
        cls.moto = peerlib.start_moto(cls.tmp)
        # A remote store: 20 ms round trips, as to a bucket in a nearby region.
        cls.proxy = peerlib.FaultProxy(cls.moto.port, rtt_ms=20)
        cls.repo = "s3:http://127.0.0.1:%d/cachebucket/repo" % cls.proxy.port
        cls.env = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "secret-key"}
        cls.src = os.path.join(cls.tmp, "src")
        make_files(cls.src, cls.FILES)
        cls.cache = os.path.join(cls.tmp, "cache")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.moto.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def requests(self):
        """Requests moto has answered so far (one log line each)."""
        with open(self.moto.log_path, "rb") as f:
            return len(re.findall(rb'"(?:GET|PUT|HEAD|POST|DELETE) /', f.read()))

    def backup(self, *flags):
        before, asked = self.proxy.downstream_bytes, self.requests()
        t0 = time.monotonic()
        stash(self.repo, *flags, "backup", "--json", self.src, extra_env=self.env)
        took = time.monotonic() - t0
        # moto logs a request once it has answered it: all are in by now.
        return took, self.proxy.downstream_bytes - before, self.requests() - asked

    def test_no_change_backup_reads_almost_nothing(self):
        stash(self.repo, "init", extra_env=self.env)
        for _ in range(self.SNAPSHOTS):
            self.backup("--cache-dir", self.cache)
        out = stash(self.repo, "--no-cache", "snapshots", "--json", extra_env=self.env).stdout
        self.assertEqual(len(json.loads(out)), self.SNAPSHOTS)
        # Side by side, alternating, medians: the machine is shared.
        cached, uncached, cached_bytes, uncached_bytes, cached_reqs, uncached_reqs = (
            [], [], [], [], [], [])
        for _ in range(3):
            t, b, n = self.backup("--cache-dir", self.cache)
            cached.append(t)
            cached_bytes.append(b)
            cached_reqs.append(n)
            t, b, n = self.backup("--no-cache")
            uncached.append(t)
            uncached_bytes.append(b)
            uncached_reqs.append(n)
        ratio = statistics.median(uncached) / statistics.median(cached)
        print("no-change backup of %d files, %d snapshots: cache %.2fs %d B read %d requests, "
              "no cache %.2fs %d B read %d requests, %.1fx (load %.1f)" % (
                  self.FILES, self.SNAPSHOTS, statistics.median(cached), max(cached_bytes),
                  max(cached_reqs), statistics.median(uncached), max(uncached_bytes),
                  min(uncached_reqs), ratio, os.getloadavg()[0]),
              file=sys.stderr)
        self.assertLess(max(cached_bytes), 1_000_000)
        self.assertGreater(min(uncached_bytes), 10 * max(cached_bytes))
        # With the cache only what any backup does goes to the store: open
        # (config, list keys, key), lock (list, save, list again, remove),
        # list index files (twice: once more under the lock) and snapshots,
        # save the snapshot: 12 requests; 14 when a directory above the
        # source changed (a tree pack and an index saved). Saves of files
        # named by their content and removals send no HEAD first. The
        # uncached run fetches every snapshot, index file and parent tree
        # (~185). Requests do not depend on the machine's load, as times do.
        self.assertLessEqual(max(cached_reqs), 16)
        self.assertGreater(min(uncached_reqs), 10 * max(cached_reqs))
        # Time: measured 3.7x at load 8 on 2 cores (0.61 s vs 2.22 s).
        # What is left of the cached run: ~9 sequential round trips through
        # the 20 ms proxy to moto (config and keys go together, and so do the
        # last lock check and the index listing), the 200 ms lock settle
        # (overlapped with the index and parent loads), the key derivation,
        # and the CPU of comparing 10,000 files with the parent's trees. The
        # bound leaves room for a loaded CI machine.
        self.assertGreaterEqual(ratio, 1.8)


if __name__ == "__main__":
    unittest.main()
