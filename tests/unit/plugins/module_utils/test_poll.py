# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""poll_until on a fake clock: the waiter's pace, and never a look or a pause past the deadline."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._poll import PollTimeout, poll_until
from ansible_collections.aiqum.jobs.plugins.module_utils._waiter import JobWaiter
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import FakeClock


def test_looks_at_once_then_at_a_growing_pace_until_the_condition_holds():
    clock = FakeClock(0.0)
    answers = iter(["running"] * 5 + ["done"])
    seen = []

    def fetch():
        seen.append(clock())
        return next(answers)

    value = poll_until(fetch, lambda v: v == "done", "the thing", clock, clock.sleep, 100.0, first=1.0, ceiling=2.0)
    assert value == "done" and seen[0] == 0.0 and len(seen) == 6
    gaps = [s for _w, s in clock.sleeps]
    assert gaps[0] == 1.0 and gaps[1] == pytest.approx(JobWaiter.GROWTH) and max(gaps) == 2.0


def test_never_waits_past_the_deadline_and_names_what_it_awaited():
    clock = FakeClock(0.0)
    looks = []

    def fetch():
        looks.append(clock())
        return "in_progress"

    with pytest.raises(PollTimeout) as err:
        poll_until(fetch, lambda v: False, "the discovery of X to end", clock, clock.sleep, 10.0, first=3.0,
                   ceiling=30.0, seen=lambda v: f"state {v}")
    assert clock() == 10.0 and all(t < 10.0 for t in looks)
    assert str(err.value) == ("the task's timeout passed while waiting for the discovery of X to end "
                              "(last seen: state in_progress)")
    assert err.value.details["timed_out"] is True


def test_a_deadline_already_passed_sends_nothing():
    clock = FakeClock(5.0)
    with pytest.raises(PollTimeout):
        poll_until(lambda: pytest.fail("looked"), lambda v: True, "it", clock, clock.sleep, 5.0)
