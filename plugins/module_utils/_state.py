# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of a wait and its state: what a wait knows, so that it can stop after a slice and go on in
another module run. Plain Python, nothing from Ansible.
"""

from __future__ import annotations

import hashlib
import math
import typing as t
from dataclasses import dataclass, field

from ._errors import UMConfigError


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


# The resume state's format. A state of another version is refused (a task never spans two collection versions).
STATE_VERSION = 2
# One character per job of the task in the resume state: what is known of it.
_CODES = {"normal": "n", "warning": "w", "partial_failures": "p", "error": "e", "aborted": "a", "unknown": "u",
          "not_found": "x", "success": "s", "failure": "f", "forgotten": "g"}
_OUTCOME_OF = {v: k for k, v in _CODES.items()}
PENDING_CODE = "."
# A job still running that has been seen (ONTAP's rule: a 404 for a job seen before means ONTAP forgot it after it
# ended, a 404 for a job never seen means it is unknown): the state keeps which.
SEEN_RUNNING_CODE = "r"
# Bounds on what a resume state may hold beyond one character per key (it travels with every progress slice).
MAX_CARRIED_TEXT = 500
MAX_UNKNOWN = 50
MAX_HISTORY_TYPES = 10
MAX_HISTORY_LENGTH = 100


def keys_digest(keys: t.Sequence[str]) -> str:
    """A short fingerprint of the task's keys, in order: a state carried for other jobs is refused."""
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:32]


@dataclass
class WaitState:
    """Everything a wait knows. `started`, `deadline` and `next_poll` are wall-clock seconds, the only times that
    make sense in the next module run; within a run the waiter works on the monotonic clock.

    Between progress slices only a small part travels (see `carry`): the outcome of each ended job as one
    character, what was learnt about the server, the pace, the failure counts, and what the module keeps (um_request's
    answer). Job records do not travel: pending jobs are read again in each slice, ended ones once at the end.
    """
    keys: list[str]
    started: float
    deadline: float
    jobs: dict[str, dict] = field(default_factory=dict)       # records read during this run, by key
    ended: dict[str, str] = field(default_factory=dict)       # outcome of each job that ended (table outcomes)
    missing: list[str] = field(default_factory=list)          # keys UM answered 404 for
    polls: int = 0                                             # requests sent, over the whole wait
    long_poll: bool | None = None                              # None: not known yet; True: honoured; False: not used
    batch_ok: bool | None = None                               # whether UM ORs keys in `key=a|b`
    seen: bool = False                                         # whether UM has answered during this wait (or before)
    failures: int = 0                                          # transient failures in a row
    auth_failures: int = 0                                     # 401s after the credentials had worked, over the task
    last_error: str | None = None
    unknown_states: dict[str, str] = field(default_factory=dict)
    rounds: int = 0                                            # rounds that looked at every pending job
    next_poll: float = 0.0                                     # no standard poll before this wall-clock time
    elapsed: float = 0.0
    timed_out: bool = False
    context: dict[str, t.Any] = field(default_factory=dict)    # what the module carries along (um_request's answer)
    # Durations of recently finished jobs per job type, newest first (see _estimate): asked once per type and wait.
    # The plan itself is made afresh in each run from the jobs' submit_time and this history.
    history: dict[str, list[float]] = field(default_factory=dict)
    reread: list[str] = field(default_factory=list)            # ended jobs whose record could not be read at the end
    seen_running: set[str] = field(default_factory=set)        # keys seen not yet ended (ONTAP's forgetting rule)

    @property
    def pending(self) -> list[str]:
        return [k for k in self.keys if k not in self.ended and k not in self.missing_set]

    @property
    def missing_set(self) -> set[str]:
        return set(self.missing)

    @property
    def done(self) -> bool:
        return not self.pending or self.timed_out

    @property
    def timeout(self) -> float:
        return self.deadline - self.started

    def ordered_jobs(self) -> list[dict]:
        return [self.jobs[k] for k in self.keys if k in self.jobs]

    # -- what travels from one module run to the next ------------------------------------------------

    def carry(self) -> dict[str, t.Any]:
        missing = self.missing_set
        codes = "".join("x" if k in missing else _CODES.get(self.ended[k], "u") if k in self.ended
                        else SEEN_RUNNING_CODE if k in self.seen_running else PENDING_CODE for k in self.keys)
        unknown = {k: v[:80] for k, v in list(self.unknown_states.items())[:MAX_UNKNOWN]}
        history = {k[:200]: [round(float(d), 3) for d in v[-MAX_HISTORY_LENGTH:]]
                   for k, v in list(self.history.items())[:MAX_HISTORY_TYPES]}
        return {"version": STATE_VERSION, "digest": keys_digest(self.keys), "started": self.started,
                "deadline": self.deadline, "codes": codes, "polls": self.polls, "rounds": self.rounds,
                "failures": self.failures, "auth_failures": self.auth_failures,
                "last_error": None if self.last_error is None else self.last_error[:MAX_CARRIED_TEXT],
                "long_poll": self.long_poll, "batch_ok": self.batch_ok, "seen": self.seen,
                "next_poll": self.next_poll, "unknown_states": unknown, "history": history, "context": self.context}

    @classmethod
    def resume(cls, data: t.Any, keys: t.Sequence[str]) -> "WaitState":
        """The state an earlier run of this task carried, for the task's `keys`; anything else is refused."""
        bad = UMConfigError("the wait's resume state is not one this collection's action plugin carried for this "
                            "task: it is never given in a task")
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION or set(data) != set(_CARRIED):
            raise bad
        checks = (
            data["digest"] == keys_digest(keys),
            all(_finite(data[n]) for n in ("started", "deadline", "next_poll")),
            all(_count(data[n]) for n in ("polls", "rounds", "failures", "auth_failures")),
            isinstance(data["codes"], str) and len(data["codes"]) == len(keys)
            and set(data["codes"]) <= set(_OUTCOME_OF) | {PENDING_CODE, SEEN_RUNNING_CODE},
            data["last_error"] is None or isinstance(data["last_error"], str),
            all(data[n] in (None, True, False) for n in ("long_poll", "batch_ok")),
            isinstance(data["seen"], bool),
            isinstance(data["unknown_states"], dict) and all(
                k in keys and isinstance(v, str) for k, v in data["unknown_states"].items()),
            isinstance(data["history"], dict) and all(
                isinstance(k, str) and isinstance(v, list) and all(_finite(d) and d >= 0 for d in v)
                for k, v in data["history"].items()),
            isinstance(data["context"], dict),
        )
        if not all(checks) or not data["started"] <= data["deadline"]:
            raise bad
        state = cls(keys=list(keys), started=float(data["started"]), deadline=float(data["deadline"]))
        for key, code in zip(keys, data["codes"]):
            if code == "x":
                state.missing.append(key)
            elif code == SEEN_RUNNING_CODE:
                state.seen_running.add(key)
            elif code != PENDING_CODE:
                state.ended[key] = _OUTCOME_OF[code]
        for name in ("polls", "rounds", "failures", "auth_failures", "last_error", "long_poll", "batch_ok", "seen",
                     "next_poll", "unknown_states", "history", "context"):
            setattr(state, name, data[name])
        return state


_CARRIED = ("version", "digest", "started", "deadline", "codes", "polls", "rounds", "failures", "auth_failures",
            "last_error", "long_poll", "batch_ok", "seen", "next_poll", "unknown_states", "history", "context")


def _finite(value: t.Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _count(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
