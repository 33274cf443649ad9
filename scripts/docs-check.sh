#!/usr/bin/env bash
# The documentation check: lint the module and extra docs, build the HTML docsite offline, check every link
# between our own pages (Sphinx's linkcheck builder), and run the README's example against the simulator (with
# --check, then for real). Fails on any finding.
#
# Usage: scripts/docs-check.sh
#   Output: build/docs/html/index.html (sources in build/docs/src).
#   AIQUM_DOCS_REUSE_COPY=1  reuse the collection copy under build/collections instead of laying a new one
#                            (for scripts/test.sh, which has just laid it).
#
# Nothing here needs the network: the docs come from the collection copy (--use-current), and the few
# references into docs.ansible.com resolve through a small committed inventory (scripts/docs/) instead of
# one downloaded by intersphinx. A proxy that cannot be reached is set for the tools, so that anything that
# still tries the network fails at once instead of hanging.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCS="$BUILD/docs"
SRC="$DOCS/src"
HTML="$DOCS/html"
COLLECTION=aiqum.jobs
started=$(date +%s)

fail() { printf '\nFAIL  docs: %s\n' "$*" >&2; exit 1; }
offline() { HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 \
            https_proxy=http://127.0.0.1:9 NO_PROXY= no_proxy= "$@"; }

ensure_venv
activate
if [ "${AIQUM_DOCS_REUSE_COPY:-}" = 1 ] && [ -f "$COLL_DIR/galaxy.yml" ]; then
  log "reusing the collection copy under $COLL_DIR"
else
  lay_collection
fi

# --- 1. lint: plugin and role docs (schema, markup, references), extra docs, rstcheck ------------------
log "antsibull-docs lint-collection-docs --plugin-docs"
lint_out="$DOCS/lint.txt"
mkdir -p "$DOCS"
set +e
(cd "$COLL_DIR" && offline antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
   --validate-collection-refs dependent .) >"$lint_out" 2>&1
lint_rc=$?
set -e
if [ "$lint_rc" -ne 0 ] || [ -s "$lint_out" ]; then
  cat "$lint_out" >&2
  fail "antsibull-docs lint-collection-docs reported the findings above (rc $lint_rc)"
fi
echo "lint: no findings"

# --- 2. build the docsite -------------------------------------------------------------------------------
log "building the HTML docsite into $HTML"
rm -rf "$DOCS/src" "$HTML" "$DOCS/doctrees"
mkdir -m 700 "$SRC"   # antsibull-docs wants a directory only its owner may write to
# The Ansible theme is used when it is installed; Sphinx's own alabaster otherwise (same content).
theme=alabaster
python -c 'import sphinx_ansible_theme' 2>/dev/null && theme=sphinx_ansible_theme
offline antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$SRC" --sphinx-theme "$theme" \
  --project "$COLLECTION" --copyright "aiqum.jobs maintainers" --title "aiqum.jobs documentation" \
  --no-add-antsibull-docs-version "$COLLECTION" >/dev/null
chmod og-w "$SRC/rst"
offline antsibull-docs --config-file "$SRC/antsibull-docs.cfg" collection --use-current --fail-on-error \
  --cleanup everything --dest-dir "$SRC/rst" "$COLLECTION" >/dev/null

# References into the Ansible docs resolve offline (scripts/docs/conf_offline.py says how).
sphobjinv convert zlib -q "$ROOT/scripts/docs/ansible-devel-objects.txt" "$SRC/ansible_devel.inv"
cat "$ROOT/scripts/docs/conf_offline.py" >>"$SRC/conf.py"

sphinx() {  # sphinx() BUILDER OUT: nitpicky (conf.py), warnings are errors, the output kept in $DOCS/BUILDER.txt
  set +e
  offline sphinx-build -b "$1" -d "$DOCS/doctrees" -c "$SRC" -W --keep-going -q "$SRC/rst" "$2" >"$DOCS/$1.txt" 2>&1
  local rc=$?
  set -e
  if [ "$rc" -ne 0 ] || grep -qiE 'warning|error|broken' "$DOCS/$1.txt"; then
    cat "$DOCS/$1.txt" >&2
    fail "sphinx-build -b $1 reported the problems above (rc $rc)"
  fi
}
sphinx html "$HTML"
echo "sphinx-build: no warnings ($theme theme)"

# --- 3. links between our own pages: Sphinx's linkcheck builder (offline: web links are not fetched) -------
log "sphinx-build -b linkcheck (links between our own pages)"
sphinx linkcheck "$DOCS/linkcheck"
echo "linkcheck: $(grep -c '"status": "ignored"' "$DOCS/linkcheck/output.json" || true) web links listed, not fetched"
# Pages that must be built, and that the guide must link to.
guide="$HTML/collections/aiqum/jobs/docsite/guide.html"
for page in index.html collections/aiqum/jobs/index.html collections/aiqum/jobs/docsite/guide.html; do
  [ -f "$HTML/$page" ] || fail "expected page $page was not built"
done
for page in um_request_module um_job_wait_module um_job_info_module run_operation_role; do
  [ -f "$HTML/collections/aiqum/jobs/$page.html" ] || fail "expected page collections/aiqum/jobs/$page.html was not built"
  grep -q "href=\"../$page.html" "$guide" || fail "the guide (docsite/guide.rst) does not link to $page"
done

# --- 4. the README's example runs as written (connection aside) against the simulator, --check and for real --
log "the README example against the simulator, with --check and for real (tests/docs)"
(cd "$ROOT" && AIQUM_COLLECTIONS_PATH="$COLL_ROOT" python -m pytest tests/docs -q -p no:cacheprovider) \
  || fail "the README example does not run as written (tests/docs/test_readme_example.py)"

echo "PASS  docs ($(( $(date +%s) - started ))s): open $HTML/index.html"
