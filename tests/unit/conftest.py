# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the unit tests."""

from __future__ import annotations

import time

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils import _jobs


class RealSleepCalled(AssertionError):
    """A test that must not sleep for real did."""


@pytest.fixture
def no_sleep(monkeypatch):
    """Make any real sleep fail the test: time.sleep, and JobWaiter's default sleep and clock."""
    calls = []

    def forbidden(seconds=None):
        calls.append(seconds)
        raise RealSleepCalled(f"time.sleep({seconds!r}) was called: unit tests must not sleep")

    def forbidden_clock():
        raise RealSleepCalled("JobWaiter used the real clock: inject a FakeClock")

    # JobWaiter binds time.monotonic/time.sleep as default arguments when the class is defined.
    swap = {id(time.monotonic): forbidden_clock, id(time.sleep): forbidden}
    defaults = _jobs.JobWaiter.__init__.__defaults__
    patched = tuple(swap.get(id(d), d) for d in defaults)
    assert forbidden in patched and forbidden_clock in patched, defaults
    monkeypatch.setattr(_jobs.JobWaiter.__init__, "__defaults__", patched)
    monkeypatch.setattr(time, "sleep", forbidden)
    yield calls
    assert not calls, f"time.sleep was called {len(calls)} times"
