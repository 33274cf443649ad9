#!/usr/bin/env bash
# The benchmarks (`make bench`): run every comparison against the bundled simulator and write
# tests/benchmarks/results/results.json, docs/performance.md and docs/performance.png.
# About 25-30 minutes on 2 cores; run it on a quiet machine for figures worth committing.
# Usage: scripts/bench.sh [--only s1,s2,s3,s4,s5] [--runs N] [--profile full|smoke] ...
#        (arguments go to tests/benchmarks/bench.py; see its --help)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_venv
# A copy of our own: `make test` re-lays build/collections and must not pull the collection away mid-run.
COLL_ROOT="$BUILD/bench/collections"
COLL_DIR="$COLL_ROOT/ansible_collections/aiqum/jobs"
activate
lay_collection
log "benchmarks (log of each run under build/bench/work-*/runs/)"
python "$ROOT/tests/benchmarks/bench.py" --collections "$COLL_ROOT" "$@"
