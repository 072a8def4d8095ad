#!/usr/bin/env python3
"""A RestoreSession against `stash restore` of the same snapshot (issue 14:
the RestoreSession path adds no more than a few seconds over the engine).

Starts `stash server` (operator and embedded node), applies the guide's
Deployment (3 replicas, one PVC), writes --mib MiB into its volume (half
random, half a tar of system libraries), takes one instant backup through a
BackupSession, and then, alternating in each round:
  - the data deleted from the PVC, a RestoreSession applied; the time from
    `kubectl apply` to phase Succeeded (includes the pods rolling with the
    stash-init container and the restore in it), then the RestoreSession
    deleted and the pods rolled back;
  - `stash restore <snapshot> --target DIR` of the same snapshot, same
    repository.
Prints medians, ranges and the difference; not a test.

Usage: bench/bench_restore_session.py [--stash build/bin/stash] [--mib 1024] [--rounds 3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def write_data(d, mib):
    half = mib // 2 << 20
    with open(os.path.join(d, "random.bin"), "wb") as f:
        for _ in range(half >> 20):
            f.write(os.urandom(1 << 20))
    with open(os.path.join(d, "libs.tar"), "wb") as f:
        left = half
        with tarfile.open(fileobj=f, mode="w|") as t:
            for root, _, files in os.walk("/usr/lib/x86_64-linux-gnu"):
                for name in files:
                    p = os.path.join(root, name)
                    if left <= 0:
                        break
                    if os.path.isfile(p) and not os.path.islink(p):
                        left -= os.path.getsize(p) + 512
                        t.add(p)
                if left <= 0:
                    break


def restore_session(name):
    return json.dumps({
        "apiVersion": "stash.appscode.com/v1beta1", "kind": "RestoreSession",
        "metadata": {"name": name, "namespace": "demo"},
        "spec": {"repository": {"name": "gcs-repo"},
                 "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": "stash-demo"},
                            "volumeMounts": [{"name": "source-data",
                                              "mountPath": "/source/data"}],
                            "rules": [{"paths": ["/source/data"]}]}}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash", default=os.path.join(HERE, "..", "build", "bin", "stash"))
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ["STASH_BIN"] = os.path.abspath(args.stash)
    from operator_env import OperatorEnv, seed  # noqa: E402 (after STASH_BIN)

    env = OperatorEnv().start()
    work = tempfile.mkdtemp(prefix="stash-bench-rs-")
    try:
        env.create_namespace_and_secret()
        env.kubectl("apply", "-f", "-", input=seed("deployment.yaml"))
        pvc = env.wait_for("the PVC", lambda: os.path.isdir(env.pvc_dir("source-pvc")) and
                           env.pvc_dir("source-pvc"))
        write_data(pvc, args.mib)
        size = sum(os.path.getsize(os.path.join(pvc, n)) for n in os.listdir(pvc))
        env.kubectl("apply", "-f", "-", input=env.local_repository())
        env.kubectl("apply", "-f", "-", input=seed("backupconfiguration.yaml"))
        env.wait_for("BackupConfiguration Ready", lambda: (env.get_json(
            "bc", "-n", "demo", "pause-backup") or {}).get("status", {}).get("phase") == "Ready",
            timeout=120)
        env.kubectl("apply", "-f", "-", input=seed("backupsession.yaml"))
        t0 = time.time()
        s = env.wait_for("the instant backup", lambda: (lambda i: i if i and i[0].get(
            "status", {}).get("phase") in ("Succeeded", "Failed") else None)(
            (env.get_json("backupsession", "-n", "demo") or {}).get("items", [])), timeout=900)[0]
        if s["status"]["phase"] != "Succeeded":
            sys.exit("backup failed: %s" % s["status"])
        print("backup of %.0f MiB through a BackupSession: %.1f s" % (size / 2**20, time.time() - t0))
        env.kubectl("patch", "bc", "-n", "demo", "pause-backup", "--type=merge",
                    "-p", '{"spec":{"paused":true}}')
        snaps = json.loads(subprocess.run(
            [args.stash, "-r", env.repo_dir, "snapshots", "--json"], capture_output=True,
            text=True, check=True, env=dict(os.environ, RESTIC_PASSWORD="changeit")).stdout)
        snap = snaps[-1]["id"]

        rs_times, cli_times = [], []
        for r in range(args.rounds):
            for n in os.listdir(pvc):
                os.remove(os.path.join(pvc, n))
            name = "bench-%d" % r
            t0 = time.time()
            env.kubectl("apply", "-f", "-", input=restore_session(name))
            st = env.wait_for("RestoreSession " + name, lambda: (lambda o: o if o.get(
                "status", {}).get("phase") in ("Succeeded", "Failed", "Invalid") else None)(
                env.get_json("restoresession", "-n", "demo", name) or {}), timeout=900,
                interval=0.05)
            rs_times.append(time.time() - t0)
            if st["status"]["phase"] != "Succeeded":
                sys.exit("restore failed: %s" % st["status"])
            got = sum(os.path.getsize(os.path.join(pvc, n)) for n in os.listdir(pvc))
            assert got == size, (got, size)
            env.kubectl("delete", "restoresession", "-n", "demo", name)
            env.wait_for("pods without stash-init", lambda: not (env.get_json(
                "deploy", "-n", "demo", "stash-demo") or {}).get("spec", {}).get(
                "template", {}).get("spec", {}).get("initContainers"))

            target = os.path.join(work, "target")
            shutil.rmtree(target, ignore_errors=True)
            t0 = time.time()
            subprocess.run([args.stash, "-r", env.repo_dir, "restore", snap, "--target", target],
                           check=True, capture_output=True,
                           env=dict(os.environ, RESTIC_PASSWORD="changeit"))
            cli_times.append(time.time() - t0)
            print("round %d: RestoreSession %.2f s, stash restore %.2f s" %
                  (r + 1, rs_times[-1], cli_times[-1]), flush=True)

        load = os.getloadavg()[0]
        m_rs, m_cli = statistics.median(rs_times), statistics.median(cli_times)
        print("%.0f MiB, %d rounds, load %.1f" % (size / 2**20, args.rounds, load))
        print("  RestoreSession (apply → Succeeded)  median %.2f s (min %.2f, max %.2f)" %
              (m_rs, min(rs_times), max(rs_times)))
        print("  stash restore                       median %.2f s (min %.2f, max %.2f)" %
              (m_cli, min(cli_times), max(cli_times)))
        print("  RestoreSession - stash restore: %+.2f s" % (m_rs - m_cli))
    finally:
        env.stop()
        # The node's podman pods outlive it by design; nothing restarts it.
        from isolate import podman_leftovers  # noqa: E402
        podman_leftovers(env.server.data_dir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
