# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poll a record until a condition holds, within the task's deadline: for what UM shows on a record rather than in a
job (a datasource's discovery, a cluster appearing in a list). Jobs are the waiter's (`_waiter`); this keeps its
pace (poll_interval, growing by the waiter's factor up to max_poll_interval) and its rule: never a look or a pause
past the deadline.

Plain Python, nothing from Ansible; the clock and the sleep are the caller's (a fake pair in tests).
"""

from __future__ import annotations

import typing as t

from ._errors import UMError
from ._waiter import JobWaiter

T = t.TypeVar("T")


class PollTimeout(UMError):
    """The deadline passed before the condition held; the message names what was awaited and what was last seen."""


def poll_until(fetch: t.Callable[[], T], done: t.Callable[[T], bool], what: str, clock: t.Callable[[], float],
               sleep: t.Callable[[float], None], deadline: float, first: float = 1.0, ceiling: float = 30.0,
               seen: t.Callable[[T], str] | None = None) -> T:
    """Fetch until `done(value)`; return that value. Looks at once, then after `first` seconds, each gap growing by
    the waiter's factor up to `ceiling`; no look starts and no pause lasts past `deadline` (then PollTimeout)."""
    gap = max(0.1, first)
    last: list[T] = []
    while True:
        if clock() >= deadline:
            shown = f" (last seen: {seen(last[0])})" if last and seen is not None else ""
            raise PollTimeout(f"the task's timeout passed while waiting for {what}{shown}", timed_out=True)
        value = fetch()
        if done(value):
            return value
        last[:] = [value]
        left = deadline - clock()
        if left > 0:
            sleep(min(gap, left))
        gap = min(max(ceiling, 0.1), gap * JobWaiter.GROWTH)
