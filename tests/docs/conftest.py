# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the docs examples' tests share: the simulator, the collection, a page's example block and one way to run
a playbook as written (only its connection settings pointed at the simulator).

The collection comes from AIQUM_COLLECTIONS_PATH or ANSIBLE_COLLECTIONS_PATH (scripts/test.sh and docs-check.sh
lay it), else a copy is laid for the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "simulator"))
sys.path.insert(0, str(ROOT / "scripts"))
from umsim_testlib import Sim  # noqa: E402  pylint: disable=wrong-import-position
from layout import lay_collection  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> str:
    for name in ("AIQUM_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATH"):
        given = os.environ.get(name, "").split(os.pathsep)[0]
        if given and (Path(given) / "ansible_collections" / "aiqum" / "jobs" / "galaxy.yml").is_file():
            return given
    root = tmp_path_factory.mktemp("collections")
    lay_collection(root)
    return str(root)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    server = Sim(tmp_path_factory.mktemp("umsim") / "state")
    yield server
    server.stop()


def rst_play(page: Path, section: str | None = None) -> list[dict]:
    """The first yaml+jinja block of a docsite page (or of one of its sections), unindented."""
    text = page.read_text()
    if section is not None:
        text = text.split(f"\n{section}\n{'-' * len(section)}\n", 1)[1]
    block = text.split(".. code-block:: yaml+jinja\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return yaml.safe_load(textwrap.dedent("\n".join(lines)))


def run_playbook(plays: list[dict], sim: Sim, collections: str, tmp_path: Path, *options: str,
                 password: str | None = None, **connection: str) -> str:
    """ansible-playbook on a docs example with its connection pointed at the simulator (and `connection`'s
    settings, such as another user); `password` is the example's vault_um_password. Asserts a clean run (no
    failure, error or warning) and returns its output."""
    defaults = plays[0]["module_defaults"]["group/aiqum.jobs.um"]
    defaults.update(hostname=sim.host, http_port=sim.port, ca_path=sim.ca_file, **connection)
    playbook = tmp_path / "example.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "UM_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    extra = ["-e", f"vault_um_password={password}"] if password is not None else []
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), *options, "-i", "localhost,", "-c", "local", *extra,
         str(playbook)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "failed=0" in output and "[ERROR]" not in output and "[WARNING]" not in output, output[-4000:]
    return output
