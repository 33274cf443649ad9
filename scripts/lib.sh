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

# Create or reuse .venv with the pinned development set; reinstall when requirements-dev.txt changes.
ensure_venv() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  command -v "$PY" >/dev/null 2>&1 || PY=python3
  log "setting up $VENV (pinned requirements-dev.txt)"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt" 2>&1 \
    | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -c 'import ansible, requests, aiohttp, trustme' # fail loudly if the install did not work
  echo "$want" > "$stamp"
}

# Lay a copy of the collection (no symlink: ansible-test checks the real path) under build/.
lay_collection() {
  log "laying the collection under $COLL_DIR"
  rm -rf "$COLL_DIR"
  mkdir -p "$COLL_DIR"
  tar -C "$ROOT" -cf - \
    --exclude=./.git --exclude=./.venv --exclude=./build --exclude='./build-*' --exclude=./dist --exclude=./.ansible \
    --exclude='__pycache__' --exclude=./.pytest_cache --exclude=./tests/output \
    --exclude=./tests/benchmarks/results --exclude='*.tar.gz' . | tar -C "$COLL_DIR" -xf -
  # The copy lives in the parent repository's ignored build/: ansible-test would list no files there.
  # Its own throw-away git index makes ansible-test see exactly the files git would track.
  git -C "$COLL_DIR" init -q
  git -C "$COLL_DIR" add -A
}

activate() {
  export PATH="$VENV/bin:$PATH"
  export ANSIBLE_COLLECTIONS_PATH="$COLL_ROOT"
  export ANSIBLE_PYTHON_INTERPRETER="$VENV/bin/python"
  export ANSIBLE_LOCALHOST_WARNING=false
  export ANSIBLE_INVENTORY_UNPARSED_WARNING=false
  export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-}"
}
