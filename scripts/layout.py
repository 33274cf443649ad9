#!/usr/bin/env python
"""Lay a copy of the collection at DEST/ansible_collections/aiqum/jobs: the one way every script and suite does it.

The copy holds the files git would track (committed, staged or new, minus .gitignore'd ones), so build
folders, virtual environments and caches never come along. It is a real copy, not a symlink: ansible-test
checks the real path. With --git-index the copy gets its own throw-away git index, so ansible-test (which
lists files through git) sees exactly those files even though the copy sits in the ignored build folder.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Tracked but not part of a collection copy: the benchmark figures (data for docs/performance.md).
LEFT_OUT = ("tests/benchmarks/results/",)


def tracked_files(root: Path = ROOT) -> list[str]:
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         check=True, capture_output=True).stdout.decode()
    return sorted({name for name in out.split("\0") if name and not name.startswith(LEFT_OUT) and (root / name).is_file()})


def lay_collection(dest_root: Path, git_index: bool = False, root: Path = ROOT) -> Path:
    """Copy the collection to DEST_ROOT/ansible_collections/aiqum/jobs (replacing it); return that folder."""
    coll = Path(dest_root) / "ansible_collections" / "aiqum" / "jobs"
    if coll.exists():
        shutil.rmtree(coll)
    for name in tracked_files(root):
        target = coll / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    if git_index:
        subprocess.run(["git", "-C", str(coll), "init", "-q"], check=True)
        subprocess.run(["git", "-C", str(coll), "add", "-A"], check=True)
    return coll


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest_root", help="the folder ANSIBLE_COLLECTIONS_PATH will point at")
    parser.add_argument("--git-index", action="store_true", help="give the copy its own git index (ansible-test)")
    args = parser.parse_args()
    print(lay_collection(Path(args.dest_root), args.git_index))
    return 0


if __name__ == "__main__":
    sys.exit(main())
