# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When will a running job end? An estimate from what UM returns, and the polling pace that follows it.

Plain Python, nothing from Ansible, no clock of its own: callers pass ages in seconds.

What UM tells about a job's end (see the API notes):
- jobs of the same `type` that ended recently: `complete_time - submit_time` is how long such a job takes here;
- while a job runs, `task_reports[]` with `start_time`/`complete_time`, and `spawned_job_summary` counts.

An estimate is a window of ages (early, expected, late). Standard polling looks sparsely before the window,
densely inside it, and, when the job runs past it (the estimate was wrong), backs off again, never sparser than
the waiter's own pace without an estimate. Whatever the estimate says, the gap between two looks stays within
[FLOOR, ceiling]: a wrong estimate costs a few requests or at most one ceiling of lag, never a missed end
or a storm of requests.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import typing as t
from dataclasses import dataclass

# Where finished jobs of a type are listed (filters type= and state=; newest first without order_by).
HISTORY_PATH = "/management-server/jobs"
# How many finished jobs of a type one history request asks for, and how many durations are kept.
HISTORY_RECORDS = 5
# Durations longer than a week, or not positive, are not durations of this kind of job.
MAX_DURATION = 7 * 86400.0
# A controller clock behind UM's by up to this much still counts as the same clock (see first_age).
CLOCK_SKEW = 5.0

FLOOR = 0.2           # never two looks closer than this, whatever the estimate says
DENSE_FACTOR = 0.12   # inside the window, look every DENSE_FACTOR * sqrt(expected seconds)
WINDOW_POLLS = 50     # ... but no more than this many looks across the whole window
OVERDUE_SHARE = 0.25  # past the window, the gap grows by this share of the time overdue


@dataclass(frozen=True)
class Window:
    """Ages (seconds since the job's submit_time) around which the job should end, and where that came from."""
    early: float
    expected: float
    late: float
    source: str  # "history" | "tasks" | "children"

    def as_list(self) -> list[t.Any]:
        return [round(self.early, 3), round(self.expected, 3), round(self.late, 3), self.source]


def parse_time(value: t.Any) -> float | None:
    """Epoch seconds of a UM timestamp (ISO 8601 with an offset), or None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.timestamp()


def durations(records: t.Iterable[t.Any], exclude: t.Container[str] = ()) -> list[float]:
    """How long each finished job of a list answer took (newest first, as listed), at most HISTORY_RECORDS.

    Jobs that ended in error are left out when others are there: a job that fails early says little about how
    long a good one takes.
    """
    good: list[float] = []
    failed: list[float] = []
    for rec in records:
        if not isinstance(rec, dict) or rec.get("key") in exclude:
            continue
        begin, end = parse_time(rec.get("submit_time")), parse_time(rec.get("complete_time"))
        if begin is None or end is None or not 0 < end - begin <= MAX_DURATION:
            continue
        status = str(rec.get("status") or "").strip().lower()
        (failed if status in ("error", "aborted") else good).append(round(end - begin, 3))
    return (good or failed)[:HISTORY_RECORDS]


def from_history(past: t.Sequence[float]) -> Window | None:
    """The window from the durations of jobs of the same type: their spread, with a margin."""
    values = [float(v) for v in past if isinstance(v, (int, float)) and not isinstance(v, bool)
              and math.isfinite(v) and 0 < v <= MAX_DURATION]
    if not values:
        return None
    expected = statistics.median(values)
    # One odd job (a retry, a busy night) must not stretch the window without end.
    low = max(min(values), expected / 3)
    high = min(max(values), expected * 3)
    early = max(0.0, low - max(0.1, 0.02 * expected))
    late = high + max(0.5, 0.05 * expected)
    return Window(early, expected, late, "history")


def progress_of(job: t.Mapping[str, t.Any], age: float) -> tuple[float, float, str] | None:
    """(share done, the job's age when that share was reached, source) from task_reports or spawned_job_summary.

    Task times are UM's own, so the age is exact; children counts carry no times, so the age is the current one.
    """
    submit = parse_time(job.get("submit_time"))
    tasks = job.get("task_reports")
    if isinstance(tasks, list) and tasks and submit is not None:
        ends = [parse_time(r.get("complete_time")) for r in tasks if isinstance(r, dict)]
        done = [e for e in ends if e is not None]
        if done and len(done) < len(tasks):
            at = max(done) - submit
            if at > 0:
                return len(done) / len(tasks), at, "tasks"
    summary = job.get("spawned_job_summary")
    if isinstance(summary, dict):
        total = _number(summary.get("total_jobs"))
        finished = _number(summary.get("completed_jobs")) + _number(summary.get("aborted_jobs"))
        if total > 0 and 0 < finished < total and age > 0:
            return finished / total, age, "children"
    return None


def from_progress(share: float, at: float, source: str) -> Window | None:
    """The window from progress: at this pace the job ends at at/share; the rest may go faster or slower."""
    if not 0 < share < 1 or at <= 0:
        return None
    expected = at / share
    rest = expected - at
    return Window(at + rest * 0.5, expected, expected + rest, source)


def estimate(job: t.Mapping[str, t.Any], age: float, past: t.Sequence[float] | None) -> Window | None:
    """The best window for one running job: its type's history if known, else its own progress."""
    window = from_history(past or ())
    if window is not None:
        return window
    progress = progress_of(job, age)
    return from_progress(*progress) if progress else None


def server_age(job: t.Mapping[str, t.Any]) -> float:
    """The least age the job can have, by UM's own clock: its latest task timestamp minus its submit_time."""
    submit = parse_time(job.get("submit_time"))
    if submit is None:
        return 0.0
    stamps = [submit]
    tasks = job.get("task_reports")
    for task in tasks if isinstance(tasks, list) else []:
        if isinstance(task, dict):
            stamps += [s for s in (parse_time(task.get("start_time")), parse_time(task.get("complete_time")))
                       if s is not None]
    return max(stamps) - submit


def first_age(job: t.Mapping[str, t.Any], now: float) -> float:
    """The job's age when first seen. `now` is the waiter's clock: wall-clock seconds in modules.

    When the clock agrees with UM's (submit_time not in its future by more than CLOCK_SKEW), now - submit_time;
    never less than what UM's own timestamps prove. A clock that does not agree (another clock, a test's)
    gives the proven least age: a job that is older than that is found late by at most the ceiling.
    """
    proven = server_age(job)
    submit = parse_time(job.get("submit_time"))
    if submit is not None and -CLOCK_SKEW <= now - submit <= MAX_DURATION:
        return max(proven, now - submit)
    return proven


def next_gap(age: float, window: Window | None, fallback: float, ceiling: float) -> float:
    """Seconds until the next look at a job of this age: `fallback` (the pace without an estimate) when there is
    no window, else sparse before it, dense inside it, backing off past it; always within [FLOOR, ceiling]."""
    if window is None:
        return fallback
    ceiling = max(FLOOR, ceiling)
    dense = DENSE_FACTOR * math.sqrt(max(window.expected, 0.0))
    dense = max(dense, (window.late - window.early) / WINDOW_POLLS)
    dense = min(max(dense, FLOOR), ceiling)
    if age < window.early:
        # Wake at the window's start; if that is far off, look once a ceiling meanwhile.
        gap = window.early - age
    elif age <= window.late:
        gap = dense
    else:
        # Running past the estimate: the estimate was wrong. Look densely at first, then back off to the pace
        # without an estimate (never sparser than that).
        gap = min(max(dense, OVERDUE_SHARE * (age - window.late)), max(fallback, dense))
    return min(max(gap, FLOOR), ceiling)


def _number(value: t.Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) else 0.0
