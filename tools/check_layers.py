#!/usr/bin/env python3
"""Keeps the layers honest: every #include "stash/<layer>/..." under
src/<layer>/ must name the layer itself or a layer below it.

Usage: check_layers.py [SRC_DIR]   (default: the src/ next to this script)
Exit status 0 when the tree is clean, 1 with one line per violation.
"""
import os
import re
import sys

# tier of each layer: a layer may include only layers of a strictly lower
# tier, plus itself. Keep in sync with src/CMakeLists.txt and
# docs/ARCHITECTURE.md.
TIERS = {
    "core": 0,
    "format": 1, "crypto": 1, "chunker": 1, "http": 1,
    "backend": 2,
    "repo": 3,
    "engine": 4,
    "api": 5, "kube": 5,
    "apis": 6,
    "controller": 7, "agent": 7,
    "cli": 8,
}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]stash/([a-z_]+)/')
SOURCE_EXT = (".h", ".hh", ".hpp", ".cc", ".cpp", ".c", ".inc")


def check(src_dir):
    problems = []
    for layer in sorted(os.listdir(src_dir)):
        root = os.path.join(src_dir, layer)
        if not os.path.isdir(root):
            continue
        if layer not in TIERS:
            problems.append(f"{root}: unknown layer '{layer}' (add it to TIERS in {__file__})")
            continue
        for dirpath, _, files in os.walk(root):
            for name in sorted(files):
                if not name.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        if target == layer:
                            continue
                        if target not in TIERS:
                            problems.append(f"{path}:{lineno}: includes unknown layer '{target}'")
                        elif TIERS[target] >= TIERS[layer]:
                            problems.append(
                                f"{path}:{lineno}: layer '{layer}' (tier {TIERS[layer]}) must not "
                                f"include '{target}' (tier {TIERS[target]}): dependencies point down only")
    return problems


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    problems = check(os.path.normpath(src))
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering violation(s)")
        return 1
    print("layers ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
