# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation that ships stands alone: no development machine in it, no link out of the collection,
examples that agree with each other, messages quoted as the code gives them, every plugin in the README."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.aiqum.jobs.plugins.module_utils import _client
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError
from ansible_collections.aiqum.jobs.plugins.modules import um_job_wait, um_request

ROOT = Path(__file__).resolve().parents[2]
IGNORED = yaml.safe_load((ROOT / "galaxy.yml").read_text())["build_ignore"]


def shipped(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return not any(fnmatch.fnmatch(rel, pat) or rel.startswith(pat.rstrip("/") + "/") for pat in IGNORED)


DOCS = sorted(p for pattern in ("README.md", "docs/**/*.md", "docs/**/*.rst", "roles/*/README.md", "awx/**/*")
              for p in ROOT.glob(pattern) if p.is_file() and p.suffix in (".md", ".rst", ".yml") and shipped(p))
MACHINE = re.compile(r"/work/|/home/\w|/root/|pytest-of-|our machines?\b|\.\./shared/", re.IGNORECASE)


def test_there_are_docs_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in DOCS}
    assert {"README.md", "docs/awx.md", "docs/simulator.md", "roles/wait_idle/README.md"} <= names
    assert "docs/simulator-spec.md" not in names, "not shipped (build_ignore), so not checked"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_development_machine_in_shipped_docs(doc):
    found = [f"{n}: {line.strip()[:120]}" for n, line in enumerate(doc.read_text().splitlines(), 1)
             if MACHINE.search(line)]
    assert not found


@pytest.mark.parametrize("doc", [d for d in DOCS if d.suffix == ".md"], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_stay_in_the_shipped_collection(doc):
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{target} leaves the collection"
        assert path.exists(), f"{target} does not exist"
        assert shipped(path), f"{target} is not shipped (build_ignore)"


def _lun_body(tasks):
    for task in tasks:
        for inner in [task] + task.get("block", []):
            args = inner.get("aiqum.jobs.um_request") or {}
            if args.get("path") == "/storage-provider/luns" and str(args.get("method")).upper() == "POST":
                return args["body"]
    return None


def test_the_lun_example_is_the_same_in_the_readme_and_in_ansible_doc():
    readme = (ROOT / "README.md").read_text()
    play = yaml.safe_load(readme.split("```yaml", 1)[1].split("```", 1)[0])[0]
    in_readme = _lun_body(play["tasks"])
    in_doc = _lun_body(yaml.safe_load(um_job_wait.EXAMPLES))
    assert in_readme and in_readme == in_doc


def test_rediscovery_example_is_documented():
    assert "/discover" in um_request.EXAMPLES and "operationId" in um_request.DOCUMENTATION


def test_awx_doc_quotes_the_urllib3_message_the_client_gives(monkeypatch):
    monkeypatch.setattr(_client.urllib3, "__version__", "1.26.18")
    with pytest.raises(UMConfigError) as err:
        _client.UMClient("um.example.com", "u", "p")
    message = str(err.value).replace("1.26.18", "1.26.x")
    text = " ".join((ROOT / "docs" / "awx.md").read_text().split())
    assert message in text, message


def test_the_readme_table_lists_every_plugin():
    table = (ROOT / "README.md").read_text().split("## What is in it", 1)[1].split("\n## ", 1)[0]
    names = [p.stem for kind in ("modules", "lookup", "filter") for p in (ROOT / "plugins" / kind).glob("*.py")
             if not p.name.startswith("_")]
    assert {"um_request", "um_job_wait", "um_job_info", "um_job", "job_outputs", "job_failures"} <= set(names)
    for name in names:
        assert f"`aiqum.jobs.{name}`" in table, name
