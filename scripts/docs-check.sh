#!/usr/bin/env bash
# The documentation check: lint the module and extra docs, build the HTML docsite offline, and check
# every link between our own pages. Fails on any finding.
#
# Usage: scripts/docs-check.sh
#   Output: build/docs/html/index.html (sources in build/docs/src).
#   AIQUM_DOCS_REUSE_COPY=1  reuse the collection copy under build/collections instead of laying a new one
#                            (for scripts/test.sh, which has just laid it).
#
# Nothing here needs the network: the docs come from the collection copy (--use-current), and the few
# references into docs.ansible.com resolve through a small inventory written here instead of one
# downloaded by intersphinx. A proxy that cannot be reached is set for the tools, so that anything that
# still tries the network fails at once instead of hanging.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCS="$BUILD/docs"
SRC="$DOCS/src"
HTML="$DOCS/html"
COLLECTION=aiqum.jobs
ANSIBLE_DOCS_URL="https://docs.ansible.com/projects/ansible/devel/"
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

# References into the Ansible docs (return values, action plugins, ansible.builtin modules...) are
# resolved by intersphinx. Instead of downloading docs.ansible.com's inventory, write one that holds just
# the labels our pages use. A label missing here makes sphinx-build fail with "undefined label": add it.
python - "$SRC/rst" "$SRC/ansible_devel.inv" <<'PY'
import pathlib, re, sys, zlib
rst, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
KNOWN = {  # label -> (page, title) on docs.ansible.com
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
    "action_plugins": ("plugins/action.html", "Action plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html", "Ansible Configuration Settings"),
    "module_defaults": ("playbook_guide/playbooks_module_defaults.html", "Module defaults"),
    "playbooks_async": ("playbook_guide/playbooks_async.html", "Asynchronous actions and polling"),
    "playbooks_environment": ("playbook_guide/playbooks_environment.html", "Setting the remote environment"),
    "check_mode_dry": ("playbook_guide/playbooks_checkmode.html", "Validating tasks: check mode and diff mode"),
}
text = "\n".join(p.read_text(encoding="utf-8") for p in rst.rglob("*.rst"))
defined = set(re.findall(r"^\.\. _([^:\n]+):\s*$", text, re.M))
used = {m.group(1) or m.group(2) for m in re.finditer(r":ref:`(?:[^`<]*<([^>`]+)>|([^`<]+))`", text)}
used = {u.strip() for u in used}
lines = []
for label in sorted(used - defined):
    m = re.fullmatch(r"ansible_collections\.ansible\.builtin\.(\w+)_(module|lookup|filter|test|connection|become|"
                     r"callback|inventory|shell|strategy|vars|cache)", label)
    if m:
        page, title = f"collections/ansible/builtin/{m.group(1)}_{m.group(2)}.html", f"ansible.builtin.{m.group(1)}"
    elif label in KNOWN:
        page, title = KNOWN[label]
    else:
        continue  # left undefined on purpose: sphinx-build names it
    anchor = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    lines.append(f"{label} std:label -1 {page}#{anchor} {title}")
body = "".join(line + "\n" for line in lines).encode()
out.write_bytes(b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
                b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(body))
print(f"intersphinx: {len(lines)} labels of the Ansible docs resolved offline")
PY
cat >>"$SRC/conf.py" <<EOF

# Added by scripts/docs-check.sh: build offline. The Ansible docs inventory is a local file written by
# the check; no other inventory is fetched.
intersphinx_mapping = {'ansible_devel': ('$ANSIBLE_DOCS_URL', '$SRC/ansible_devel.inv')}
intersphinx_timeout = 1
EOF

set +e
offline sphinx-build -b html -d "$DOCS/doctrees" -c "$SRC" -W --keep-going -q "$SRC/rst" "$HTML" \
  >"$DOCS/sphinx.txt" 2>&1
sphinx_rc=$?
set -e
if [ "$sphinx_rc" -ne 0 ] || grep -qiE 'warning|error' "$DOCS/sphinx.txt"; then
  cat "$DOCS/sphinx.txt" >&2
  fail "sphinx-build reported the problems above (rc $sphinx_rc)"
fi
echo "sphinx-build: no warnings ($theme theme)"

# --- 3. links between our own pages -----------------------------------------------------------------------
log "checking links between the built pages"
python - "$HTML" <<'PY'
"""Every relative href/src in every built page must name a file that exists and, with #fragment, an id
(or name) on that page. External links (http, https, mailto...) are listed, not fetched."""
import html.parser, pathlib, posixpath, sys
from urllib.parse import unquote, urlsplit

root = pathlib.Path(sys.argv[1]).resolve()
pages = sorted(root.rglob("*.html"))


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) is not None:
                self.links.append((tag, key, a[key], self.getpos()[0]))


parsed = {}
for p in pages:
    pg = Page()
    pg.feed(p.read_text(encoding="utf-8", errors="replace"))
    parsed[p] = pg

broken, internal, external = [], 0, set()
for p, pg in parsed.items():
    rel = p.relative_to(root).as_posix()
    for tag, attr, url, line in pg.links:
        parts = urlsplit(url)
        if parts.scheme or url.startswith("//"):
            if parts.scheme not in ("http", "https", "mailto", "data", ""):
                broken.append(f"{rel}:{line}: <{tag} {attr}={url!r}>: unexpected scheme '{parts.scheme}'")
            elif parts.scheme in ("http", "https", "") and not parts.netloc:
                broken.append(f"{rel}:{line}: <{tag} {attr}={url!r}>: a web link without a host")
            else:
                external.add(url)
            continue
        internal += 1
        if parts.path:
            path = unquote(parts.path)
            # A root-absolute path (a theme's home link "/") is taken from the site's root.
            base = "" if path.startswith("/") else posixpath.dirname(rel)
            target_rel = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
            target = (root / target_rel)
            if target_rel == ".." or target_rel.startswith("../"):
                broken.append(f"{rel}:{line}: {url!r} points outside the site")
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{rel}:{line}: {url!r}: no file {target.relative_to(root).as_posix()}")
                continue
        else:
            target = p
        frag = unquote(parts.fragment)
        if frag and target.suffix == ".html":
            target = target.resolve()
            ids = parsed[target].ids if target in parsed else set()
            if frag not in ids:
                broken.append(f"{rel}:{line}: {url!r}: no id '{frag}' in "
                              f"{target.relative_to(root).as_posix()}")

# Pages that must be there, and must be reachable from the guide.
required = ["index.html", "collections/aiqum/jobs/index.html", "collections/aiqum/jobs/docsite/guide.html",
            "collections/aiqum/jobs/um_request_module.html", "collections/aiqum/jobs/um_job_wait_module.html",
            "collections/aiqum/jobs/um_job_info_module.html", "collections/aiqum/jobs/run_operation_role.html"]
for r in required:
    if not (root / r).is_file():
        broken.append(f"expected page {r} was not built")
guide = root / "collections/aiqum/jobs/docsite/guide.html"
if guide in parsed:
    hrefs = {posixpath.normpath(posixpath.join("collections/aiqum/jobs/docsite", urlsplit(u).path))
             for t, k, u, _ in parsed[guide].links if k == "href" and not urlsplit(u).scheme and urlsplit(u).path}
    for r in required[3:]:
        if r not in hrefs:
            broken.append(f"collections/aiqum/jobs/docsite/guide.html does not link to {r}")

print(f"links: {len(pages)} pages, {internal} internal links and anchors checked, "
      f"{len(external)} distinct external links (not fetched)")
if broken:
    print(f"\n{len(broken)} broken links:", file=sys.stderr)
    for b in broken:
        print("  " + b, file=sys.stderr)
    sys.exit(1)
PY

echo "PASS  docs ($(( $(date +%s) - started ))s): open $HTML/index.html"
