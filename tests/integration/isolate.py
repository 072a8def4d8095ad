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
Containers that the embedded node ran with podman live outside the process
group (conmon holds them): those whose logs were under the directory are
removed too, with their pods.
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


def podman_leftovers(tmp):
    """Removes the podman pods and containers of nodes whose data was under tmp."""
    if not shutil.which("podman"):
        return
    try:
        out = subprocess.run(
            ["podman", "ps", "-a", "--filter", "label=io.stash.node", "--format",
             '{{.ID}} {{index .Labels "io.stash.node"}} {{index .Labels "io.stash.log"}}'],
            capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return
    nodes = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith(tmp + os.sep):
            nodes.add(parts[1])
    for node in sorted(nodes):
        for kind in (["pod", "ps"], ["ps", "-a"]):
            try:
                ids = subprocess.run(["podman"] + kind + ["-q", "--filter",
                                                          "label=io.stash.node=" + node],
                                     capture_output=True, text=True, timeout=60).stdout.split()
                if ids:
                    rm = ["podman", "pod", "rm", "-f"] if kind[0] == "pod" else ["podman", "rm",
                                                                                 "-f"]
                    subprocess.run(rm + ids, capture_output=True, timeout=300)
            except (OSError, subprocess.SubprocessError):
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
    podman_leftovers(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    if os.path.exists(tmp):
        print("isolate.py: could not remove %s" % tmp, file=sys.stderr)
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
