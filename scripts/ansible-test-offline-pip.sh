#!/usr/bin/env bash
# ansible-test bootstraps pip into each of its virtual environments with a "get-pip" script that it
# downloads from a host that offline and firewalled machines cannot reach. It looks in
# ~/.ansible/test/cache/ before downloading: this puts a small stand-in there that installs pip from
# the pip wheel, which comes from the ordinary package index. Idempotent; run once per HOME.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON_BIN="${PYTHON_BIN:-${AIQUM_VENV:-$ROOT/.venv}/bin/python}"
# The pip version ansible-test wants, read from ansible-test itself so an upgrade cannot break this.
PIP_VERSION="$("$PYTHON_BIN" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
m = re.search(r"pip='([0-9.]+)'", src.read_text())
print(m.group(1) if m else "24.2")
PY
)"
CACHE="$HOME/.ansible/test/cache"
SCRIPT="$CACHE/get_pip_${PIP_VERSION//./_}.py"
WHEEL="$CACHE/pip-${PIP_VERSION}-py3-none-any.whl"
mkdir -p "$CACHE"
if [ ! -f "$WHEEL" ]; then
  "$PYTHON_BIN" -m pip download -q --disable-pip-version-check --no-deps "pip==${PIP_VERSION}" -d "$CACHE" 2>&1 \
    | grep -v '^WARNING: Location' || true
fi
[ -f "$WHEEL" ] || { echo "could not download pip ${PIP_VERSION} from the package index" >&2; exit 1; }
cat > "$SCRIPT" <<PY
# Written by aiqum.jobs scripts/ansible-test-offline-pip.sh: installs pip ${PIP_VERSION} from its wheel
# (a wheel on sys.path is importable) instead of a downloaded get-pip script.
import runpy
import sys

sys.path.insert(0, "${WHEEL}")
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install"] + args
runpy.run_module("pip", run_name="__main__", alter_sys=True)
PY
echo "ansible-test pip bootstrap: $SCRIPT"
