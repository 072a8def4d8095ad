"""The layer guard must fail on a planted upward include and pass without it."""
import os
import shutil
import subprocess
import sys
import tempfile

guard = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "src")
    os.makedirs(os.path.join(src, "core"))
    os.makedirs(os.path.join(src, "engine"))
    with open(os.path.join(src, "engine", "ok.cc"), "w") as f:
        f.write('#include "stash/core/status.h"\n')
    clean = subprocess.run([sys.executable, guard, src], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout
    # Plant: core (tier 0) including engine (tier 4).
    with open(os.path.join(src, "core", "bad.cc"), "w") as f:
        f.write('#include "stash/core/status.h"\n#include "stash/engine/backup.h"\n')
    dirty = subprocess.run([sys.executable, guard, src], capture_output=True, text=True)
    assert dirty.returncode == 1, dirty.stdout
    assert "bad.cc:2" in dirty.stdout and "'core'" in dirty.stdout and "'engine'" in dirty.stdout, dirty.stdout
print("guard fails on the planted include and passes on the clean tree")
