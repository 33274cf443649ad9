# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The "First steps on a new UM" page's playbook, run as written against the simulator: for real, again (nothing
to do), with --check (nothing sent). The simulator's seeded datasource of cluster1 is removed first, so the page's
first task adds the cluster and waits for its discovery, as on a new UM.

Only the connection settings change (the simulator's address, port and CA). Run by scripts/docs-check.sh.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import yaml

from test_readme_example import ROOT, collections, sim  # noqa: F401  pylint: disable=unused-import

PAGE = ROOT / "docs" / "docsite" / "rst" / "first_steps.rst"


def page_play() -> list[dict]:
    """The page's first yaml+jinja block, unindented."""
    block = PAGE.read_text().split(".. code-block:: yaml+jinja\n", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("   "):
            break
        lines.append(line[3:])
    return yaml.safe_load("\n".join(lines))


def _run(sim, collections, tmp_path: Path, *options: str) -> str:  # noqa: F811
    plays = page_play()
    connection = plays[0]["module_defaults"]["group/aiqum.jobs.um"]
    connection.update(hostname=sim.host, http_port=sim.port, ca_path=sim.ca_file)
    playbook = tmp_path / "first_steps.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "UM_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), *options, "-i", "localhost,", "-c", "local",
         str(playbook)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "failed=0" in output and "[ERROR]" not in output and "[WARNING]" not in output, output[-4000:]
    return output


def test_the_first_steps_page_adds_the_cluster_then_changes_nothing(  # noqa: F811
        sim, collections, tmp_path: Path) -> None:
    # A new UM: the simulator's seeded datasource of cluster1 removed first, so that the page's first task adds it.
    sim.ctl("POST", "/config", {"discovery": 0.5})
    records = sim.api("GET", "/admin/datasources/clusters").json()["records"]
    key = next(r["key"] for r in records if r["address"] == "198.51.100.11")
    assert sim.api("DELETE", f"/admin/datasources/clusters/{quote(key, safe='')}").status_code == 200
    for _attempt in range(100):
        if not [r for r in sim.api("GET", "/admin/datasources/clusters").json()["records"] if r["key"] == key]:
            break
        time.sleep(0.1)
    output = _run(sim, collections, tmp_path)
    assert "changed=4" in output, output[-4000:]
    assert "apps_data on cluster1" in output, output[-4000:]
    sim.ctl("DELETE", "/counters")
    assert "changed=0" in _run(sim, collections, tmp_path)
    assert "changed=0" in _run(sim, collections, tmp_path, "--check", "--diff")
    by_route = sim.ctl("GET", "/counters")["by_route"]
    assert not [r for r in by_route if not r.startswith("GET ")], by_route
