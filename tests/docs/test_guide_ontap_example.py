# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guide's example of "ONTAP through Unified Manager", run as written against the simulator.

Only its connection settings change (the simulator's address, port and CA, and its Application Administrator);
its variables, bodies and tasks are the guide's (the simulator seeds cluster1 and its svm1). The volumes it makes
must be there afterwards, made by ONTAP jobs through the gateway.

Run by scripts/docs-check.sh (the docs stage), beside the README's example.
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
from umsim_testlib import PASSWORDS, Sim  # noqa: E402  pylint: disable=wrong-import-position
from layout import lay_collection  # noqa: E402  pylint: disable=wrong-import-position

SECTION = "ONTAP through Unified Manager"


def guide_play() -> list[dict]:
    """The first yaml+jinja block of the guide's section on ONTAP through UM."""
    text = (ROOT / "docs" / "docsite" / "rst" / "guide.rst").read_text()
    section = text.split(f"\n{SECTION}\n{'-' * len(SECTION)}\n", 1)[1]
    block = section.split(".. code-block:: yaml+jinja\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return yaml.safe_load(textwrap.dedent("\n".join(lines)))


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


def test_the_guide_ontap_example_runs(sim: Sim, collections: str, tmp_path: Path) -> None:
    plays = guide_play()
    connection = plays[0]["module_defaults"]["group/aiqum.jobs.um"]
    assert connection["hostname"] == "um.example.com" and connection["password"] == "{{ vault_um_password }}"
    connection.update(hostname=sim.host, http_port=sim.port, ca_path=sim.ca_file, username="admin")
    playbook = tmp_path / "guide_ontap.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "UM_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         "-e", f"vault_um_password={PASSWORDS['admin']}", str(playbook)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "failed=0" in output and "[ERROR]" not in output and "[WARNING]" not in output, output[-4000:]
    counters = sim.ctl("GET", "/counters")
    assert counters["jobs_created"] == 4, counters
    assert counters["by_route"].get("POST /gateways/{cluster_uuid}/storage/volumes") == 4, counters
    cluster = [c for c in sim.api("GET", "/gateways").json()["records"] if c["name"] == "cluster1"][0]["uuid"]
    volumes = sim.api("GET", f"/gateways/{cluster}/storage/volumes").json()["records"]
    assert sorted(v["name"] for v in volumes) == ["vol_app1", "vol_app2", "vol_app3", "vol_web"], volumes
    assert output.count("'success'") >= 3 or output.count('"success"') >= 3, output[-4000:]
