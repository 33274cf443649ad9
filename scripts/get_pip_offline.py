# -*- coding: utf-8 -*-
"""ansible-test's pip bootstrap without the network.

scripts/ansible-test-offline-pip.sh copies this file to ~/.ansible/test/cache/get_pip_<version>.py, next to
the pip wheel of that version (from the package index). ansible-test runs it instead of downloading a get-pip
script: it installs pip from that wheel (a wheel on sys.path is importable).
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
VERSION = HERE.stem[len("get_pip_"):].replace("_", ".")


def main() -> None:
    sys.path.insert(0, str(HERE.parent / f"pip-{VERSION}-py3-none-any.whl"))
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    sys.argv = ["pip", "install", *args]
    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
