#!/usr/bin/env bash
# Ad hoc use of the modules: `ansible localhost -m aiqum.jobs.um_job_info|um_job_wait -a key=...` with the
# connection taken from the UM_* environment variables. Checks the output, progress lines, async, and that
# the password never shows, not even with -vvvv or a wrong password.
# No `set -x`: it would print the password.
set -eu -o pipefail

# ansible-test runs this script from tests/integration/targets/um_adhoc of its temporary copy, with
# integration_config.yml two levels up, and sets ANSIBLE_PYTHON_INTERPRETER to a placeholder on purpose:
# ad hoc calls give the interpreter themselves.
CONFIG="../../integration_config.yml"
PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python)}"
OUT="$(mktemp -d "${OUTPUT_DIR:-/tmp}/um_adhoc.XXXXXX")"

# UM_* variables (and the simulator's URL) from the integration config written by scripts/test.sh.
eval "$("$PYTHON" - "$CONFIG" <<'PY'
import shlex, sys
import yaml
with open(sys.argv[1], encoding="utf-8") as f:
    c = yaml.safe_load(f)
for name, value in (("UM_HOSTNAME", c["um_hostname"]), ("UM_HTTP_PORT", c["um_port"]),
                    ("UM_CA_PATH", c["um_ca_path"]), ("UM_USERNAME", c["um_username"]),
                    ("UM_PASSWORD", c["um_password"]), ("UM_SIM_URL", c["um_sim_url"])):
    print(f"export {name}={shlex.quote(str(value))}")
PY
)"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
GOOD_PASSWORD="$UM_PASSWORD"

STEP=""
LAST=""

fail() {
    echo "FAILED in step '$STEP': $*" >&2
    if [ -n "$LAST" ] && [ -f "$LAST" ]; then
        echo "---- output of the step (passwords masked):" >&2
        GOOD="$GOOD_PASSWORD" BAD="${BAD_PASSWORD:-}" "$PYTHON" -c '
import os, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
for name in ("GOOD", "BAD"):
    if os.environ[name]:
        text = text.replace(os.environ[name], "<" + name + " PASSWORD>")
sys.stderr.write(text)' "$LAST"
    fi
    exit 1
}

# adhoc NAME EXPECTED_RC ARGS...: run `ansible localhost ARGS...`, output (stdout and stderr) into $OUT/NAME.
adhoc() {
    local name="$1" want="$2" rc=0
    shift 2
    STEP="$name"
    LAST="$OUT/$name.txt"
    ansible localhost -e "ansible_python_interpreter=$PYTHON" "$@" >"$LAST" 2>&1 || rc=$?
    if [ "$want" = "fail" ]; then
        [ "$rc" -ne 0 ] || fail "expected a failure, got rc 0"
    elif [ "$rc" -ne "$want" ]; then
        fail "expected rc $want, got rc $rc"
    fi
}

expect() {  # expect TEXT: the last output holds TEXT (a fixed string)
    grep -qF -- "$1" "$LAST" || fail "output does not hold: $1"
}

expect_not() {  # expect_not TEXT: the last output does not hold TEXT
    if grep -qF -- "$1" "$LAST"; then fail "output holds what it must not: ${2:-$1}"; fi
}

result() {  # result EXPR: evaluate EXPR on the JSON result `r` of the last one-host ad hoc output
    "$PYTHON" - "$LAST" "$1" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("localhost | ")
data, _ = json.JSONDecoder().raw_decode(text[text.index("=> ", start) + 3:])
print(eval(sys.argv[2], {}, {"r": data}))  # test expressions written below, nothing from outside
PY
}

expect_result() {  # expect_result EXPR: EXPR on the last result is true
    [ "$(result "$1")" = "True" ] || fail "not true on the result: $1"
}

# A LUN body UM takes: the simulator's seeded svm1 (cluster1) and service level "Value", size in bytes.
SVM1_KEY="4ea7a442-86d1-11e0-ae1c-000000000001:type=vserver,uuid=4ea7a442-86d1-11e0-5e1c-000000000101"
VALUE_PSL_KEY="1b9e84ba-3f1c-4fa8-9f5c-000000000003"
export SVM1_KEY VALUE_PSL_KEY

lun_body() {  # lun_body LUN_NAME: the JSON body of a LUN creation
    printf '{"name": "%s", "os_type": "linux", "svm": {"key": "%s"}, "space": {"size": 1073741824}, "performance_service_level": {"key": "%s"}}' \
        "$1" "$SVM1_KEY" "$VALUE_PSL_KEY"
}

start_job() {  # start_job LUN_NAME: start a LUN creation ad hoc with um_request; prints the job key
    adhoc "start-$1" 0 -m aiqum.jobs.um_request \
        -a "{\"method\": \"POST\", \"path\": \"/storage-provider/luns\", \"body\": $(lun_body "$1")}"
    expect "localhost | CHANGED"
    expect_not "$UM_PASSWORD" "the password"
    result "r['job_key']"
}

start_scripted() {  # start_scripted LUN_NAME SCRIPT: start a LUN creation whose job follows SCRIPT (X-UMSim-Job); prints the key
    "$PYTHON" - "$1" "$2" <<'PY'
import base64, json, os, ssl, sys, urllib.error, urllib.request
req = urllib.request.Request(os.environ["UM_SIM_URL"] + "/api/storage-provider/luns", method="POST",
                             data=json.dumps({"name": sys.argv[1], "os_type": "linux", "svm": {"key": os.environ["SVM1_KEY"]},
                                              "space": {"size": 1 << 30},
                                              "performance_service_level": {"key": os.environ["VALUE_PSL_KEY"]}}).encode())
req.add_header("Content-Type", "application/json")
req.add_header("X-UMSim-Job", sys.argv[2])
token = base64.b64encode(f"{os.environ['UM_USERNAME']}:{os.environ['UM_PASSWORD']}".encode()).decode()
req.add_header("Authorization", "Basic " + token)
context = ssl.create_default_context(cafile=os.environ["UM_CA_PATH"])
try:
    with urllib.request.urlopen(req, context=context, timeout=30) as answer:
        print(json.load(answer)["job"]["key"])
except urllib.error.HTTPError as exc:
    sys.exit(f"starting the job failed: HTTP {exc.code}: {exc.read().decode(errors='replace')}")
PY
}

# --- set up: one job started ad hoc with um_request (the simulator's default: 2 s, normal), one failing ---
KEY_OK="$(start_job itest-adhoc-ok)"
ERROR_SCRIPT='{"duration": 1, "status": "error", "name": "itest adhoc error", "tasks": [{"name": "Create LUN", "status": "error", "failure_reason": "igroup adhoc-ig is offline"}]}'
KEY_ERROR="$(start_scripted itest-adhoc-error "$ERROR_SCRIPT")"

# --- um_job_info -----------------------------------------------------------------------------------
adhoc info 0 -m aiqum.jobs.um_job_info -a "key=$KEY_OK"
expect "localhost | SUCCESS"
expect "\"key\": \"$KEY_OK\""
expect_not "$UM_PASSWORD" "the password"
expect_result "r['count'] == 1 and r['job']['key'] == '$KEY_OK' and r['changed'] is False"

adhoc info-list 0 -m aiqum.jobs.um_job_info -a "name=itest*adhoc*|Create*LUN status=error max_records=10"
expect "localhost | SUCCESS"
expect_result "'$KEY_ERROR' in [j['key'] for j in r['jobs']] and all(j['status'] == 'error' for j in r['jobs'])"

# --- um_job_wait -----------------------------------------------------------------------------------
adhoc wait-ok 0 -m aiqum.jobs.um_job_wait -a "key=$KEY_OK"
expect "localhost | SUCCESS"
expect "(Create LUN) ended with status normal"
expect_not "$UM_PASSWORD" "the password"
expect_result "r['outcomes'] == {'$KEY_OK': 'normal'} and 'type=lun' in r['outputs']['lunKey'] and r['job']['state'] == 'completed'"

adhoc wait-error fail -m aiqum.jobs.um_job_wait -a "key=$KEY_ERROR"
expect "localhost | FAILED!"
expect "igroup adhoc-ig is offline"
expect "itest adhoc error"
expect_not "$UM_PASSWORD" "the password"
expect_result "r['outcomes'] == {'$KEY_ERROR': 'error'}"

# -vvvv shows connection details and module invocations: the password must not show there either.
adhoc wait-vvvv 0 -vvvv -m aiqum.jobs.um_job_wait -a "key=$KEY_OK"
expect "localhost | SUCCESS"
expect_not "$UM_PASSWORD" "the password"

adhoc info-vvvv 0 -vvvv -m aiqum.jobs.um_job_info -a "key=$KEY_OK"
expect "localhost | SUCCESS"
expect "\"password\": \"VALUE_SPECIFIED_IN_NO_LOG_PARAMETER\""
expect_not "$UM_PASSWORD" "the password"

# Progress lines: a 7 s job with progress_interval=2 prints at least one "waiting:" line for it.
KEY_SLOW="$(start_scripted itest-adhoc-slow '{"duration": 7, "status": "warning", "name": "itest adhoc slow"}')"
adhoc wait-progress 0 -m aiqum.jobs.um_job_wait -a "key=$KEY_SLOW progress_interval=2 timeout=60"
expect "localhost | SUCCESS"
expect "waiting: job $KEY_SLOW (itest adhoc slow): running"
expect "ended with status warning"
expect_not "$UM_PASSWORD" "the password"
expect_result "r['outcomes'] == {'$KEY_SLOW': 'warning'} and r['pending'] == []"

# Under async the module runs once, without progress lines.
KEY_ASYNC="$(start_scripted itest-adhoc-async '{"duration": 2, "name": "itest adhoc async"}')"
adhoc wait-async 0 -B 60 -P 1 -m aiqum.jobs.um_job_wait -a "key=$KEY_ASYNC progress_interval=1"
expect "localhost | SUCCESS"
expect_not "waiting: job"
expect_not "$UM_PASSWORD" "the password"
expect_result "r['outcomes'] == {'$KEY_ASYNC': 'normal'}"

# --- a wrong password from the environment: a clear 401, the password nowhere ---------------------
BAD_PASSWORD="Not-The-Password-42"
adhoc_bad_password() {  # like adhoc, with UM_PASSWORD set to a wrong password
    local good="$UM_PASSWORD"
    UM_PASSWORD="$BAD_PASSWORD"
    adhoc "$@"
    UM_PASSWORD="$good"
}
adhoc_bad_password info-401 fail -m aiqum.jobs.um_job_info -a "key=$KEY_OK"
expect "localhost | FAILED!"
expect "HTTP 401"
expect "authentication failed"
expect_not "$BAD_PASSWORD" "the wrong password"
expect_not "$UM_PASSWORD" "the password"

adhoc_bad_password wait-401-vvvv fail -vvvv -m aiqum.jobs.um_job_wait -a "key=$KEY_OK"
expect "HTTP 401"
expect_not "$BAD_PASSWORD" "the wrong password"

echo "um_adhoc: all checks passed"
