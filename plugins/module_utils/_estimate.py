# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When will a running job end? A distribution of its end from what UM returns, and when to look next.

Plain Python, nothing from Ansible, no clock of its own: callers pass ages (seconds since the job's submit_time,
by UM's clock) and the controller's times around each answer.

What UM tells about a job's end (see the API notes):
- jobs of the same `type` that ended recently: `complete_time - submit_time` is how long such a job takes here;
- while a job runs, `task_reports[]` with `start_time`/`complete_time`, and `spawned_job_summary` counts;
- each answer's `Date` header (and the job's own times) tell how far the controller's clock is from UM's.

The end is a distribution, not one window: a small bell around each recent duration (recent jobs weigh more),
narrowed by the job's own progress once it reports some. A job type often has several "modes" (the same
operation takes seconds on an idle cluster and minutes behind a busy aggregate): the plan looks where past jobs
actually ended and sparsely in between.

The next look is where the lag that waiting would cost (given that the job still runs and ends in the next mode)
reaches what one look is worth (LOOK_WORTH seconds of lag, or a share of the duration for long jobs; more in a mode
that holds few of the past jobs): dense where many past jobs ended, sparse where none did. Inside a mode the gap
also stays under a share of its duration (MODE_SHARE). That is the spacing that minimises requests plus lag; it puts looks on the modes, so the number of
looks grows with the number of modes and the logarithm of the spread, not with its width. Three bounds make a
wrong estimate cheap: never two looks closer than FLOOR; nowhere (before the first expected end, between modes,
past the last one) a gap longer than a share of the job's age (AGE_SHARE, at least AGE_MIN) or the waiter's ceiling;
past every end the history knows of, the gap grows with the time overdue, so a job far longer than its type's
history costs a few looks, never a storm.
"""

from __future__ import annotations

import math
import typing as t
from dataclasses import dataclass

from ._retry import http_date as _http_date
from ._table import parse_time  # the one time parser

# How many finished jobs of a type the one history request asks for, and keeps.
HISTORY_RECORDS = 20
# Each older job weighs this much less than the one after it: recent jobs say more about the next one.
RECENCY = 0.9
# Durations longer than a week, or not positive, are not durations of this kind of job.
MAX_DURATION = 7 * 86400.0
# A controller clock behind UM's by up to this much still counts as the same clock (when no Date header came).
CLOCK_SKEW = 5.0

FLOOR = 0.2            # never two looks closer than this, whatever the estimate says
KERNEL_SHARE = 0.02    # the bell around each past duration: this share of it wide (one sigma) ...
KERNEL_MIN = 0.1       # ... and never narrower than this (UM's timestamps, the controller's own delays) ...
COARSE_KERNEL = 0.4    # ... nor than this when UM writes whole seconds (a duration is then good to +-1 s)
KERNEL_WIDE = 0.08     # ... nor wider than this share of it, whatever the gap to its neighbours
NEIGHBOURS = 2         # a bell is as wide as the distance to its NEIGHBOURS-th nearest past duration
JOIN = 2.0             # bells closer than this many sigmas (each) are one mode
LOOK_WORTH = 0.2       # seconds of lag one look is worth: a lag well under a 1 s loop's is not worth more looks ...
LOOK_SHARE = 0.0003    # ... or this share of the job's age, for long jobs
MODE_SHARE = 0.0075    # inside a mode, never a gap longer than this share of the mode's duration ...
MODE_GAP = 2.0         # ... or this many seconds, whichever is more
MINOR = 0.2            # a mode that holds a share W under this of the past jobs: a look there is worth MINOR/W more
AGE_SHARE = 0.5        # a wrong estimate costs at most this share of the job's age in lag ...
AGE_MIN = 10.0         # ... or this many seconds, whichever is more (the first looks of a short wait cost most)
SLACK = 1.25           # a look the plan wants within this factor of the insurance's gap replaces the insurance look
TAIL = 0.02            # past the age by which all but this share of the history's jobs had ended, the job is overdue
OVERDUE_SHARE = 1.0    # overdue, the gap grows by this share of the time overdue
PROGRESS_SPREAD = 1.0  # the rest of a job that reports progress takes its expected rest, give or take this share
PROGRESS_FLOOR = 0.2   # progress never rules a past mode out entirely (tasks do not all take the same time)


def durations(records: t.Iterable[t.Any], exclude: t.Container[str] = (), kind: str | None = None) -> list[float]:
    """How long each finished job of a list answer took, newest end first, at most HISTORY_RECORDS.

    Jobs that ended in error are left out when others are there: a job that fails early says little about how
    long a good one takes. The records are put in order and checked here (by complete_time; a record of another
    `kind` is left out): a server that lists them in another order, or ignores a filter, still gives the right
    history.
    """
    good: list[tuple[float, float]] = []
    failed: list[tuple[float, float]] = []
    for rec in records:
        if not isinstance(rec, dict) or rec.get("key") in exclude:
            continue
        if kind is not None and rec.get("type") not in (None, kind):
            continue
        begin, end = parse_time(rec.get("submit_time")), parse_time(rec.get("complete_time"))
        if begin is None or end is None or not 0 < end - begin <= MAX_DURATION:
            continue
        status = str(rec.get("status") or "").strip().lower()
        (failed if status in ("error", "aborted") else good).append((end, round(end - begin, 3)))
    chosen = sorted(good or failed, key=lambda p: -p[0])
    return [d for _end, d in chosen[:HISTORY_RECORDS]]


def clean(past: t.Iterable[t.Any]) -> list[float]:
    """The usable durations of a carried history (anything else is dropped)."""
    return [float(v) for v in past if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v) and 0 < v <= MAX_DURATION]


# ---------------------------------------------------------------------------------------------
# The distribution of the job's end
# ---------------------------------------------------------------------------------------------

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / _SQRT2))


def _pdf(z: float) -> float:
    return _INV_SQRT2PI * math.exp(-0.5 * z * z)


@dataclass(frozen=True)
class Mode:
    """One group of past ends that overlap (a bell around each, centers, sigmas and weights summing to 1), and the
    share of the job type's weight it holds."""
    bells: tuple[tuple[float, float, float], ...]
    weight: float

    def ended_by(self, age: float) -> float:
        """The share of this mode's jobs that had ended by this age."""
        return sum(w * _cdf((age - c) / s) for c, s, w in self.bells)

    def running_at(self, age: float) -> float:
        return max(0.0, 1.0 - self.ended_by(age))

    def _area(self, age: float) -> float:
        """The integral of ended_by from far before up to age (closed form for each bell)."""
        total = 0.0
        for c, s, w in self.bells:
            z = (age - c) / s
            total += w * s * (z * _cdf(z) + _pdf(z))
        return total

    def lag_if_next(self, age: float, at: float) -> float:
        """The lag, summed over this mode's jobs that end between age and at, if the next look is at `at`."""
        return self._area(at) - self._area(age) - (at - age) * self.ended_by(age)

    def quantile(self, share: float) -> float:
        """The age by which `share` of this mode's jobs had ended."""
        lo, hi = 0.0, max(c + 8 * s for c, s, _w in self.bells)
        for _i in range(40):
            mid = (lo + hi) / 2
            if self.ended_by(mid) < share:
                lo = mid
            else:
                hi = mid
        return hi

    @property
    def center(self) -> float:
        return sum(c * w for c, _s, w in self.bells)


@dataclass(frozen=True)
class Plan:
    """The job's end as modes (groups of overlapping bells, one bell around each past duration), and where that
    came from. first/last: the ages between which a mode's jobs end (all but TAIL of them)."""
    modes: tuple[Mode, ...]
    source: str  # "history", "history+tasks", "history+children", "tasks", "children"
    spans: tuple[tuple[float, float], ...]

    @property
    def first(self) -> float:
        return self.spans[0][0]

    @property
    def last(self) -> float:
        return max(hi for _lo, hi in self.spans)

    @property
    def expected(self) -> float:
        return sum(m.center * m.weight for m in self.modes)

    def as_list(self) -> list[t.Any]:
        return [round(self.first, 3), round(self.expected, 3), round(self.last, 3), self.source]


def make_plan(bells: t.Sequence[tuple[float, float, float]], source: str) -> Plan | None:
    """Group bells (center, sigma, weight) into modes: neighbours closer than JOIN sigmas (each) are one mode.
    Modes that hold less than TAIL of the weight are left out."""
    total = sum(w for _c, _s, w in bells)
    if not total > 0:
        return None
    groups: list[list[tuple[float, float, float]]] = []
    for bell in sorted(bells):
        if groups and bell[0] - groups[-1][-1][0] <= JOIN * (bell[1] + groups[-1][-1][1]):
            groups[-1].append(bell)
        else:
            groups.append([bell])
    modes = []
    for group in groups:
        weight = sum(w for _c, _s, w in group) / total
        if weight >= TAIL:
            inner = sum(w for _c, _s, w in group)
            modes.append(Mode(tuple((c, s, w / inner) for c, s, w in group), weight))
    if not modes:
        return None
    spans = tuple((m.quantile(TAIL), m.quantile(1 - TAIL)) for m in modes)
    return Plan(tuple(modes), source, spans)


def from_history(past: t.Sequence[t.Any], coarse: bool = False) -> Plan | None:
    """A bell around each past duration (newest first), each older one weighing RECENCY times the one after it.

    Each bell is as wide as the gap to its nearer neighbours (so that jobs spread evenly read as one even mode, not
    as separate spikes), at least KERNEL_SHARE of the duration, at most KERNEL_WIDE of it. With `coarse` (UM writes
    whole seconds), never narrower than COARSE_KERNEL: each duration is the difference of two truncated times.
    """
    values = clean(past)
    if not values:
        return None
    least = max(KERNEL_MIN, COARSE_KERNEL if coarse else 0.0)
    ordered = sorted(values)
    bells = []
    for i, d in enumerate(values):
        others = sorted(abs(d - o) for o in ordered)[1:NEIGHBOURS + 1]
        spread = max(others) if len(others) == NEIGHBOURS else 0.0
        sigma = min(max(spread, KERNEL_SHARE * d, least), max(KERNEL_WIDE * d, least))
        bells.append((d, sigma, RECENCY ** i))
    return make_plan(bells, "history")


def is_coarse(job: t.Mapping[str, t.Any], past: t.Sequence[t.Any]) -> bool:
    """Whether UM writes its times in whole seconds (like .000): the job's submit_time has no fraction of a second,
    nor has any past duration of its type (a server that keeps milliseconds gives whole durations only by chance)."""
    stamp = parse_time(job.get("submit_time"))
    values = clean(past)
    return stamp is not None and stamp == math.floor(stamp) and bool(values) and \
        all(v == math.floor(v) for v in values)


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


def from_progress(share: float, at: float, source: str, history: Plan | None = None) -> Plan | None:
    """Progress alone (at this pace the job ends at at/share, give or take PROGRESS_SPREAD of the rest), or, with a
    history, the history with each past duration weighed by how well it fits that pace."""
    if not 0 < share < 1 or at <= 0:
        return history
    expected = at / share
    sigma = max(KERNEL_MIN, PROGRESS_SPREAD * (expected - at))
    if history is None:
        return make_plan([(expected, sigma, 1.0)], source)
    bells = [(c, s, m.weight * w * max(PROGRESS_FLOOR, math.exp(-0.5 * ((c - expected) / sigma) ** 2)))
             for m in history.modes for c, s, w in m.bells]
    return make_plan(bells, f"{history.source}+{source}") or history


def estimate(job: t.Mapping[str, t.Any], age: float, past: t.Sequence[float] | None) -> Plan | None:
    """The distribution of one running job's end: its type's history, narrowed by its own progress."""
    history = from_history(past or ())
    progress = progress_of(job, age)
    if progress is None:
        return history
    return from_progress(*progress, history=history)


# ---------------------------------------------------------------------------------------------
# When to look next
# ---------------------------------------------------------------------------------------------

def look_worth(age: float) -> float:
    """The lag (seconds) one look is worth at this age."""
    return max(LOOK_WORTH, LOOK_SHARE * age)


def insurance(age: float) -> float:
    """The longest gap at this age: what a wrong estimate may cost, as a share of the job's age."""
    return max(AGE_MIN, AGE_SHARE * age)


def next_gap(age: float, plan: Plan | None, fallback: float, ceiling: float) -> float:
    """Seconds until the next look at a job of this age: `fallback` (the pace without an estimate) without a plan;
    else where the lag of waiting for the next mode reaches one look's worth, bounded by the insurance and the
    ceiling, never under FLOOR; past every mode, a gap that grows with the time overdue."""
    if plan is None:
        return fallback
    ceiling = max(FLOOR, ceiling)
    # A look the plan wants a little after the insurance's is taken instead of it (one look, not two).
    cap = min(insurance(age), ceiling)
    gap = reach = min(SLACK * cap, ceiling)
    ahead = False
    for mode, (first, last) in zip(plan.modes, plan.spans):
        if age >= last:
            continue
        ahead = True
        rare = max(1.0, MINOR / mode.weight)
        gap = min(gap, _worth_a_look(mode, age, reach, look_worth(mode.center) * rare))
        if age >= first:
            # Inside a mode, the lag stays a small share of the job's duration, however wide the mode is.
            gap = min(gap, max(MODE_GAP, MODE_SHARE * mode.center) * rare)
    if not ahead:
        # Overdue: every end the history knows of has passed. Look again soon, then less and less often.
        gap = min(max(look_worth(age), OVERDUE_SHARE * (age - plan.last)), cap)
    elif gap >= reach:
        gap = cap
    return max(gap, FLOOR)


def _worth_a_look(mode: Mode, age: float, cap: float, worth: float) -> float:
    """The smallest gap after which the expected lag, given the job still runs at `age` and ends in this mode,
    reaches `worth` (at most `cap`)."""
    running = mode.running_at(age)
    if running <= 0:
        return cap
    want = worth * running
    if mode.lag_if_next(age, age + cap) < want:
        return cap
    lo, hi = 0.0, cap
    while hi - lo > 0.01:
        mid = (lo + hi) / 2
        if mode.lag_if_next(age, age + mid) < want:
            lo = mid
        else:
            hi = mid
    return hi


def looks(plan: Plan | None, start: float, until: float, fallback: float = 1.0, ceiling: float = 30.0,
          latency: float = 0.0) -> list[float]:
    """The ages at which a job first seen at `start` would be looked at, up to `until` (each look taking
    `latency`): the plan as a list, for tests and for the docs."""
    out = []
    age = start
    while age < until and len(out) < 10000:
        age += next_gap(age, plan, fallback, ceiling) + latency
        out.append(round(age, 3))
    return out


# ---------------------------------------------------------------------------------------------
# The job's age, by UM's clock
# ---------------------------------------------------------------------------------------------

class Skew:
    """How far the controller's clock is ahead of UM's (controller minus UM, seconds), as an interval that each
    answer narrows: the answer's `Date` header (UM's clock, to the second) and the job's own timestamps (UM's
    clock at or before the answer) against the controller's clock before and after the request."""

    def __init__(self) -> None:
        self.low = -math.inf
        self.high = math.inf
        self.dated = False

    def note_date(self, header: t.Any, sent: float, received: float) -> None:
        """One answer's Date header: UM's clock was within [Date, Date + 1 s) when it answered."""
        when = http_date(header)
        if when is None or received < sent:
            return
        low, high = max(self.low, sent - when - 1.0), min(self.high, received - when)
        if low <= high:
            self.low, self.high, self.dated = low, high, True
        else:
            # A clock that jumped (or a server behind a proxy that stamps its own time): start again from here.
            self.low, self.high = sent - when - 1.0, received - when

    def note_stamp(self, stamp: float | None, received: float) -> None:
        """A time UM wrote before it answered (a submit or task time): UM's clock was at least that."""
        if stamp is not None and received - stamp < self.high:
            self.high = max(received - stamp, self.low)

    @property
    def value(self) -> float | None:
        """The best guess, when a Date header bounded it from both sides: none at all when the bounds allow it (clocks
        kept by NTP agree far better than a Date header can tell), else the middle of the bounds."""
        if not self.dated or not (math.isfinite(self.low) and math.isfinite(self.high)):
            return None
        if self.low <= 0.0 <= self.high:
            return 0.0
        return (self.low + self.high) / 2


def http_date(value: t.Any) -> float | None:
    """Epoch seconds of an HTTP Date header, or None (a date without a zone read as GMT)."""
    return _http_date(value, assume_utc=True)


def server_age(job: t.Mapping[str, t.Any]) -> float:
    """The least age the job can have, by UM's own clock: its latest task timestamp minus its submit_time."""
    submit = parse_time(job.get("submit_time"))
    if submit is None:
        return 0.0
    return max(latest_stamp(job) or submit, submit) - submit


def latest_stamp(job: t.Mapping[str, t.Any]) -> float | None:
    """The latest time UM wrote into the job (submit, task start or end): UM's clock was at least that."""
    stamps = [parse_time(job.get("submit_time"))]
    tasks = job.get("task_reports")
    for task in tasks if isinstance(tasks, list) else []:
        if isinstance(task, dict):
            stamps += [parse_time(task.get("start_time")), parse_time(task.get("complete_time"))]
    found = [s for s in stamps if s is not None]
    return max(found) if found else None


def age_of(job: t.Mapping[str, t.Any], now: float, skew: float | None = None, coarse: bool = False) -> float | None:
    """The job's age at `now` (the waiter's clock: wall-clock seconds in modules), or None when unknown. `coarse`:
    UM writes whole seconds (see is_coarse).

    With a measured skew (Date headers), now - skew - submit_time. Without one, now - submit_time when the clocks
    agree within CLOCK_SKEW; else (another clock, a test's) None: the caller counts from when it first saw the job.
    Never less than what UM's own timestamps prove.
    """
    submit = parse_time(job.get("submit_time"))
    if submit is None:
        return None
    proven = server_age(job)
    if coarse:
        submit += 0.5  # written in whole seconds: the job was submitted within that second, half of it on average
    if skew is not None:
        age = now - skew - submit
        if -CLOCK_SKEW <= age <= MAX_DURATION:
            return max(proven, age)
        return None
    if -CLOCK_SKEW <= now - submit <= MAX_DURATION:
        return max(proven, now - submit)
    return None


def _number(value: t.Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) else 0.0
