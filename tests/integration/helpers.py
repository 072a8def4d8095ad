"""Shared helpers for integration tests that drive the real stash binary."""
import os
import subprocess
import time

STASH = os.environ.get("STASH_BIN", "stash")
SOURCE_DIR = os.environ.get("STASH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def stash(*args, env=None, input=None, check=False, timeout=300):
    """Runs stash with args; returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([STASH, *args], capture_output=True, text=True, env=full_env,
                          input=input, check=check, timeout=timeout)


def wait_for(what, fn, timeout=60, interval=0.2, detail=None):
    """Polls fn until it returns something true and returns that; fails the
    test after `timeout` seconds naming `what`, the last value and, when
    given, detail() (e.g. the server's logs)."""
    deadline = time.time() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.time() > deadline:
            raise AssertionError("timed out waiting for %s (last: %r)%s" % (
                what, last, "\n" + detail() if detail else ""))
        time.sleep(interval)
