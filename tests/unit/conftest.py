# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the unit tests."""

from __future__ import annotations

import time
import types

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils import _waiter


class RealSleepCalled(AssertionError):
    """A test that must not sleep for real did."""


@pytest.fixture
def no_sleep(monkeypatch):
    """Make any real sleep fail the test: the clock and sleep the waiter would take by default, and time.sleep."""
    calls = []

    def forbidden(seconds=None):
        calls.append(seconds)
        raise RealSleepCalled(f"time.sleep({seconds!r}) was called: unit tests must not sleep")

    def forbidden_clock():
        raise RealSleepCalled("JobWaiter used the real clock: inject a FakeClock")

    # The waiter looks up time.time and time.sleep through its module's `time` when it is made.
    monkeypatch.setattr(_waiter, "time", types.SimpleNamespace(time=forbidden_clock, monotonic=forbidden_clock,
                                                               sleep=forbidden))
    monkeypatch.setattr(time, "sleep", forbidden)
    yield calls
    assert not calls, f"time.sleep was called {len(calls)} times"
