"""Run-time knobs of umsim and the ``/_umsim/*`` control channel that drives them.

Config (long-poll mode, latency), counters, faults and rules live here.  The control channel needs no
authentication and is never under ``/api``, so a real UM client cannot reach it by accident; tests,
demos and benchmarks use it to script the server while it runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from umsim_http import ApiError, json_response, read_json_object
from umsim_model import JobDefaults, JobScript, ScriptError, build_jobs

if TYPE_CHECKING:  # pragma: no cover - typing only
    from umsim_api import Simulator

LONG_POLL_MODES = ("honour", "ignore", "reject")
FAULT_KINDS = ("status", "drop", "drop_after", "slow", "malformed", "unauthorized", "trickle", "endless",
               "repeat_next")
MAX_BULK = 100_000


def _number(value: Any, name: str, *, minimum: float = 0.0, target: str = "body") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be a number >= {minimum:g}", target)
    return float(value)


def _int(value: Any, name: str, lo: int, hi: int, target: str = "body") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be an integer {lo}..{hi}", target)
    return value


def _check_fields(obj: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ApiError(400, "invalid_parameter", f"{what}: unknown field(s) {', '.join(unknown)}", unknown[0])


class Sleeper:
    """Cancellable sleeps for held requests (long polls, latency, slow faults).

    One future + one loop timer per sleep: no task, no thread, no polling.  ``wake_all`` releases every
    sleeper at shutdown so SIGTERM never waits for a 120 s long poll.
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()
        self.stopping = False

    async def sleep(self, delay: float) -> None:
        if self.stopping or delay <= 0:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        handle = loop.call_later(delay, lambda: fut.done() or fut.set_result(None))
        self._waiters.add(fut)
        try:
            await fut
        finally:
            handle.cancel()
            self._waiters.discard(fut)

    async def sleep_until(self, epoch: float) -> None:
        """Sleep until a wall-clock epoch (job times are wall-clock so they survive restarts)."""
        while not self.stopping:
            delay = epoch - time.time()
            if delay <= 0:
                return
            await self.sleep(delay)

    def wake_all(self) -> None:
        self.stopping = True
        for fut in list(self._waiters):
            if not fut.done():
                fut.set_result(None)


@dataclass
class Config:
    """Settings that can change at run time through ``POST /_umsim/config``."""

    long_poll: str = "honour"
    latency: float = 0.0
    discovery: float = 1.0            # seconds a datasource's discovery (or deletion) takes
    ontap_job_retention: float = 300.0  # seconds ONTAP keeps a finished job before answering 404
    clock_skew: dict[str, float] = field(default_factory=dict)  # cluster uuid or name -> seconds

    def as_dict(self) -> dict[str, Any]:
        return {"long_poll": self.long_poll, "latency": self.latency, "discovery": self.discovery,
                "ontap_job_retention": self.ontap_job_retention, "clock_skew": dict(self.clock_skew)}

    def update(self, body: dict[str, Any]) -> None:
        _check_fields(body, {"long_poll", "latency", "discovery", "ontap_job_retention", "clock_skew"}, "config")
        if "long_poll" in body:
            if body["long_poll"] not in LONG_POLL_MODES:
                raise ApiError(400, "invalid_parameter",
                               f"'long_poll' must be one of {', '.join(LONG_POLL_MODES)}", "long_poll")
        latency = _number(body["latency"], "latency", target="latency") if "latency" in body else self.latency
        discovery = _number(body["discovery"], "discovery", target="discovery") if "discovery" in body \
            else self.discovery
        retention = (_number(body["ontap_job_retention"], "ontap_job_retention", target="ontap_job_retention")
                     if "ontap_job_retention" in body else self.ontap_job_retention)
        skew = self.clock_skew
        if "clock_skew" in body:
            raw = body["clock_skew"]
            if not isinstance(raw, dict) or any(
                    not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, (int, float))
                    for k, v in raw.items()):
                raise ApiError(400, "invalid_parameter",
                               "'clock_skew' must map a cluster uuid or name to seconds (may be negative)",
                               "clock_skew")
            skew = {k: float(v) for k, v in raw.items()}
        self.long_poll = body.get("long_poll", self.long_poll)
        self.latency, self.discovery, self.ontap_job_retention, self.clock_skew = latency, discovery, retention, skew


@dataclass
class Counters:
    """What clients did to ``/api``: lets tests check retries, poll counts and created jobs."""

    total: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    by_job: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    jobs_created: int = 0
    dropped: int = 0
    long_polls_open: int = 0   # a gauge, not reset

    def request(self, route: str) -> None:
        self.total += 1
        self.by_route[route] += 1

    def reset(self) -> None:
        self.total = self.jobs_created = self.dropped = 0
        self.by_route.clear()
        self.by_job.clear()
        self.by_status.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"total": self.total, "by_route": dict(self.by_route), "by_job": dict(self.by_job),
                "jobs_created": self.jobs_created, "by_status": dict(self.by_status),
                "long_polls_open": self.long_polls_open, "dropped": self.dropped}


def _match_spec(raw: Any, what: str) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_parameter", f"{what}: 'match' must be an object", "match")
    _check_fields(raw, {"method", "path"}, f"{what} match")
    method, path = raw.get("method"), raw.get("path")
    for name, value in (("method", method), ("path", path)):
        if value is not None and not isinstance(value, str):
            raise ApiError(400, "invalid_parameter", f"{what}: match '{name}' must be a string", name)
    return (method.upper() if method and method != "*" else None), path


def _matches(method: str | None, path: str | None, req_method: str, rel_path: str) -> bool:
    if method is not None and method != req_method:
        return False
    return path is None or fnmatch.fnmatchcase(rel_path, path)


@dataclass
class Fault:
    """One injected failure; hits at most ``remaining`` requests and/or until ``expires`` (monotonic)."""

    id: int
    kind: str
    method: str | None
    path: str | None
    remaining: int | None
    expires: float | None
    params: dict[str, Any]
    spec: dict[str, Any]

    def active(self, now: float) -> bool:
        return (self.remaining is None or self.remaining > 0) and (self.expires is None or now < self.expires)

    def as_dict(self, now: float) -> dict[str, Any]:
        out = dict(self.spec)
        out["id"] = self.id
        out["remaining"] = self.remaining
        out["expires_in"] = None if self.expires is None else max(0.0, round(self.expires - now, 3))
        return out


class FaultSet:
    """Faults in the order they were added; the first active match takes the request."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: Any) -> Fault:
        if not isinstance(spec, dict):
            raise ApiError(400, "invalid_parameter", "a fault must be a JSON object", "body")
        _check_fields(spec, {"kind", "match", "count", "seconds", "status", "retry_after", "delay"}, "fault")
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise ApiError(400, "invalid_parameter", f"fault 'kind' must be one of {', '.join(FAULT_KINDS)}",
                           "kind")
        method, path = _match_spec(spec.get("match"), "fault")
        count = _int(spec["count"], "count", 1, 10**9, "count") if spec.get("count") is not None else None
        seconds = _number(spec["seconds"], "seconds", target="seconds") if spec.get("seconds") is not None else None
        if count is None and seconds is None:
            count = 1
        params: dict[str, Any] = {}
        if kind == "status":
            params["status"] = _int(spec.get("status", 500), "status", 100, 599, "status")
            if spec.get("retry_after") is not None:
                params["retry_after"] = _number(spec["retry_after"], "retry_after", target="retry_after")
        if kind == "slow":
            params["delay"] = _number(spec.get("delay", 1.0), "delay", target="delay")
        if kind in ("trickle", "endless"):
            params["delay"] = _number(spec.get("delay", 0.5), "delay", target="delay")
        now = time.monotonic()
        fault = Fault(next(self._ids), kind, method, path, count,
                      None if seconds is None else now + seconds, params, dict(spec))
        self.faults.append(fault)
        return fault

    def take(self, method: str, rel_path: str) -> Fault | None:
        """Consume one hit of the first active fault matching this request."""
        now = time.monotonic()
        self.faults = [f for f in self.faults if f.active(now)]
        for fault in self.faults:
            if _matches(fault.method, fault.path, method, rel_path):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def listing(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        self.faults = [f for f in self.faults if f.active(now)]
        return [f.as_dict(now) for f in self.faults]

    def clear(self) -> None:
        self.faults.clear()


@dataclass
class Rule:
    """Scripts the jobs of matching requests (method, path glob, glob on the body's ``name``)."""

    method: str | None
    path: str | None
    name: str | None
    job: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "name": self.name, "job": self.job}


class RuleSet:
    """Rules in order; the first match wins (the X-UMSim-Job header then overrides field by field)."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def add(self, spec: Any) -> Rule:
        if not isinstance(spec, dict):
            raise ApiError(400, "invalid_parameter", "a rule must be a JSON object", "body")
        _check_fields(spec, {"method", "path", "name", "job"}, "rule")
        for name in ("method", "path", "name"):
            if spec.get(name) is not None and not isinstance(spec[name], str):
                raise ApiError(400, "invalid_parameter", f"rule '{name}' must be a string", name)
        job = spec.get("job") or {}
        try:
            JobScript.parse(job, target="job")
        except ScriptError as exc:
            raise ApiError(400, "invalid_parameter", f"rule: {exc.message}", "job") from None
        method = spec.get("method")
        rule = Rule(method.upper() if method and method != "*" else None, spec.get("path"), spec.get("name"), job)
        self.rules.append(rule)
        return rule

    def find(self, method: str, rel_path: str, body: dict[str, Any] | None) -> dict[str, Any] | None:
        for rule in self.rules:
            if not _matches(rule.method, rule.path, method, rel_path):
                continue
            if rule.name is not None:
                name = (body or {}).get("name")
                if not isinstance(name, str) or not fnmatch.fnmatchcase(name, rule.name):
                    continue
            return rule.job
        return None

    def clear(self) -> None:
        self.rules.clear()


BULK_DEFAULTS = JobDefaults(name="Create LUN", type="provision_lun_create", verb="Create", noun="LUN")


class ControlChannel:
    """Handlers of ``/_umsim/*``."""

    def __init__(self, sim: "Simulator") -> None:
        self.sim = sim
        self.routes: dict[str, dict[str, Any]] = {
            "/health": {"GET": self.health},
            "/config": {"GET": self.get_config, "POST": self.post_config},
            "/counters": {"GET": self.get_counters, "DELETE": self.reset_counters},
            "/jobs": {"POST": self.create_jobs},
            "/faults": {"GET": self.list_faults, "POST": self.add_faults, "DELETE": self.clear_faults},
            "/rules": {"GET": self.list_rules, "POST": self.add_rules, "DELETE": self.clear_rules},
        }

    async def handle(self, request: web.BaseRequest, rel: str) -> web.StreamResponse:
        methods = self.routes.get(rel.rstrip("/") or "/")
        if methods is None:
            raise ApiError(404, "not_found", f"No control endpoint /_umsim{rel}.", "path")
        handler = methods.get(request.method)
        if handler is None:
            raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on /_umsim{rel}.",
                           "method", headers={"Allow": ", ".join(methods)})
        return await handler(request)

    async def health(self, request: web.BaseRequest) -> web.Response:
        return json_response({"ok": True})

    async def get_config(self, request: web.BaseRequest) -> web.Response:
        return json_response(self.sim.config.as_dict())

    async def post_config(self, request: web.BaseRequest) -> web.Response:
        self.sim.config.update(await read_json_object(request))
        return json_response(self.sim.config.as_dict())

    async def get_counters(self, request: web.BaseRequest) -> web.Response:
        return json_response(self.sim.counters.snapshot())

    async def reset_counters(self, request: web.BaseRequest) -> web.Response:
        self.sim.counters.reset()
        return json_response(self.sim.counters.snapshot())

    async def create_jobs(self, request: web.BaseRequest) -> web.Response:
        """Bulk creation for listing tests and benchmarks: N jobs in one SQLite transaction.

        With `ended_ago` the jobs are history: they ran back to back in the past, the last one ending that many
        seconds ago, each with its own submit_time and complete_time (and task times), as finished jobs of a type.
        """
        body = await read_json_object(request, allow_empty=True)
        _check_fields(body, {"count", "job", "spread", "seed", "ended_ago"}, "jobs")
        count = _int(body.get("count", 1), "count", 1, MAX_BULK, "count")
        try:
            script = JobScript.parse(body.get("job"), target="job")
        except ScriptError as exc:
            raise ApiError(400, "invalid_parameter", exc.message, exc.target) from None
        spread = body.get("spread")
        rng = random.Random(body.get("seed"))
        if spread is not None:
            if (not isinstance(spread, list) or len(spread) != 2
                    or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in spread)
                    or not 0 <= spread[0] <= spread[1]):
                raise ApiError(400, "invalid_parameter", "'spread' must be [min, max] with 0 <= min <= max",
                               "spread")
        ended_ago = body.get("ended_ago")
        if ended_ago is not None:
            ended_ago = _number(ended_ago, "ended_ago")
        now = time.time()
        scripts = [script if spread is None else dataclasses.replace(script, duration=rng.uniform(*spread))
                   for _index in range(count)]
        if ended_ago is None:
            starts = [now] * count
        else:
            # Back to back, oldest first, the last one ending `ended_ago` seconds before now.
            starts, end = [], now - ended_ago
            for s in reversed(scripts):
                end -= s.duration
                starts.append(end)
            starts.reverse()
        jobs = []
        keys = []
        for s, start in zip(scripts, starts):
            made = build_jobs(s, BULK_DEFAULTS, self.sim.keygen, start)
            keys.append(made[0].key)
            jobs.extend(made)
        self.sim.store.add(jobs)
        return json_response({"keys": keys})

    async def list_faults(self, request: web.BaseRequest) -> web.Response:
        return json_response({"faults": self.sim.faults.listing()})

    async def add_faults(self, request: web.BaseRequest) -> web.Response:
        specs = await _object_or_list(request)
        now = time.monotonic()
        before = len(self.sim.faults.faults)
        try:
            added = [self.sim.faults.add(spec).as_dict(now) for spec in specs]
        except ApiError:
            del self.sim.faults.faults[before:]  # all or nothing
            raise
        return json_response({"faults": added})

    async def clear_faults(self, request: web.BaseRequest) -> web.Response:
        self.sim.faults.clear()
        return json_response({"faults": []})

    async def list_rules(self, request: web.BaseRequest) -> web.Response:
        return json_response({"rules": [r.as_dict() for r in self.sim.rules.rules]})

    async def add_rules(self, request: web.BaseRequest) -> web.Response:
        specs = await _object_or_list(request)
        before = len(self.sim.rules.rules)
        try:
            added = [self.sim.rules.add(spec).as_dict() for spec in specs]
        except ApiError:
            del self.sim.rules.rules[before:]  # all or nothing
            raise
        return json_response({"rules": added})

    async def clear_rules(self, request: web.BaseRequest) -> web.Response:
        self.sim.rules.clear()
        return json_response({"rules": []})


async def _object_or_list(request: web.BaseRequest) -> list[Any]:
    """Faults and rules can be posted one at a time or as a list."""
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {exc}", "body") from None
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        return body
    raise ApiError(400, "invalid_body", "The body must be a JSON object or a list of objects.", "body")
