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

from pathlib import Path

from conftest import ROOT, rst_play, run_playbook  # pylint: disable=import-error
from umsim_testlib import PASSWORDS, Sim  # pylint: disable=import-error

SECTION = "ONTAP through Unified Manager"


def test_the_guide_ontap_example_runs(sim: Sim, collections: str, tmp_path: Path) -> None:
    plays = rst_play(ROOT / "docs" / "docsite" / "rst" / "guide.rst", SECTION)
    connection = plays[0]["module_defaults"]["group/aiqum.jobs.um"]
    assert connection["hostname"] == "um.example.com" and connection["password"] == "{{ vault_um_password }}"
    output = run_playbook(plays, sim, collections, tmp_path, password=PASSWORDS["admin"], username="admin")
    counters = sim.ctl("GET", "/counters")
    assert counters["jobs_created"] == 4, counters
    assert counters["by_route"].get("POST /gateways/{cluster_uuid}/storage/volumes") == 4, counters
    cluster = [c for c in sim.api("GET", "/gateways").json()["records"] if c["name"] == "cluster1"][0]["uuid"]
    volumes = sim.api("GET", f"/gateways/{cluster}/storage/volumes").json()["records"]
    assert sorted(v["name"] for v in volumes) == ["vol_app1", "vol_app2", "vol_app3", "vol_web"], volumes
    assert output.count("'success'") >= 3 or output.count('"success"') >= 3, output[-4000:]
