"""Fixtures for the umsim tests (helpers live in umsim_testlib.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # lets tests import umsim_* modules without making `tests` a package
    sys.path.insert(0, str(HERE))

from umsim_testlib import Sim  # noqa: E402

DEFAULT_TIMEOUT = 60  # seconds per test; a hung simulator must not hang the suite


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every simulator test a timeout (pytest-timeout), unless it sets its own."""
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT))


@pytest.fixture(scope="module")
def sim_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """One simulator per test module (start-up costs ~0.5 s; tests reset its knobs instead)."""
    sim = Sim(tmp_path_factory.mktemp("umsim") / "state")
    yield sim
    sim.stop()


@pytest.fixture
def sim(sim_module: Sim) -> Sim:
    """The module's simulator with faults, rules, config and counters reset."""
    sim_module.reset()
    return sim_module


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[Any]:
    """Factory for tests that need their own simulator (flags, env, restarts); stops them all at the end."""
    started: list[Sim] = []

    def start(*extra: str, state_dir: Path | None = None, **kw: Any) -> Sim:
        sim = Sim(state_dir or tmp_path / f"state{len(started)}", *extra, **kw)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        if sim.proc.returncode is None:
            sim.stop()
