# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment definitions: awx/execution-environment.yml builds a context offline, and the
collection's meta/execution-environment.yml tells ansible-builder what the collection needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
                          env=None if env is None else {**os.environ, **env})
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_tarball_version_follows_galaxy_yml() -> None:
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    ee = yaml.safe_load((ROOT / "awx" / "execution-environment.yml").read_text())
    tarball = f"aiqum-jobs-{version}.tar.gz"
    assert ee["dependencies"]["galaxy"]["collections"] == [{"name": f"collections/{tarball}", "type": "file"}]
    assert ee["additional_build_files"] == [{"src": f"../dist/{tarball}", "dest": "collections"}]


def test_meta_declares_the_collection_files() -> None:
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    # Relative to the collection root: that is how ansible-builder's introspection reads them.
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert "requests" in (ROOT / "requirements.txt").read_text()


def test_builder_context_installs_the_collection_with_its_dependencies(tmp_path: Path) -> None:
    # The parts of the repository the definition refers to, and the tarball `ansible-galaxy collection build` makes.
    repo = tmp_path / "repo"
    (repo / "meta").mkdir(parents=True)
    shutil.copytree(ROOT / "awx", repo / "awx")
    for name in ("requirements.txt", "bindep.txt", "meta/execution-environment.yml"):
        shutil.copy(ROOT / name, repo / name)
    _run(str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(repo / "dist"))
    context = tmp_path / "context"
    _run(str(BIN / "ansible-builder"), "create", "-f", str(repo / "awx" / "execution-environment.yml"), "-c", str(context))
    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()).read_text()
    assert "FROM base AS galaxy" in containerfile and "ansible-galaxy collection install" in containerfile
    # What the image's galaxy stage does (in /build, the context's _build): install from the requirements file.
    installed = tmp_path / "installed"
    # Like the image, with nothing installed yet: a collections path that already holds aiqum.jobs (as under
    # `make test`) would make ansible-galaxy skip the install.
    _run(str(BIN / "ansible-galaxy"), "collection", "install", "-r", "requirements.yml", "-p", str(installed),
         cwd=context / "_build", env={"ANSIBLE_COLLECTIONS_PATH": str(installed)})
    assert (installed / "ansible_collections" / "aiqum" / "jobs" / "roles" / "run_operation" / "tasks" / "main.yml").is_file()
    # What the image's builder stage does: read each installed collection's meta/execution-environment.yml.
    found = yaml.safe_load(_run(str(BIN / "ansible-builder"), "introspect", "--sanitize", str(installed)))
    assert any(line.startswith("requests>=") and "aiqum.jobs" in line for line in found["python"])
    assert any(line.startswith("ca-certificates") and "aiqum.jobs" in line for line in found["system"])
