# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation that ships stands alone: no development machine in it, no link out of the collection,
examples that agree with each other, messages quoted as the code gives them, every plugin in the README."""

from __future__ import annotations

import fnmatch
import re
import textwrap
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
    assert in_readme and in_readme == _lun_body(yaml.safe_load(um_request.EXAMPLES))


# What UM's storage-provider POSTs require (the API reference): sizes in bytes, keys of the SVM and service level.
REQUIRED = {
    "/storage-provider/luns": ("name", "os_type", "space.size", "performance_service_level.key", "svm.key|volume.key"),
    "/storage-provider/file-shares": ("name", "svm.key", "space.size", "performance_service_level.key"),
}
YAML_BLOCK = re.compile(r"```ya?ml\n(.*?)```|\.\. code-block:: yaml(?:\+jinja)?\n\n((?:[ \t]+.*\n|\n)+)", re.DOTALL)


def _yaml_examples():
    """(where, parsed YAML) of every YAML example in the shipped docs and in the modules' EXAMPLES."""
    for doc in DOCS:
        if doc.suffix not in (".md", ".rst"):
            continue
        for n, match in enumerate(YAML_BLOCK.finditer(doc.read_text())):
            text = match.group(1) if match.group(1) is not None else textwrap.dedent(match.group(2))
            try:
                yield f"{doc.relative_to(ROOT)} block {n + 1}", yaml.safe_load(text)
            except yaml.YAMLError:
                continue  # a fragment (for example a decision environment file); nothing to check in it
    for module in (um_request, um_job_wait):
        yield f"{module.__name__.rsplit('.', 1)[-1]} EXAMPLES", yaml.safe_load(module.EXAMPLES)


def _storage_posts(node):
    """(path, body) of every storage-provider POST in a parsed example: um_request tasks and run_operation roles."""
    if isinstance(node, list):
        for item in node:
            yield from _storage_posts(item)
    elif isinstance(node, dict):
        args = node.get("aiqum.jobs.um_request")
        if isinstance(args, dict) and str(args.get("method")).upper() == "POST" and args.get("path") in REQUIRED:
            yield args["path"], args.get("body")
        if node.get("run_operation_path") in REQUIRED and str(node.get("run_operation_method", "POST")).upper() == "POST":
            yield node["run_operation_path"], node.get("run_operation_body")
        for value in node.values():
            yield from _storage_posts(value)


def _has(body, dotted):
    for part in dotted.split("."):
        if not isinstance(body, dict) or part not in body:
            return False
        body = body[part]
    return body not in (None, "")


def test_storage_examples_post_bodies_that_um_takes():
    checked = 0
    for where, parsed in _yaml_examples():
        for path, body in _storage_posts(parsed):
            if isinstance(body, str) and body.strip().startswith("{{"):
                continue  # the whole body comes from a variable
            missing = [f for f in REQUIRED[path] if not any(_has(body, alt) for alt in f.split("|"))]
            assert not missing, f"{where}: POST {path} lacks {missing}: {body}"
            size = body["space"]["size"]
            assert set(body["space"]) == {"size"}, f"{where}: space takes only size (bytes): {body['space']}"
            assert (isinstance(size, int) and size >= 1024 ** 2) or "{{" in str(size), f"{where}: size in bytes: {size}"
            checked += 1
    assert checked >= 6, checked


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


def _floor(text_after: str) -> str | None:
    """The version in 'urllib3 >= 2.2', 'urllib3>=2.2.0', 'urllib3` 2.2+', 'urllib3`` (2.2 or later)'; else None."""
    m = re.match(r"[`'\s]*(?:>=\s*([\d.]+)|\(?([\d.]*\d)(?:\+| or later))", text_after)
    return (m.group(1) or m.group(2)) if m else None


def _version(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 2 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def test_the_requirements_are_stated_the_same_everywhere():
    """requests and urllib3 floors as in requirements.txt, ansible-core as in meta/runtime.yml, in every place a user
    reads them: README, guides, ansible-doc requirements of the modules and of the event source."""
    floors = dict(re.findall(r"^(requests|urllib3)>=([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE))
    assert set(floors) == {"requests", "urllib3"}
    core = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    core = re.fullmatch(r">=\s*(\d+\.\d+)(?:\.0)?", core).group(1)
    places = [ROOT / "README.md", ROOT / "docs" / "awx.md", ROOT / "docs" / "docsite" / "rst" / "guide.rst",
              ROOT / "docs" / "docsite" / "rst" / "eda.rst", ROOT / "plugins" / "doc_fragments" / "connection.py",
              ROOT / "extensions" / "eda" / "plugins" / "event_source" / "um_jobs.py"]
    stated = 0
    for place in places:
        text = " ".join(place.read_text().split())
        for lib, floor in floors.items():
            for m in re.finditer(rf"\b{lib}\b", text):
                found = _floor(text[m.end():m.end() + 20])
                if found is not None:
                    stated += 1
                    assert _version(found) == _version(floor), \
                        f"{place.relative_to(ROOT)}: {lib} {found}, requirements.txt says {floor}"
        for found in re.findall(r"ansible-core (\d+\.\d+) or later", text):
            assert found == core, f"{place.relative_to(ROOT)}: ansible-core {found}, meta/runtime.yml says {core}"
    assert stated >= 10, stated
