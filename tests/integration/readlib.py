"""Helpers for the engine read-path tests: a rich source corpus, runs of the
real restic 0.14 and of stash against the same repository, and a comparison
of restored trees (content, mode, mtime, link targets, hardlinks, holes)."""
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile

STASH = os.environ.get("STASH_BIN", "stash")
PASSWORD = "read-path-test"


def have_restic():
    return shutil.which("restic") is not None


def _env(extra=None):
    env = dict(os.environ)
    env.pop("RESTIC_REPOSITORY", None)
    env.pop("RESTIC_PASSWORD_FILE", None)
    env["RESTIC_PASSWORD"] = PASSWORD
    env["TZ"] = "UTC"
    env["STASH_TEST_SCRYPT_N"] = "1024"
    if extra:
        env.update(extra)
    return env


def run(argv, env=None, cwd=None, timeout=300):
    """Runs a command; returns CompletedProcess with bytes stdout/stderr."""
    return subprocess.run(argv, capture_output=True, env=_env(env), cwd=cwd, timeout=timeout)


def restic(repo, *args, env=None, cwd=None):
    return run(["restic", "-r", repo, "--no-cache", *args], env=env, cwd=cwd)


def stash(repo, *args, env=None, cwd=None):
    return run([STASH, "-r", repo, *args], env=env, cwd=cwd)


def must(proc):
    if proc.returncode != 0:
        raise AssertionError("%r failed (%d):\nstdout: %s\nstderr: %s" % (
            proc.args, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc


def _write(path, data, mode=0o644, mtime_ns=None):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def make_corpus(root, seed=1):
    """Builds the corpus the read-path tests back up: small, empty, sparse and
    multi-chunk files, deep and wide trees, odd names (space, quotes, <>&,
    newline, tab, invalid UTF-8), symlinks (also dangling), hardlinks, a fifo,
    several modes and fixed mtimes with nanoseconds."""
    import random
    rnd = random.Random(seed)
    os.makedirs(root)
    t0 = 1_600_000_000_123_456_789
    _write(os.path.join(root, "small.txt"), b"hello world\n", 0o644, t0)
    _write(os.path.join(root, "empty"), b"", 0o600, t0 + 1)
    # Several content-defined chunks (min 512 KiB, average ~1 MiB).
    big = bytes(rnd.getrandbits(8) for _ in range(64 * 1024)) * 1
    big = b"".join(hashlib.sha256(big + bytes([i])).digest() * 2048 for i in range(80))
    _write(os.path.join(root, "big.bin"), big, 0o640, t0 + 2)
    # Sparse: a hole of 8 MiB, data, another hole.
    sparse = os.path.join(root, "sparse.img")
    with open(sparse, "wb") as f:
        f.truncate(8 << 20)
        f.seek(8 << 20)
        f.write(b"middle data" * 1000)
        f.truncate(20 << 20)
    os.utime(sparse, ns=(t0 + 3, t0 + 3))
    odd = os.path.join(root, "odd")
    os.makedirs(odd)
    for name in [b"with space", b"quote\"s and 'single'", b"a<b&c>", b"new\nline", b"tab\there",
                 b"inv\xffalid", "caf\u00e9 \u2028x".encode()]:
        _write(os.path.join(os.fsencode(odd), name), b"odd: " + name, 0o644, t0 + 4)
    deep = root
    for i in range(12):
        deep = os.path.join(deep, "d%02d" % i)
        os.makedirs(deep)
    _write(os.path.join(deep, "leaf"), b"deep leaf", 0o644, t0 + 5)
    wide = os.path.join(root, "wide")
    os.makedirs(wide)
    for i in range(300):
        _write(os.path.join(wide, "f%03d" % i), b"x" * (i * 7), 0o644, t0 + 6 + i)
    os.symlink("small.txt", os.path.join(root, "link-rel"))
    os.symlink("/nonexistent/dangling", os.path.join(root, "link-dangling"))
    os.link(os.path.join(root, "small.txt"), os.path.join(root, "hardlink"))
    os.link(os.path.join(root, "big.bin"), os.path.join(wide, "big-hardlink"))
    os.mkfifo(os.path.join(root, "fifo"), 0o644)
    os.makedirs(os.path.join(root, "empty-dir"))
    x = os.path.join(root, "exec.sh")
    _write(x, b"#!/bin/sh\necho hi\n", 0o755, t0 + 7)
    priv = os.path.join(root, "private")
    os.makedirs(priv, 0o700)
    _write(os.path.join(priv, "secret"), b"s3cret", 0o600, t0 + 8)
    # Directory times last, after their content exists.
    for dirpath, dirnames, _ in os.walk(root, topdown=False):
        os.utime(dirpath, ns=(t0 + 100, t0 + 100))


def describe_tree(root):
    """Maps each path below root (bytes, relative) to what a restore must keep."""
    out = {}
    inodes = {}
    broot = os.fsencode(root)
    for dirpath, dirnames, filenames in os.walk(broot):
        for name in sorted(dirnames) + sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, broot)
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            entry = {"mode": st.st_mode, "mtime_ns": st.st_mtime_ns}
            if stat.S_ISLNK(st.st_mode):
                entry["target"] = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    entry["sha256"] = hashlib.sha256(f.read()).hexdigest()
                entry["size"] = st.st_size
                if st.st_nlink > 1:
                    inodes.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISDIR(st.st_mode):
                pass
            entry["kind"] = kind
            out[rel] = entry
    groups = sorted(sorted(v) for v in inodes.values())
    return out, groups


def allocated_bytes(path):
    return os.stat(path).st_blocks * 512


class TempDir:
    def __init__(self, prefix="stash-read-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)
