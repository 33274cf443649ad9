#!/usr/bin/env bash
# ansible-test bootstraps pip into each of its virtual environments with a "get-pip" script that it
# downloads from a host that offline and firewalled machines cannot reach. It looks in
# ~/.ansible/test/cache/ before downloading: this puts a small stand-in there that installs pip from
# the pip wheel, which comes from the ordinary package index. Idempotent; run once per HOME.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON_BIN="${PYTHON_BIN:-${AIQUM_VENV:-$ROOT/.venv}/bin/python}"
# The pip version ansible-test wants, read from ansible-test itself so an upgrade cannot break this.
TEST_DIR="$("$PYTHON_BIN" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
PIP_VERSION="$(grep -oE "pip='[0-9.]+'" "$TEST_DIR/_internal/python_requirements.py" | head -1 | tr -dc '0-9.' || true)"
PIP_VERSION="${PIP_VERSION:-24.2}"
CACHE="$HOME/.ansible/test/cache"
SCRIPT="$CACHE/get_pip_${PIP_VERSION//./_}.py"
WHEEL="$CACHE/pip-${PIP_VERSION}-py3-none-any.whl"
mkdir -p "$CACHE"
if [ ! -f "$WHEEL" ]; then
  "$PYTHON_BIN" -m pip download -q --disable-pip-version-check --no-deps "pip==${PIP_VERSION}" -d "$CACHE" 2>&1 \
    | grep -v '^WARNING: Location' || true
fi
[ -f "$WHEEL" ] || { echo "could not download pip ${PIP_VERSION} from the package index" >&2; exit 1; }
cp "$ROOT/scripts/get_pip_offline.py" "$SCRIPT"
echo "ansible-test pip bootstrap: $SCRIPT"
