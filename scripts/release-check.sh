#!/usr/bin/env bash
# Release hygiene: the built tarball is clean, installs into an empty collections path, documents its
# modules, runs the demo from the installed copy, passes galaxy-importer, and the changelog builds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_venv
activate
lay_collection
DIST="$BUILD/dist"
INSTALLED="$BUILD/installed"
rm -rf "$DIST" "$INSTALLED"
mkdir -p "$DIST" "$INSTALLED"
fail() { echo "release-check: $*" >&2; exit 1; }

log "build the tarball"
(cd "$COLL_DIR" && ansible-galaxy collection build --output-path "$DIST" >/dev/null)
version="$(python -c 'import yaml,sys; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$ROOT/galaxy.yml")"
tarball="$DIST/aiqum-jobs-$version.tar.gz"
[ -f "$tarball" ] || fail "no tarball $tarball"

log "no dev clutter in the tarball"
contents="$(tar tzf "$tarball")"
clutter="$(grep -E '(^|/)(\.git|\.venv|build|dist|\.ansible|\.pytest_cache|__pycache__|tests/output)(/|$)|^Makefile$|^requirements-(dev|eda|demo|nox)\.txt$|^noxfile\.py$|^scripts/(test|lib|bench)\.sh$|^scripts/(layout|get_pip_offline)\.py$|\.pyc$' <<<"$contents" || true)"
[ -z "$clutter" ] || fail "dev clutter in the tarball: $clutter"
grep -qx 'plugins/modules/um_job_wait.py' <<<"$contents" || fail "tarball lacks the modules"
grep -qx 'extensions/eda/plugins/event_source/um_jobs.py' <<<"$contents" || fail "tarball lacks the EDA event source"

log "install into an empty collections path"
ANSIBLE_COLLECTIONS_PATH="$INSTALLED" ansible-galaxy collection install --force "$tarball" -p "$INSTALLED" >/dev/null
inst="$INSTALLED/ansible_collections/aiqum/jobs"
[ -f "$inst/MANIFEST.json" ] || fail "installed copy has no MANIFEST.json"

log "ansible-doc from the installed copy"
listing="$(ANSIBLE_COLLECTIONS_PATH="$INSTALLED" ansible-doc -l aiqum.jobs)"
echo "$listing"
for m in um_job_info um_job_wait um_request; do
  grep -q "aiqum.jobs.$m" <<<"$listing" || fail "ansible-doc -l does not list aiqum.jobs.$m"
  ANSIBLE_COLLECTIONS_PATH="$INSTALLED" ansible-doc "aiqum.jobs.$m" >/dev/null || fail "ansible-doc aiqum.jobs.$m failed"
done

log "the demo from the installed copy"
rm -rf "$BUILD/umsim-release"
state="$BUILD/umsim-release/state"
ready="$BUILD/umsim-release/ready.json"
exports="$(python "$inst/scripts/simctl.py" start --state-dir "$state" --ready-file "$ready" --print env -- \
        --rules "$inst/playbooks/files/demo-rules.json")" || fail "simulator from the installed copy did not start"
trap 'python "$inst/scripts/simctl.py" stop --ready-file "$ready"' EXIT
demo_log="$BUILD/release-demo.log"
(eval "$exports" && UM_USERNAME=storage_admin UM_PASSWORD=Storage-pass-1 ANSIBLE_COLLECTIONS_PATH="$INSTALLED" \
  ansible-playbook aiqum.jobs.demo) >"$demo_log" 2>&1 || { cat "$demo_log"; fail "the demo failed from the installed copy"; }
grep -q 'rescued=1' "$demo_log" || { cat "$demo_log"; fail "the demo did not catch the error job"; }
grep -q "Storage-pass-1" "$demo_log" && fail "the password appears in the demo output"
python "$inst/scripts/simctl.py" stop --ready-file "$ready"
trap - EXIT

log "galaxy-importer (the checks Galaxy runs on upload; its ansible-test step is off)"
cfg="$BUILD/galaxy-importer.cfg"
printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n' > "$cfg"
imp="$BUILD/galaxy-importer.log"
(cd "$BUILD" && GALAXY_IMPORTER_CONFIG="$cfg" python -m galaxy_importer.main "$tarball") >"$imp" 2>&1 \
  || { cat "$imp"; fail "galaxy-importer failed"; }
grep -q 'Importer processing completed successfully' "$imp" || { cat "$imp"; fail "galaxy-importer did not complete"; }
if grep -E '^(ERROR|WARNING)' "$imp"; then fail "galaxy-importer reported problems (above)"; fi

log "changelog from fragments"
cl="$BUILD/changelog-check"
rm -rf "$cl" && mkdir -p "$cl" && cp -r "$ROOT/changelogs" "$ROOT/galaxy.yml" "$cl/"
mkdir -p "$cl/plugins" && cp -r "$ROOT/plugins/modules" "$cl/plugins/"
(cd "$cl" && antsibull-changelog lint && antsibull-changelog release --version "$version" --date 2026-11-27 >/dev/null) \
  || fail "antsibull-changelog could not build the changelog"
grep -q "um_job_wait" "$cl/CHANGELOG.rst" || fail "the changelog lacks the fragments"
echo "release-check: OK ($tarball)"
