#!/usr/bin/env bash
# The demo: starts the bundled UM simulator, runs `ansible-playbook aiqum.jobs.demo` against it, stops it.
# It needs only requirements-demo.txt (ansible-core, requests, the simulator's aiohttp and trustme), installed
# once into its own virtual environment; the full development set (requirements-dev.txt) is for `make test`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VENV="${AIQUM_DEMO_VENV:-$BUILD/venv-demo}"
ensure_venv "$VENV" "$ROOT/requirements-demo.txt"
activate
lay_collection
SIM="$BUILD/umsim-demo"   # the simulator's state folder, ready file and logs
rm -rf "$SIM"
exports="$(python "$ROOT/scripts/simctl.py" start --state-dir "$SIM/state" --ready-file "$SIM/ready.json" --print env -- \
           --rules "$ROOT/playbooks/files/demo-rules.json")"
trap 'python "$ROOT/scripts/simctl.py" stop --ready-file "$SIM/ready.json"' EXIT
eval "$exports"
export UM_USERNAME=storage_admin UM_PASSWORD=Storage-pass-1
log "simulator at $UM_SIM_URL, CA $UM_CA_PATH"
ansible-playbook aiqum.jobs.demo "$@"
