"""Shared helpers for integration tests that drive the real stash binary."""
import os
import subprocess

STASH = os.environ.get("STASH_BIN", "stash")
SOURCE_DIR = os.environ.get("STASH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def stash(*args, env=None, input=None, check=False, timeout=300):
    """Runs stash with args; returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([STASH, *args], capture_output=True, text=True, env=full_env,
                          input=input, check=check, timeout=timeout)
