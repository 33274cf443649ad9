# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which jobs are new since the last look: the watermark behind the aiqum.jobs.um_jobs event source.

Plain Python, nothing from Ansible or ansible-rulebook, and no I/O except the state file: the caller
hands in the records UM listed (newest first) and a clock, so unit tests drive it with fake data and a
fake clock.

How nothing is lost or repeated:
- UM lists jobs newest first (``order_by=<time field> desc``). A mark remembers the newest time it has
  seen (``newest``) and every key read at or after ``since`` (``seen``), so each job is emitted once only,
  also when several end in the same second.
- For `lookback` seconds (by the caller's clock) after a new ``newest`` was first seen, each look reads
  back to ``newest - lookback``, so a job that shows up in the list a little after its own time is still
  found. After that, a job older than ``newest`` cannot show up any more, and a look reads from ``newest``
  only: a quiet UM costs one small page per look, however many jobs ended before.
- A look is all or nothing: the records are gathered first and the mark moves only once every page came
  back, so a fault half way through a listing loses nothing (the next look reads the window again).
- Times are compared as instants (ISO 8601 with any offset, read by the job table's one parser); a record
  without a readable time or key is skipped and counted, never guessed.
- A record dated in the future (a clock ahead, or a bad record) never moves the watermark past the present: the
  newest time it keeps is at most the clock's now, so one such job cannot hide every later one.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import typing as t
from dataclasses import dataclass, field

from ansible_collections.aiqum.jobs.plugins.module_utils._table import parse_time

STATE_FORMAT = 1


@dataclass
class Look:
    """What one look at the list found: the new records (oldest first) and what was skipped."""

    new: list[dict] = field(default_factory=list)
    read: int = 0
    unreadable: int = 0
    baseline: bool = False


@dataclass
class Mark:
    """A watermark over one time field of the job list (``complete_time`` or ``submit_time``).

    ``since`` is the oldest time still read (None: read everything the filter gives), ``newest`` the
    newest time seen and ``newest_at`` when (by `clock`), ``seen`` every key read at or after ``since``
    with its time. ``primed`` is False until the first look: that look only records what is there (emits
    nothing), unless a replay window set ``since`` first.
    """

    time_field: str
    lookback: float = 60.0
    since: float | None = None
    newest: float | None = None
    seen: dict[str, float] = field(default_factory=dict)
    primed: bool = False
    newest_at: float | None = None
    clock: t.Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def replay(self, window: float) -> None:
        """On a first start, also emit what ended in the last `window` seconds (by the mark's clock)."""
        self.since = self.clock() - float(window)
        self.primed = True

    def look(self, records: t.Iterable[t.Mapping[str, t.Any]]) -> Look:
        """Read records listed newest first; stop at the first one older than the window; move the mark.

        `records` may be a lazy iterator over pages: it is consumed only as far as needed, so a quiet UM
        costs one page. The mark moves only after the iterator is exhausted or left: if it raises, nothing
        changes and the caller may simply look again.
        """
        out = Look(baseline=not self.primed)
        floor = self.since
        batch: dict[str, tuple[float, int, dict]] = {}
        for position, rec in enumerate(records):
            out.read += 1
            ts = parse_time(rec.get(self.time_field)) if isinstance(rec, t.Mapping) else None
            key = rec.get("key") if isinstance(rec, t.Mapping) else None
            if ts is None or not isinstance(key, str) or not key:
                out.unreadable += 1
                continue
            if floor is None and not self.primed:
                floor = ts - self.lookback  # the baseline reads the newest record's window only
            if floor is not None and ts < floor:
                break
            # A key listed twice (pages shift while new jobs arrive) counts once, at its newest time.
            if key not in batch or ts > batch[key][0]:
                batch[key] = (ts, position, dict(rec))
        fresh = [] if out.baseline else [
            (ts, -pos, key, rec) for key, (ts, pos, rec) in batch.items() if key not in self.seen]
        fresh.sort(key=lambda item: (item[0], item[1], item[2]))
        out.new = [rec for _ts, _pos, _key, rec in fresh]
        self._advance({key: ts for key, (ts, _pos, _rec) in batch.items()})
        return out

    def _advance(self, times: t.Mapping[str, float]) -> None:
        now = self.clock()
        self.primed = True
        self.seen.update(times)
        if times:
            top = min(max(times.values()), now)
            if self.newest is None or top > self.newest:
                self.newest, self.newest_at = top, now
        if self.newest is not None:
            settled = self.newest_at is None or now >= self.newest_at + self.lookback
            floor = self.newest if settled else self.newest - self.lookback
            # Never read further back than before: the window only moves forward.
            self.since = floor if self.since is None else max(self.since, floor)
        if self.since is not None:
            self.seen = {k: v for k, v in self.seen.items() if v >= self.since}

    # -- persistence ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, t.Any]:
        return {"time_field": self.time_field, "since": self.since, "newest": self.newest,
                "newest_at": self.newest_at, "primed": self.primed, "seen": dict(sorted(self.seen.items()))}

    @classmethod
    def from_dict(cls, data: t.Any, time_field: str, lookback: float,
                  clock: t.Callable[[], float] = time.time) -> Mark:
        if not isinstance(data, dict) or data.get("time_field") != time_field:
            raise ValueError(f"it holds no mark for {time_field}")
        since, newest, seen = data.get("since"), data.get("newest"), data.get("seen")
        newest_at = data.get("newest_at")
        for name, value in (("since", since), ("newest", newest), ("newest_at", newest_at)):
            if value is not None and not isinstance(value, (int, float)):
                raise ValueError(f"{time_field}.{name} is not a number")
        if not isinstance(seen, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) for k, v in seen.items()):
            raise ValueError(f"{time_field}.seen is not a map of job keys to times")
        return cls(time_field, lookback, since, newest, {k: float(v) for k, v in seen.items()},
                   bool(data.get("primed")), newest_at, clock)


class StateError(Exception):
    """The state file cannot be read or written; the message says which file and what to do."""


def load_state(path: str) -> dict[str, t.Any] | None:
    """The saved marks, or None when the file does not exist yet (a first start)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateError(f"state file {path} cannot be read ({exc.__class__.__name__}: {exc}): fix its "
                         "permissions, or delete it to start from now (jobs that end meanwhile are then "
                         "not reported)") from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise StateError(f"state file {path} was not written by this event source (format "
                         f"{STATE_FORMAT}): give another state_file, or delete it to start from now")
    return data


def save_state(path: str, data: t.Mapping[str, t.Any]) -> None:
    """Write the state atomically: a crash leaves the old file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    body = json.dumps(dict(data, format=STATE_FORMAT), indent=1, sort_keys=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".um_jobs-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        try:
            dir_fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise StateError(f"state file {path} cannot be written ({exc.strerror or exc}): give a state_file in a "
                         "folder the rulebook may write to") from None


class Pacer:
    """When to look next: every `interval` seconds from the start of the last look. Failed looks are counted here;
    how long to wait after one is the collection's one retry rule (_retry.decide). Takes the clock from the caller."""

    def __init__(self, interval: float, max_delay: float, clock: t.Callable[[], float]) -> None:
        self.interval = float(interval)
        self.max_delay = max(float(max_delay), self.interval)
        self.clock = clock
        self.failures = 0
        self._started: float | None = None

    def starting(self) -> None:
        self._started = self.clock()

    def ok(self) -> float:
        """Seconds to sleep after a good look (never negative: a slow look is followed at once)."""
        self.failures = 0
        began = self._started if self._started is not None else self.clock()
        return max(0.0, began + self.interval - self.clock())

    def failed(self) -> int:
        """Count a failed look; returns how many in a row."""
        self.failures += 1
        return self.failures
