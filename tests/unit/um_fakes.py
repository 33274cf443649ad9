# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test doubles shared by the unit tests: a fake clock and a scripted Unified Manager.

`FakeUM` plays both roles the code under test talks to:
- a fake *client* for the waiter (`get_job`, `get`, `request_timeout`), and
- a fake *transport* for the real `UMClient` (`send`, patched over `UMClient._send`), so the module tests
  exercise the real client's paths, encoding and paging.

Time only moves when the waiter sleeps on the `FakeClock` or when the fake server "takes time" to answer,
the way a real one would: a request takes `latency` seconds, an honoured long poll is held until the job
ends or `poll_timeout` passes, and a hold longer than the client's read timeout ends in a read timeout.
"""

from __future__ import annotations

import datetime
import email.utils
import fnmatch
import typing as t
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMResponse
from ansible_collections.aiqum.jobs.plugins.module_utils._table import JOBS_PATH
from ansible_collections.aiqum.jobs.plugins.module_utils import _errors
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConnectionError, UMHTTPError

# The password the module tests pass; it must never appear in a module's output.
PASSWORD = "Mod-pw-5ecret!"
TERMINAL = ("completed", "aborted", "normal", "error", "partial_failures")
EPOCH = datetime.datetime(2026, 11, 27, 10, 0, 0, tzinfo=datetime.timezone.utc)


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it or advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.start = start
        self.now = start
        self.sleeps: list[tuple[float, float]] = []  # (when, seconds)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, f"slept {seconds}s"
        self.sleeps.append((self.now, seconds))
        self.now += seconds

    def advance(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds

    @property
    def slept(self) -> float:
        return sum(s for _w, s in self.sleeps)


def iso(rel: float) -> str:
    return (EPOCH + datetime.timedelta(seconds=rel)).isoformat(timespec="milliseconds")


class FakeJob:
    """One job's timeline: `steps` is a list of (seconds after the wait starts, state, status).

    A job has a `type` only when given one (job_type): a wait on typeless jobs asks UM no history of finished jobs and
    polls at the pace it has without an estimate. `tasks` gives task_reports: (start, end) seconds per task,
    shown with start_time/complete_time as they pass.
    """

    def __init__(self, key: str, steps: list[tuple[float, str, str]], name: str | None = None,
                 submit: float = 0.0, final: dict | None = None, fields: dict | None = None,
                 job_type: str | None = None, tasks: list[tuple[float, float]] | None = None) -> None:
        self.key = key
        self.type = job_type
        self.tasks = tasks or []
        self.steps = sorted(steps, key=lambda s: s[0])
        self.name = name or f"job {key}"
        self.submit = submit
        self.final = final or {}
        self.fields = fields or {}

    def step_at(self, rel: float) -> tuple[float, str, str]:
        current = self.steps[0]
        for step in self.steps:
            if step[0] <= rel + 1e-9:  # float noise: a hold that ends at `end` must see the job ended
                current = step
        return current

    def terminal_at(self, rel: float) -> bool:
        return self.step_at(rel)[1].lower() in TERMINAL

    def end(self) -> float | None:
        """When the job first becomes terminal, or None when it never does."""
        for at, state, _status in self.steps:
            if state.lower() in TERMINAL:
                return at
        return None

    def snapshot(self, rel: float) -> dict:
        at, state, status = self.step_at(rel)
        job: dict[str, t.Any] = {
            "key": self.key, "name": self.name, "state": state, "status": status,
            "submit_time": iso(self.submit), "task_reports": self._tasks(rel), "job_results": [],
            "_links": {"self": {"href": f"/api{JOBS_PATH}/{quote(self.key, safe='')}"}},
        }
        if self.type:
            job["type"] = self.type
        job.update(self.fields)
        if state.lower() in TERMINAL:
            job["complete_time"] = iso(at)
            job.update(self.final)
        return job

    def _tasks(self, rel: float) -> list[dict]:
        out = []
        for i, (begin, end) in enumerate(self.tasks):
            task: dict[str, t.Any] = {"key": f"{self.key}-{i + 1}", "name": f"step {i + 1}", "state": "pending",
                                      "status": "normal"}
            if rel + 1e-9 >= begin:
                task.update(state="running", start_time=iso(begin))
            if rel + 1e-9 >= end:
                task.update(state="completed", complete_time=iso(end))
            out.append(task)
        return out


def finished(key: str, job_type: str, submit: float, duration: float, status: str = "normal") -> FakeJob:
    """A job of `job_type` that ran before the wait (submit is negative: seconds before the wait starts)."""
    return FakeJob(key, [(submit - 1.0, "running", "normal"), (submit + duration, "completed", status)],
                   submit=submit, job_type=job_type)


def job(key: str, duration: float | None, status: str = "normal", **kw: t.Any) -> FakeJob:
    """A job running from the start for `duration` seconds, then completed with `status` (None: runs forever)."""
    steps = [(-1.0, "running", "normal")]
    if duration is not None:
        steps.append((float(duration), "completed", status))
    return FakeJob(key, steps, **kw)


class Reply:
    """A scripted answer: the fake returns `data` instead of the job (a malformed answer, for instance)."""

    def __init__(self, data: t.Any) -> None:
        self.data = data


class Call(t.NamedTuple):
    kind: str                 # "job" (GET one job), "list" (the list filtered on keys) or "history" (without keys)
    keys: tuple[str, ...]
    poll_timeout: int | None
    timeout: float | None
    retry: bool | None
    start: float              # seconds after the fake started
    end: float


def http_error(status: int, path: str, message: str | None = None, target: str | None = None,
               retry_after: float | None = None, method: str = "GET") -> UMHTTPError:
    return _errors.http_error(status, method, path, code=str(status * 1000) if message else None, um_message=message,
                              target=target, retry_after=retry_after)


class FakeUM:
    """A scripted Unified Manager: job timelines, long-poll behaviour, latency and faults."""

    FILTERS = ("key", "name", "type", "state", "status", "parent_job_key")

    def __init__(self, clock: FakeClock, jobs: t.Iterable[FakeJob] = (), long_poll: str = "honour",
                 latency: float = 0.02, or_keys: bool = True, page_max: int = 1000,
                 request_timeout: float = 30.0, date: bool = False) -> None:
        assert long_poll in ("honour", "ignore", "reject")
        self.clock = clock
        self.t0 = clock()
        self.jobs = {j.key: j for j in jobs}
        self.long_poll = long_poll
        self.latency = latency
        self.or_keys = or_keys
        self.page_max = page_max
        self.request_timeout = request_timeout
        # With `date`, each answer sets last_date as UMClient does: UM's clock (EPOCH + seconds since the start),
        # to the second, as an HTTP Date header.
        self.date = date
        self.last_date: str | None = None
        self.calls: list[Call] = []
        # Faults by call number (0-based, over get_job and get): an exception to raise or a Reply to return.
        self.faults: dict[int, t.Any] = {}
        # Faults by time window: (from, to, factory) in seconds after start; factory() gives the exception.
        self.outages: list[tuple[float, float, t.Callable[[], Exception]]] = []
        # For the transport role: every request seen, and scripted answers for paths that are not jobs.
        self.requests: list[tuple[str, str, dict, t.Any]] = []
        self.routes: dict[tuple[str, str], list[t.Any]] = {}

    @property
    def rel(self) -> float:
        return self.clock() - self.t0

    def add(self, *jobs: FakeJob) -> None:
        for j in jobs:
            self.jobs[j.key] = j

    def calls_with_poll_timeout(self) -> list[Call]:
        return [c for c in self.calls if c.poll_timeout]

    # -- the client role (what JobWaiter calls) ---------------------------------------------------

    def get_job(self, key: str, poll_timeout: int | None = None, timeout: float | None = None,
                retry: bool = True) -> dict:
        start = self.rel
        try:
            scripted = self._begin()
            path = f"{JOBS_PATH}/{quote(key, safe='')}"
            if scripted is not None:
                return scripted.data
            if key not in self.jobs:
                raise http_error(404, path, f"The job with key {key} was not found.", target="key")
            if poll_timeout:
                if self.long_poll == "reject":
                    raise http_error(400, path, "Unknown query parameter poll_timeout.", target="poll_timeout")
                if self.long_poll == "honour":
                    self._hold(self.jobs[key], poll_timeout, timeout)
            return self.jobs[key].snapshot(self.rel)
        finally:
            self.calls.append(Call("job", (key,), poll_timeout, timeout, retry, start, self.rel))

    def get(self, path: str, params: t.Mapping[str, t.Any] | None = None, timeout: float | None = None,
            retry: bool | None = None) -> t.Any:
        assert path == JOBS_PATH, path
        params = dict(params or {})
        keys = tuple(str(params.get("key", "")).split("|"))
        # A list request without keys is the waiter's look at finished jobs of a type (its history).
        kind = "list" if "key" in params else "history"
        if "key" in params:
            assert int(params["max_records"]) >= len(keys), "max_records too small for the keys asked"
        start = self.rel
        try:
            scripted = self._begin()
            if scripted is not None:
                return scripted.data
            return self.listing(params)
        finally:
            self.calls.append(Call(kind, keys if kind == "list" else (), None, timeout, retry, start, self.rel))

    def list_jobs(self, keys: t.Sequence[str], timeout: float | None = None, retry: bool = True) -> list[dict]:
        """The client's list request for keys (`key=a|b`), as UMClient.list_jobs makes it."""
        page = self.get(JOBS_PATH, {"key": "|".join(keys), "max_records": len(keys)}, timeout=timeout, retry=retry)
        records = page.get("records") if isinstance(page, dict) else None
        if not isinstance(records, list):
            raise _errors.UMResponseError("UM's job list answer has no records list")
        return [r for r in records if isinstance(r, dict)]

    def _begin(self) -> Reply | None:
        """Take one request's time and apply any scripted fault to it."""
        n = len(self.calls)
        start = self.rel
        self.clock.advance(self.latency)
        if self.date:
            self.last_date = email.utils.formatdate(EPOCH.timestamp() + self.rel, usegmt=True)
        fault = self.faults.get(n)
        if isinstance(fault, Exception):
            raise fault
        for begin, end, factory in self.outages:
            if begin <= start < end:
                raise factory()
        return fault

    def _hold(self, fake: FakeJob, poll_timeout: int, timeout: float | None) -> None:
        """Hold a long poll the way the simulator does: until the job ends or poll_timeout passes."""
        now = self.rel
        if fake.terminal_at(now):
            return
        end = fake.end()
        hold = float(poll_timeout) if end is None else max(0.0, min(end - now, float(poll_timeout)))
        if timeout is not None and hold > timeout:
            self.clock.advance(timeout)
            raise UMConnectionError(f"GET {JOBS_PATH}/...: no answer within {timeout:g}s (request_timeout)", sent=True)
        self.clock.advance(hold)

    def listing(self, query: t.Mapping[str, t.Any]) -> dict:
        """The job list with the API's filters (`|` for OR, `*` wildcards) and paging."""
        now = self.rel
        found = sorted((j.snapshot(now) for j in self.jobs.values()), key=lambda j: j["submit_time"], reverse=True)
        for name in self.FILTERS:
            if query.get(name) in (None, ""):
                continue
            wanted = str(query[name])
            alternatives = wanted.split("|") if (name != "key" or self.or_keys) else [wanted]
            found = [j for j in found
                     if any(fnmatch.fnmatchcase(str(j.get(name, "")).lower(), a.lower()) for a in alternatives)]
        offset = int(query.get("offset", 0))
        size = min(int(query.get("max_records", 20)), self.page_max)
        page = found[offset:offset + size]
        out: dict[str, t.Any] = {"records": page, "num_records": len(page), "total_records": len(found),
                                 "_links": {"self": {"href": f"/api{JOBS_PATH}?" + urlencode(dict(query))}}}
        if offset + size < len(found):
            nxt = dict(query)
            nxt.update({"max_records": size, "offset": offset + size})
            out["_links"]["next"] = {"href": f"/api{JOBS_PATH}?" + urlencode(nxt)}
        return out

    # -- the transport role (patched over UMClient._send) -----------------------------------------

    def script(self, method: str, path: str, *answers: t.Any) -> None:
        """Queue answers for (method, path): UMResponse-like (status, data) tuples or exceptions."""
        self.routes.setdefault((method.upper(), path), []).extend(answers)

    def assert_scripted_used(self) -> None:
        """Fail when scripted answers were never asked for: the test scripted a call that did not happen."""
        unused = [f"{m} {p}: {a!r}" for (m, p), queue in self.routes.items() for a in queue]
        assert not unused, "scripted answers never asked for: " + "; ".join(unused)

    def send(self, method: str, url: str, shown: str, params: t.Any, body: t.Any, timeout: float | None,
             retry: bool | None) -> UMResponse:
        parts = urlsplit(shown)
        path = parts.path
        query: dict[str, t.Any] = dict(parse_qsl(parts.query))
        for k, v in (params or {}).items():
            if v is not None:
                query[k] = "|".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
        assert url.endswith("/api" + shown), (url, shown)
        self.requests.append((method, path, query, body))
        queue = self.routes.get((method, path))
        if queue:
            answer = queue.pop(0)
            if isinstance(answer, Exception):
                raise answer
            status, data, *headers = answer  # (status, data) or (status, data, headers)
            return UMResponse(status, data, headers[0] if headers else {})
        if method == "GET" and path.startswith(JOBS_PATH + "/"):
            key = unquote(path[len(JOBS_PATH) + 1:])
            assert "/" not in path[len(JOBS_PATH) + 1:], "a job key was not percent-encoded"
            poll = int(query["poll_timeout"]) if "poll_timeout" in query else None
            return UMResponse(200, self.get_job(key, poll_timeout=poll, timeout=timeout, retry=retry), {})
        if method == "GET" and path == JOBS_PATH:
            return UMResponse(200, self.get(JOBS_PATH, query, timeout=timeout, retry=retry), {})
        raise http_error(404, path, f"No resource at {path}.", method=method)


def warnings_of(result: dict) -> list[str]:
    """The warning texts of a module result (ansible-core 2.19 returns them as structured summaries)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings") or []]


# -- ONTAP through UM's API gateway -------------------------------------------------------------------

CLUSTER = "4f8c1e2a-1111-11ee-9a3b-005056a7e001"
CLUSTER2 = "4f8c1e2a-2222-11ee-9a3b-005056a7e002"


class FakeOntapJob:
    """One ONTAP job on a cluster: queued until `start`, running (paused within `paused`), then `outcome` at `end`
    (seconds after the fake started); forgotten `retention` seconds after its end."""

    def __init__(self, cluster: str, uuid: str, end: float | None, outcome: str = "success", start: float = 0.0,
                 paused: tuple[float, float] | None = None, message: str | None = None, code: int = 0,
                 description: str = "POST /api/storage/volumes") -> None:
        self.cluster, self.uuid, self.end, self.outcome, self.start = cluster, uuid, end, outcome, start
        self.paused, self.code, self.description = paused, code, description
        self.message = message or ("success" if outcome == "success" else "Job failed")

    @property
    def key(self) -> str:
        return f"ontap:{self.cluster}:{self.uuid}"

    def state_at(self, rel: float) -> str:
        if self.end is not None and rel + 1e-9 >= self.end:
            return self.outcome
        if rel < self.start:
            return "queued"
        if self.paused and self.paused[0] <= rel < self.paused[1]:
            return "paused"
        return "running"

    def render(self, rel: float, fields: t.Sequence[str] | None = None) -> dict:
        state = self.state_at(rel)
        doc: dict[str, t.Any] = {"uuid": self.uuid, "description": self.description, "state": state,
                                 "message": self.message if state in ("success", "failure") else "In progress",
                                 "code": self.code if state in ("success", "failure") else 0}
        if state != "queued":
            doc["start_time"] = iso(int(self.start))
        if state in ("success", "failure"):
            doc["end_time"] = iso(int(self.end or 0))
        doc["_links"] = {"self": {"href": f"/api/gateways/{self.cluster}/cluster/jobs/{self.uuid}"}}
        if fields is not None:
            doc = {k: v for k, v in doc.items() if k in fields or k in ("uuid", "_links")}
        return doc


class FakeGateway(FakeUM):
    """FakeUM plus ONTAP's jobs through the gateway (client role: get_ontap_job, list_ontap_jobs). Every call is
    recorded in `calls` with kind "ontap_job" or "ontap_list" (keys: the ONTAP keys asked for) and in `ontap_params`
    (the query of each ONTAP request)."""

    def __init__(self, clock: FakeClock, ontap: t.Iterable[FakeOntapJob] = (), retention: float = 300.0,
                 clusters: t.Iterable[str] = (CLUSTER, CLUSTER2), **kw: t.Any) -> None:
        super().__init__(clock, **kw)
        self.ontap = {(j.cluster, j.uuid): j for j in ontap}
        self.retention = retention
        self.clusters = set(clusters)
        self.ontap_params: list[dict] = []

    def _ontap_begin(self, cluster: str, path: str) -> Reply | None:
        scripted = self._begin()
        if self.date:
            self.last_date = email.utils.formatdate(EPOCH.timestamp() + self.rel, usegmt=True)
        if scripted is None and cluster not in self.clusters:
            raise _errors.http_error(404, "GET", path, code="entity_not_found", um_message="No cluster with uuid",
                                     target="cluster_uuid")
        return scripted

    def _alive(self, job: FakeOntapJob | None, rel: float) -> bool:
        return job is not None and (job.end is None or rel < job.end + self.retention)

    def get_ontap_job(self, cluster: str, uuid: str, timeout: float | None = None, retry: bool = True) -> dict:
        start = self.rel
        path = f"/gateways/{cluster}/cluster/jobs/{uuid}"
        try:
            self.ontap_params.append({})
            scripted = self._ontap_begin(cluster, path)
            if scripted is not None:
                return scripted.data
            job = self.ontap.get((cluster, uuid))
            if not self._alive(job, self.rel):
                raise _errors.http_error(404, "GET", path, code="4", um_message="entry doesn't exist", target="uuid")
            return job.render(self.rel)  # type: ignore[union-attr]
        finally:
            self.calls.append(Call("ontap_job", (f"ontap:{cluster}:{uuid}",), None, timeout, retry, start, self.rel))

    def list_ontap_jobs(self, cluster: str, uuids: t.Sequence[str], fields: t.Sequence[str],
                        timeout: float | None = None, retry: bool = True) -> list[dict]:
        start = self.rel
        try:
            self.ontap_params.append({"uuid": "|".join(uuids), "fields": ",".join(fields)})
            scripted = self._ontap_begin(cluster, f"/gateways/{cluster}/cluster/jobs")
            if scripted is not None:
                return scripted.data
            out = []
            for u in uuids:
                job = self.ontap.get((cluster, u))
                if self._alive(job, self.rel):
                    out.append(job.render(self.rel, fields))  # type: ignore[union-attr]
            return out
        finally:
            self.calls.append(Call("ontap_list", tuple(f"ontap:{cluster}:{u}" for u in uuids), None, timeout, retry,
                                   start, self.rel))

    def looks_at(self, key: str) -> int:
        """How many requests asked about one ONTAP job."""
        return sum(1 for c in self.calls if c.kind.startswith("ontap") and key in c.keys)
