#!/usr/bin/env bash
# The demo: starts the bundled UM simulator, runs `ansible-playbook aiqum.jobs.demo` against it, stops it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_venv
activate
lay_collection
STATE="$BUILD/umsim-demo"
READY="$STATE/ready.json"
rm -rf "$STATE"
info="$(python "$ROOT/scripts/simctl.py" start --state-dir "$STATE" --ready-file "$READY" -- \
        --rules "$ROOT/playbooks/files/demo-rules.json")"
trap 'python "$ROOT/scripts/simctl.py" stop --ready-file "$READY"' EXIT
eval "$(python - "$info" <<'PY'
import json, shlex, sys
i = json.loads(sys.argv[1])
for k, v in {"UM_HOSTNAME": i["host"], "UM_HTTP_PORT": i["port"], "UM_CA_PATH": i["ca_file"],
             "UM_USERNAME": "storage_admin", "UM_PASSWORD": "Storage-pass-1"}.items():
    print(f"export {k}={shlex.quote(str(v))}")
PY
)"
log "simulator at $(python -c 'import json,sys; print(json.loads(sys.argv[1])["url"])' "$info"), CA $UM_CA_PATH"
ansible-playbook aiqum.jobs.demo "$@"
