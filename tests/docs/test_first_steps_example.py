# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The "First steps on a new UM" page's playbook, run as written against the simulator: for real, again (nothing
to do), with --check (nothing sent). The simulator's seeded datasource of cluster1 is removed first, so the page's
first task adds the cluster and waits for its discovery, as on a new UM.

Only the connection settings change (the simulator's address, port and CA). Run by scripts/docs-check.sh.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

from conftest import ROOT, rst_play, run_playbook  # pylint: disable=import-error
from umsim_testlib import Sim  # pylint: disable=import-error

PAGE = ROOT / "docs" / "docsite" / "rst" / "first_steps.rst"


def _run(sim: Sim, collections: str, tmp_path: Path, *options: str) -> str:
    return run_playbook(rst_play(PAGE), sim, collections, tmp_path, *options)


def test_the_first_steps_page_adds_the_cluster_then_changes_nothing(
        sim: Sim, collections: str, tmp_path: Path) -> None:
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
