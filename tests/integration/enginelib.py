"""Shared helpers for engine integration tests: rich test corpora, running
stash and the real restic 0.14 side by side, and comparing restored trees.

Used by test_engine_backup*.py / test_engine_interop*.py (and the read-path
tests). Everything lives in temporary directories; nothing touches the network.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import time

from helpers import STASH

PASSWORD = "stash-test-password"
RESTIC = shutil.which("restic")


def env(extra=None):
    e = dict(os.environ)
    e["RESTIC_PASSWORD"] = PASSWORD
    # Cheap scrypt for keys stash creates; restic reads N from the key file.
    e["STASH_TEST_SCRYPT_N"] = "1024"
    e.pop("RESTIC_REPOSITORY", None)
    if extra:
        e.update(extra)
    return e


def run(cmd, extra_env=None, cwd=None, timeout=600, check=True):
    p = subprocess.run(cmd, capture_output=True, env=env(extra_env), cwd=cwd, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s failed with %d:\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, cmd)), p.returncode, p.stdout.decode(errors="replace")[-3000:],
            p.stderr.decode(errors="replace")[-3000:]))
    return p


def stash(repo, *args, **kw):
    return run([STASH, "-r", repo, *args], **kw)


def restic(repo, *args, **kw):
    return run([RESTIC, "--no-cache", "-r", repo, *args], **kw)


def json_lines(out):
    """Parses every JSON line of a --json output (bytes or str)."""
    if isinstance(out, bytes):
        out = out.decode()
    return [json.loads(l) for l in out.splitlines() if l.strip().startswith("{")]


def summary(out):
    s = [m for m in json_lines(out) if m.get("message_type") == "summary"]
    assert s, "no summary line in: %r" % out
    return s[-1]


def lock_files(repo):
    """The complete lock files of repo (not the temporary files a save renames)."""
    return sorted(n for n in os.listdir(os.path.join(repo, "locks"))
                  if len(n) == 64 and all(c in "0123456789abcdef" for c in n))


def hold_lock(argv, env_vars, attempts=20):
    """Starts argv (restic or stash, `-r REPO` among its arguments) with env_vars
    and SIGSTOPs it while a lock file it wrote exists; returns the stopped process.

    A fast command can take and drop its lock between two 2 ms polls, or between
    our seeing the file and the SIGSTOP landing: the check repeats once it is
    stopped, and the command (which must then have succeeded) runs again until
    it is caught holding its lock."""
    repo = argv[argv.index("-r") + 1]
    for _ in range(attempts):
        before = set(lock_files(repo))

        def new_locks():
            return set(lock_files(repo)) - before

        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env_vars)
        deadline = time.time() + 60
        while time.time() < deadline:
            if new_locks():
                proc.send_signal(signal.SIGSTOP)
                if new_locks():
                    return proc
                proc.send_signal(signal.SIGCONT)  # stopped after unlocking
                out = proc.communicate(timeout=60)
                if proc.returncode != 0:
                    raise AssertionError("%r failed: %r" % (argv, out))
                break
            if proc.poll() is not None:
                out = proc.communicate()
                if proc.returncode != 0 or new_locks():
                    raise AssertionError("%r ended before holding its lock: %r" % (argv, out))
                break  # locked and unlocked between two polls
            time.sleep(0.002)
        else:
            proc.kill()
            raise AssertionError("no lock appeared for %r" % argv)
    raise AssertionError("%r never seen stopped while holding its lock" % argv)


def write_random(path, size, seed):
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n


def make_corpus(root, big_mib=12):
    """A tree with every file kind the engine must handle (bytes names)."""
    root = os.fsencode(root)
    os.makedirs(root, exist_ok=True)
    j = os.path.join
    # regular files: small, multi-chunk random, compressible, empty
    with open(j(root, b"small.txt"), "wb") as f:
        f.write(b"hello stash\n")
    write_random(j(root, b"big.bin"), big_mib << 20, 1)
    with open(j(root, b"text.log"), "wb") as f:
        for i in range(200000):
            f.write(b"line %d of a fairly compressible log file\n" % i)
    open(j(root, b"empty"), "wb").close()
    # sparse: a hole of 20 MiB then data
    with open(j(root, b"sparse.img"), "wb") as f:
        f.seek(20 << 20)
        f.write(b"end of sparse file")
    # odd names
    for name in [b"with space", b"quote\"s'", b"a<b&c>", b"new\nline", b"tab\tx",
                 b"inv\xffutf8", b"\xc3\xa9t\xc3\xa9 \xe2\x80\xa8", b"back\\slash", b"-dash"]:
        with open(j(root, name), "wb") as f:
            f.write(b"odd name " + name)
    # deep and wide
    d = j(root, b"deep")
    for i in range(30):
        d = j(d, b"level%02d" % i)
    os.makedirs(d)
    with open(j(d, b"bottom"), "wb") as f:
        f.write(b"deep file")
    wide = j(root, b"wide")
    os.makedirs(wide)
    for i in range(600):
        with open(j(wide, b"f%04d" % i), "wb") as f:
            f.write(b"wide %d\n" % i)
    os.makedirs(j(root, b"emptydir"))
    # links, fifo
    os.symlink(b"small.txt", j(root, b"link"))
    os.symlink(b"does/not/exist", j(root, b"dangling"))
    os.link(j(root, b"small.txt"), j(root, b"hardlink"))
    os.mkfifo(j(root, b"fifo"))
    # permissions and times
    p = j(root, b"perm")
    os.makedirs(p)
    for mode in (0o600, 0o644, 0o755, 0o444, 0o4755):
        fn = j(p, b"m%o" % mode)
        with open(fn, "wb") as f:
            f.write(b"mode %o" % mode)
        os.chmod(fn, mode)
    os.chmod(p, 0o750)
    t = 1500000000
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for n in filenames + dirnames:
            os.utime(j(dirpath, n), ns=(t * 10**9 + 123456789, t * 10**9 + 987654321),
                     follow_symlinks=False)
            t += 17
    os.utime(root, ns=(t * 10**9, t * 10**9))
    return os.fsdecode(root)


def signature(root, with_dir_mtime=True):
    """{relative path: (type, mode, mtime_ns, size, content sha / link target)}."""
    root = os.fsencode(root)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = stat.S_IFMT(st.st_mode)
            extra = None
            if stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                extra = h.hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                extra = os.readlink(p)
            mtime = st.st_mtime_ns
            if stat.S_ISDIR(st.st_mode) and not with_dir_mtime:
                mtime = None
            if stat.S_ISLNK(st.st_mode):
                mtime = None  # restic 0.14 does not restore symlink times
            size = st.st_size if stat.S_ISREG(st.st_mode) else None
            out[rel] = (kind, stat.S_IMODE(st.st_mode), mtime, size, extra)
    return out


def diff_signatures(a, b):
    """Human-readable differences (empty when equal)."""
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append("%r: %r != %r" % (k, a.get(k), b.get(k)))
    return lines[:40]


class TempDir:
    """A temp directory removed at exit (restic leaves read-only files)."""

    def __init__(self, prefix="stash-engine-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def cleanup(self):
        for dirpath, dirnames, _ in os.walk(self.path):
            for d in dirnames:
                try:
                    os.chmod(os.path.join(dirpath, d), 0o700)
                except OSError:
                    pass
        shutil.rmtree(self.path, ignore_errors=True)
