#!/usr/bin/env python3
"""Runs one integration test in its own temporary directory and process group.

usage: isolate.py NAME COMMAND [ARGS...]

The test gets TMPDIR=<a fresh directory>, so every tempfile.mkdtemp() of the
test, every `stash` process it starts and every peer it runs writes there;
when the test ends (pass, fail, or SIGTERM/SIGINT from ctest or a user) the
processes it left behind are killed and the directory is removed. Without
this a failed or interrupted test leaves its API server's database and its
repositories behind (a gigabyte each for some), and a machine that runs the
suite often fills its disk: CI once failed "database or disk is full".
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: isolate.py NAME COMMAND [ARGS...]")
    name, cmd = sys.argv[1], sys.argv[2:]
    tmp = tempfile.mkdtemp(prefix="stash-it-%s-" % name)
    env = dict(os.environ, TMPDIR=tmp)
    # A session of its own: what the test leaves running can be killed as a group.
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)

    def forward(signum, _frame):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    rc = proc.wait()
    kill_group(proc.pid)
    shutil.rmtree(tmp, ignore_errors=True)
    if os.path.exists(tmp):
        print("isolate.py: could not remove %s" % tmp, file=sys.stderr)
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
