# Shared helpers for the project's scripts: sourced, not run.
# Every script works from the repository root and its own virtual environment (.venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AIQUM_VENV:-$ROOT/.venv}"
BUILD="${AIQUM_BUILD:-$ROOT/build}"   # override to keep parallel runs apart
COLL_ROOT="$BUILD/collections"                       # what ANSIBLE_COLLECTIONS_PATH points at
COLL_DIR="$COLL_ROOT/ansible_collections/aiqum/jobs" # where ansible-test needs the collection
PY="${PYTHON:-python3.11}"

log() { printf '\n==> %s\n' "$*" >&2; }

# ensure_venv [VENV REQUIREMENTS CHECK]: create or reuse a virtual environment with a pinned requirements file
# (default: .venv with requirements-dev.txt); reinstall when that file changes. CHECK is a Python import line
# that must work afterwards. One progress line before the install and one after it.
ensure_venv() {
  local venv="${1:-$VENV}" req="${2:-$ROOT/requirements-dev.txt}"
  local check="${3:-import ansible, requests, aiohttp, trustme}"
  local stamp="$venv/.requirements.sha256" want count start
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  command -v "$PY" >/dev/null 2>&1 || PY=python3
  count="$(grep -c '^[A-Za-z0-9]' "$req")"
  log "setting up $venv: $count pinned packages from $(basename "$req") and their dependencies (first run only)"
  start=$(date +%s)
  [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv" || return 1
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" 2>&1 \
    | grep -v '^WARNING: Location' || true
  "$venv/bin/python" -c "$check" || return 1 # fail loudly if the install did not work
  echo "$want" > "$stamp"
  printf '    %s ready in %ss\n' "$venv" "$(( $(date +%s) - start ))" >&2
}

# Lay a copy of the collection under build/ (scripts/layout.py: the one way, also used by the test suites).
lay_collection() {
  log "laying the collection under $COLL_DIR"
  python3 "$ROOT/scripts/layout.py" --git-index "$COLL_ROOT" >/dev/null
}

activate() {
  export PATH="$VENV/bin:$PATH"
  export ANSIBLE_COLLECTIONS_PATH="$COLL_ROOT"
  export ANSIBLE_PYTHON_INTERPRETER="$VENV/bin/python"
  export ANSIBLE_LOCALHOST_WARNING=false
  export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
  export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-}"
}
