# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's example playbook, run as written against the simulator: with --check, then for real.

Only its connection settings change (the simulator's address, port and CA instead of um.example.com); its
variables, body and tasks are the README's (the simulator seeds the SVM and service level it names). In check
mode um_request sends no write and returns no job key: a user's first, careful run must end without an error
and create nothing; the real run creates the LUN and shows its key.

Run by scripts/docs-check.sh (the docs stage); the simulator, the collection and the run are conftest.py's.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import ROOT, run_playbook  # pylint: disable=import-error
from umsim_testlib import PASSWORDS, Sim  # pylint: disable=import-error


def readme_play() -> list[dict]:
    """The first YAML block of the README: the example playbook."""
    text = (ROOT / "README.md").read_text()
    return yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0])


def _run(sim: Sim, collections: str, tmp_path: Path, *options: str) -> str:
    """ansible-playbook on the README's example (connection aside), as written; its output."""
    plays = readme_play()
    connection = plays[0]["module_defaults"]["group/aiqum.jobs.um"]
    assert connection["hostname"] == "um.example.com" and connection["password"] == "{{ vault_um_password }}"
    return run_playbook(plays, sim, collections, tmp_path, *options, password=PASSWORDS["storage_admin"])


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
