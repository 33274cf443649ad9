# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's example playbook, run as written against the simulator: with --check, then for real.

Only its connection settings change (the simulator's address, port and CA instead of um.example.com); its
variables, body and tasks are the README's (the simulator seeds the SVM and service level it names). In check
mode um_request sends no write and returns no job key: a user's first, careful run must end without an error
and create nothing; the real run creates the LUN and shows its key.

Run by scripts/docs-check.sh (the docs stage). The collection comes from AIQUM_COLLECTIONS_PATH or
ANSIBLE_COLLECTIONS_PATH (scripts/test.sh and docs-check.sh lay it), else a copy is laid for this test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "simulator"))
sys.path.insert(0, str(ROOT / "scripts"))
from umsim_testlib import PASSWORDS, Sim  # noqa: E402  pylint: disable=wrong-import-position
from layout import lay_collection  # noqa: E402  pylint: disable=wrong-import-position


def readme_play() -> list[dict]:
    """The first YAML block of the README: the example playbook."""
    text = (ROOT / "README.md").read_text()
    return yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0])


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


def _run(sim: Sim, collections: str, tmp_path: Path, *options: str) -> str:
    """ansible-playbook on the README's example (connection aside), as written; its output."""
    plays = readme_play()
    connection = plays[0]["module_defaults"]["group/aiqum.jobs.um"]
    assert connection["hostname"] == "um.example.com" and connection["password"] == "{{ vault_um_password }}"
    connection.update(hostname=sim.host, http_port=sim.port, ca_path=sim.ca_file)
    playbook = tmp_path / "readme.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "UM_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), *options, "-i", "localhost,", "-c", "local",
         "-e", f"vault_um_password={PASSWORDS['storage_admin']}", str(playbook)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "failed=0" in output and "[ERROR]" not in output and "[WARNING]" not in output, output[-4000:]
    return output


def test_the_readme_example_runs_in_check_mode_then_for_real(sim: Sim, collections: str, tmp_path: Path) -> None:
    sim.ctl("DELETE", "/counters")
    output = _run(sim, collections, tmp_path, "--check")
    # The start was reported as what it would send, and nothing reached UM: no write, no job.
    assert "changed: [localhost]" in output and "skipping: [localhost]" in output, output[-4000:]
    counters = sim.ctl("GET", "/counters")
    assert counters["jobs_created"] == 0 and not any(r.startswith("POST") for r in counters["by_route"]), counters

    output = _run(sim, collections, tmp_path)
    luns = sim.api("GET", "/storage-provider/luns").json()["records"]  # listed by path: /vol/<volume>/lun1
    assert [lun["name"].rsplit("/", 1)[-1] for lun in luns] == ["lun1"], luns
    assert sim.ctl("GET", "/counters")["jobs_created"] == 1
    assert f'"created.outputs.lunKey": "{luns[0]["key"]}"' in output, output[-4000:]
