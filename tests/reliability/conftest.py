# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the reliability suite.

The collection is copied to build/reliability/run-<pid>/collections at the start of the session (a private
copy: other stages re-lay build/collections while we run), put on sys.path for the in-process tests and on
ANSIBLE_COLLECTIONS_PATH for the ansible-playbook runs. The seed of the run's random timings is printed
in the summary; AIQUM_RELIABILITY_SEED=<n> replays a run.
"""

from __future__ import annotations

import json
import os
import sys
import time
import typing as t
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import reltools  # noqa: E402  pylint: disable=wrong-import-position
import render_report  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS = reltools.RUN_DIR / "collections"
_T0 = time.monotonic()


def pytest_configure(config: pytest.Config) -> None:  # pylint: disable=unused-argument
    reltools.clean_old_runs()
    reltools.lay_collection(COLLECTIONS)
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))


def pytest_report_header(config: pytest.Config) -> str:  # pylint: disable=unused-argument
    return f"reliability: seed {reltools.SEED} (replay with AIQUM_RELIABILITY_SEED={reltools.SEED})"


@pytest.fixture(scope="session")
def collections() -> Path:
    return COLLECTIONS


@pytest.fixture(scope="session")
def sim() -> t.Iterator[reltools.SimProc]:
    """The shared simulator (HTTPS, long polling honoured); tests scope their faults to their own jobs."""
    proc = reltools.SimProc(reltools.new_tmp("sim-main-"))
    yield proc
    rc = proc.stop()
    log = proc.stderr()
    assert rc == 0 and "Traceback" not in log, f"simulator rc={rc}: {log[-3000:]}"


@pytest.fixture
def own_sim() -> t.Iterator[t.Callable[..., reltools.SimProc]]:
    """Factory for simulators a test kills, restarts or counts on alone; all stopped (by PID) at the end."""
    started: list[reltools.SimProc] = []

    def start(*extra: str, **kw: t.Any) -> reltools.SimProc:
        proc = reltools.SimProc(reltools.new_tmp("sim-own-"), *extra, **kw)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    """Print the seed and the figures; write them as JSON (and Markdown) for docs/reliability.md."""
    rows = reltools.RESULTS.rows
    scan = reltools.SCAN
    data = {
        "seed": reltools.SEED,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "suite_seconds": round(time.monotonic() - _T0, 1),
        "rows": [dict(vars(r)) for r in rows],
        "secret_scan": {"items": scan.items, "chars": scan.chars, "sources": scan.sources,
                        "findings": scan.findings},
        "extra": reltools.RESULTS.extra,
    }
    reltools.BUILD.mkdir(parents=True, exist_ok=True)
    out = reltools.BUILD / "results.json"
    out.write_text(json.dumps(data, indent=1, default=str))
    table = render_report.table(data)
    (reltools.BUILD / "results.md").write_text(table)
    if os.environ.get("AIQUM_RELIABILITY_UPDATE_DOC") == "1" and rows:
        render_report.update_doc(data)
    terminalreporter.write_sep("-", f"reliability: seed {reltools.SEED}; figures in {out}")
    for line in table.splitlines():
        terminalreporter.write_line(line)
