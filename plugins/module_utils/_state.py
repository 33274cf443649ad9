# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of a wait and its state: what a wait knows, so that it can stop after a slice and go on in
another module run. Plain Python, nothing from Ansible.
"""

from __future__ import annotations

import math
import typing as t
from dataclasses import asdict, dataclass, field, fields

from ._errors import UMConfigError

# ---------------------------------------------------------------------------------------------
# Wait options and the state of a wait
# ---------------------------------------------------------------------------------------------

@dataclass
class WaitOptions:
    timeout: float = 3600.0          # one wall-clock deadline for the whole wait
    poll_interval: float = 1.0       # first interval of standard polling
    max_poll_interval: float = 30.0  # the interval never grows past this
    long_poll: str = "auto"          # auto | always | never
    long_poll_timeout: int = 60      # seconds UM may hold one long-poll request (1..120)
    batch_size: int = 50             # keys per `key=a|b|...` list request

    def check(self) -> None:
        if not (isinstance(self.timeout, (int, float)) and math.isfinite(self.timeout)) or not 0 < self.timeout <= 7 * 86400:
            raise UMConfigError(f"timeout {self.timeout} is out of range: give seconds from 1 to 604800 (a week)")
        if not 0.1 <= self.poll_interval <= 3600:
            raise UMConfigError(f"poll_interval {self.poll_interval} is out of range: give seconds from 0.1 to 3600")
        if not self.poll_interval <= self.max_poll_interval <= 3600:
            raise UMConfigError(f"max_poll_interval {self.max_poll_interval} must be at least poll_interval "
                                f"({self.poll_interval}) and at most 3600")
        if self.long_poll not in ("auto", "always", "never"):
            raise UMConfigError(f"long_poll '{self.long_poll}' is not one of auto, always, never")
        if not 1 <= int(self.long_poll_timeout) <= 120:
            raise UMConfigError(f"long_poll_timeout {self.long_poll_timeout} is out of range: UM accepts 1 to 120 seconds")


_STATE_VERSION = 1


@dataclass
class WaitState:
    """Everything a wait knows, so that it can stop after a slice and go on in another module run.

    Times are the waiter's clock (wall-clock seconds in modules), so a later process continues the same deadline.
    """
    keys: list[str]
    started: float
    deadline: float
    pending: list[str]
    jobs: dict[str, dict] = field(default_factory=dict)     # each job as last seen
    missing: list[str] = field(default_factory=list)        # keys UM answered 404 for
    polls: int = 0                                           # requests sent, over the whole wait
    long_poll: bool | None = None                            # None: not known yet; True: honoured; False: not used
    batch_ok: bool | None = None                             # whether UM ORs keys in `key=a|b`
    seen: bool = False                                       # whether UM has answered during this wait (or before)
    failures: int = 0                                        # transient failures in a row
    last_error: str | None = None
    unknown_states: dict[str, str] = field(default_factory=dict)
    rounds: int = 0                                          # rounds that looked at every pending job
    next_poll: float = 0.0                                   # no standard poll before this time (pace across slices)
    elapsed: float = 0.0
    timed_out: bool = False
    reported: dict[str, str] = field(default_factory=dict)   # what the last progress lines said of each job
    context: dict[str, t.Any] = field(default_factory=dict)  # what the module carries along (um_request's answer)
    # What standard polling learnt about when jobs end (see _estimate): durations of recently finished jobs per
    # job type, newest first (asked once per type and wait; [] when nothing usable came back or the request
    # failed). The plan itself is made afresh in each slice from the jobs' submit_time and this history.
    history: dict[str, list[float]] = field(default_factory=dict)
    version: int = _STATE_VERSION

    @property
    def done(self) -> bool:
        return not self.pending or self.timed_out

    @property
    def timeout(self) -> float:
        return self.deadline - self.started

    def ordered_jobs(self) -> list[dict]:
        return [self.jobs[k] for k in self.keys if k in self.jobs]

    def to_dict(self) -> dict[str, t.Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: t.Any) -> "WaitState":
        """Read a state a module run returned; refuse anything else with a one-line reason."""
        bad = UMConfigError("wait_state is not a wait state this collection returned: leave the option out "
                            "(the action plugin sets it)")
        if not isinstance(data, dict) or data.get("version") != _STATE_VERSION:
            raise bad
        names = {f.name for f in fields(cls)}
        if set(data) - names:
            raise bad
        try:
            state = cls(**data)
        except TypeError:
            raise bad from None
        lists_ok = all(isinstance(v, list) and all(isinstance(k, str) for k in v)
                       for v in (state.keys, state.pending, state.missing))
        numbers_ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                         for v in (state.started, state.deadline, state.polls, state.failures, state.rounds,
                                   state.next_poll, state.elapsed))
        maps_ok = all(isinstance(v, dict) for v in (state.jobs, state.unknown_states, state.reported, state.context,
                                                    state.history))
        learnt_ok = maps_ok and all(isinstance(v, list) and all(_finite(d) for d in v) for v in state.history.values())
        if not (lists_ok and numbers_ok and learnt_ok and set(state.pending) <= set(state.keys)):
            raise bad
        return state


def _finite(value: t.Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
