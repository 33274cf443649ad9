"""Job and resource model of umsim, the Unified Manager simulator.

A job is immutable once created: it stores its submit epoch, its planned end and the scripted outcome.
Everything a client sees (state, status, task progress, complete_time) is derived from the current time
when the job is read.  That keeps the simulator cheap (no background loop, no timers per job) and makes
jobs finish on time even across a restart, because only wall-clock epochs are persisted.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import json
import math
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

#: The outcome values the vendor documents for ``status`` (lowercase on the wire).
KNOWN_STATUSES = ("normal", "warning", "partial_failures", "error")
#: Final ``state`` values that the wire uses for a finished job.
WIRE_TERMINAL_STATES = ("completed", "aborted")
#: Outcomes after which the resource a job creates/changes exists (partial failures still made it).
SUCCESS_STATUSES = ("normal", "warning", "partial_failures")
#: Outcomes that mark a task (and the default last task) as failed.
FAILED_STATUSES = ("error", "partial_failures")

SCRIPT_FIELDS = ("duration", "status", "state", "style", "upper", "name", "type", "tasks", "results", "children")
MAX_CHILDREN = 1000


class ScriptError(ValueError):
    """A job script (header, rule or bulk request) is invalid; becomes a 400 error body."""

    def __init__(self, message: str, target: str = "X-UMSim-Job") -> None:
        super().__init__(message)
        self.message = message
        self.target = target


_ISO_CACHE: dict[int, str] = {}


def iso(ts: float) -> str:
    """Render an epoch like UM does: ISO 8601 with milliseconds and an explicit offset.

    Memoized per millisecond: bulk-created jobs share submit and task boundary times, and formatting
    was a visible part of rendering a page of fresh jobs.
    """
    ms = int(ts * 1000)
    text = _ISO_CACHE.get(ms)
    if text is None:
        if len(_ISO_CACHE) > 200_000:
            _ISO_CACHE.clear()
        text = _ISO_CACHE[ms] = _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc).isoformat(
            timespec="milliseconds")
    return text


#: One encoder for all job documents (json.dumps with options builds a new encoder per call).
encode_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def signed_hex(value: int) -> str:
    """Hex with a leading minus for negatives, the way UM (java.rmi UID) prints key fields."""
    return f"-{-value:x}" if value < 0 else f"{value:x}"


class KeyGen:
    """Generates job keys shaped like real UM keys: ``host:vm:millis:counter``.

    Real keys are a 64-bit host id, a signed 32-bit per-JVM number, the creation time in milliseconds and
    a signed 16-bit counter that starts near -0x8000, e.g. ``2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4``.
    Clients must treat them as opaque, but they must survive the colons and minus signs, so we mimic them.
    """

    def __init__(self, host_id: int, taken: Callable[[str], bool], rng: random.Random | None = None) -> None:
        rng = rng or random.SystemRandom()
        self._host = f"{host_id:x}"
        vm = rng.randint(1, 2**31 - 1)
        self._vm = signed_hex(-vm if rng.random() < 0.5 else vm)
        self._counter = -0x8000 + rng.randint(0, 64)
        self._taken = taken

    def new(self, now: float) -> str:
        """Return a key not yet in use."""
        while True:
            count = self._counter
            self._counter = -0x8000 if count >= 0x7FFF else count + 1
            key = f"{self._host}:{self._vm}:{int(now * 1000):x}:{signed_hex(count)}"
            if not self._taken(key):
                return key


def _opt_str(raw: Mapping[str, Any], name: str, where: str, target: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ScriptError(f"{where}: '{name}' must be a non-empty string", target)
    return value


@dataclass(frozen=True)
class JobScript:
    """How one job should run, as scripted by the X-UMSim-Job header, a rule or a bulk request."""

    duration: float = 2.0
    status: str = "normal"
    state: str = "completed"
    style: str = "wire"
    upper: bool = False
    name: str | None = None
    type: str | None = None
    tasks: tuple[dict[str, str], ...] | None = None
    results: tuple[dict[str, str], ...] | None = None
    children: int = 0

    @classmethod
    def parse(cls, raw: Any, target: str = "X-UMSim-Job") -> "JobScript":
        """Validate strictly: a typo in a script should fail loudly, not silently run the default."""
        where = "job script"
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ScriptError(f"{where} must be a JSON object", target)
        unknown = sorted(set(raw) - set(SCRIPT_FIELDS))
        if unknown:
            raise ScriptError(f"{where}: unknown field(s) {', '.join(unknown)}", target)
        kwargs: dict[str, Any] = {}
        if "duration" in raw:
            d = raw["duration"]
            if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d) or d < 0:
                raise ScriptError(f"{where}: 'duration' must be a number >= 0", target)
            kwargs["duration"] = float(d)
        status = _opt_str(raw, "status", where, target)
        if status is not None:
            kwargs["status"] = status.lower() if status.lower() in KNOWN_STATUSES else status
        state = _opt_str(raw, "state", where, target)
        if state is not None:
            kwargs["state"] = state.lower() if state.lower() in WIRE_TERMINAL_STATES else state
        style = raw.get("style")
        if style is not None:
            if style not in ("wire", "prose"):
                raise ScriptError(f"{where}: 'style' must be 'wire' or 'prose'", target)
            kwargs["style"] = style
        if "upper" in raw:
            if not isinstance(raw["upper"], bool):
                raise ScriptError(f"{where}: 'upper' must be true or false", target)
            kwargs["upper"] = raw["upper"]
        for name in ("name", "type"):
            value = _opt_str(raw, name, where, target)
            if value is not None:
                kwargs[name] = value
        if raw.get("tasks") is not None:
            tasks = raw["tasks"]
            if not isinstance(tasks, list):
                raise ScriptError(f"{where}: 'tasks' must be a list", target)
            parsed = []
            for i, task in enumerate(tasks):
                tw = f"{where}: tasks[{i}]"
                if not isinstance(task, dict):
                    raise ScriptError(f"{tw} must be an object", target)
                extra = sorted(set(task) - {"name", "description", "status", "failure_reason"})
                if extra:
                    raise ScriptError(f"{tw}: unknown field(s) {', '.join(extra)}", target)
                tname = _opt_str(task, "name", tw, target)
                if tname is None:
                    raise ScriptError(f"{tw}: 'name' is required", target)
                item = {"name": tname, "description": _opt_str(task, "description", tw, target) or tname,
                        "status": (_opt_str(task, "status", tw, target) or "normal")}
                reason = _opt_str(task, "failure_reason", tw, target)
                if reason is not None:
                    item["failure_reason"] = reason
                parsed.append(item)
            kwargs["tasks"] = tuple(parsed)
        if raw.get("results") is not None:
            results = raw["results"]
            if not isinstance(results, list):
                raise ScriptError(f"{where}: 'results' must be a list", target)
            parsed_r = []
            for i, res in enumerate(results):
                if not isinstance(res, dict) or not isinstance(res.get("name"), str) or "value" not in res:
                    raise ScriptError(f"{where}: results[{i}] must be an object with 'name' and 'value'", target)
                value = res["value"]
                parsed_r.append({"name": res["name"], "value": value if isinstance(value, str) else str(value)})
            kwargs["results"] = tuple(parsed_r)
        if "children" in raw:
            c = raw["children"]
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= MAX_CHILDREN:
                raise ScriptError(f"{where}: 'children' must be an integer 0..{MAX_CHILDREN}", target)
            kwargs["children"] = c
        return cls(**kwargs)


def merge_scripts(*raws: Mapping[str, Any] | None) -> dict[str, Any]:
    """Field-wise merge, later wins: the header overrides a rule field by field."""
    out: dict[str, Any] = {}
    for raw in raws:
        if raw:
            out.update(raw)
    return out


@dataclass(frozen=True)
class JobDefaults:
    """What a route contributes to a job: names, default task wording, the result it reports."""

    name: str
    type: str
    verb: str
    noun: str
    result_name: str | None = None
    result_value: str | None = None


@dataclass(slots=True)
class Job:
    """One stored job.  Immutable after creation; everything visible is derived from ``now``."""

    key: str
    name: str
    type: str
    submit: float
    end: float
    final_state: str
    status: str
    style: str
    upper: bool
    tasks: list[dict[str, str]]
    results: list[dict[str, str]]
    parent_key: str | None = None
    child_keys: list[str] = field(default_factory=list)
    seq: int = 0
    submit_iso: str = ""
    end_iso: str = ""
    # Render caches (never persisted): task boundaries, the document once the job has ended (nothing
    # changes after that), and the serialized document of the current phase (see ``phase``).
    _spans: list[tuple[float, float, str, str]] | None = None
    _final: dict[str, Any] | None = None
    _json_cache: tuple[int, bytes] | None = None   # (phase, serialized document)

    def __post_init__(self) -> None:
        self.submit_iso = iso(self.submit)
        self.end_iso = iso(self.end)

    # -- persistence -------------------------------------------------------------------------------
    def to_record(self) -> dict[str, Any]:
        """The JSON stored in SQLite (everything except seq, which is the row id)."""
        return {"key": self.key, "name": self.name, "type": self.type, "submit": self.submit, "end": self.end,
                "final_state": self.final_state, "status": self.status, "style": self.style,
                "upper": self.upper, "tasks": self.tasks, "results": self.results,
                "parent_key": self.parent_key, "child_keys": self.child_keys}

    @classmethod
    def from_record(cls, seq: int, rec: dict[str, Any]) -> "Job":
        job = cls(**rec)
        job.seq = seq
        return job

    # -- time-derived view -------------------------------------------------------------------------
    @property
    def ends_terminal(self) -> bool:
        """False for scripted unknown final states: such a job never completes."""
        return self.final_state in WIRE_TERMINAL_STATES

    def terminal(self, now: float) -> bool:
        """Server-side view: the job has run its course and ended in a state clients treat as final."""
        return now >= self.end and self.ends_terminal

    def _case(self, value: str) -> str:
        return value.upper() if self.upper else value

    def state_at(self, now: float) -> str:
        if now < self.end:
            state = "running"
        elif self.final_state == "completed" and self.style == "prose":
            state = self.status.upper()
        else:
            state = self.final_state
        return self._case(state)

    def status_at(self, now: float) -> str:
        return self._case("normal" if now < self.end else self.status)

    def complete_time_at(self, now: float) -> str | None:
        return self.end_iso if self.terminal(now) else None

    def successful(self, now: float) -> bool:
        return self.terminal(now) and self.final_state == "completed" and self.status in ("normal", "warning")

    def failed(self, now: float) -> bool:
        return self.terminal(now) and self.final_state == "completed" and self.status not in ("normal", "warning")

    def task_spans(self) -> list[tuple[float, float, str, str]]:
        """(start, end, start ISO, end ISO) of each task: equal slices of the job's duration."""
        if self._spans is None:
            n = len(self.tasks)
            span = self.end - self.submit
            bounds = [self.submit + span * i / n for i in range(n)] + [self.end]
            self._spans = [(bounds[i], bounds[i + 1], iso(bounds[i]), iso(bounds[i + 1])) for i in range(n)]
        return self._spans

    def render_tasks(self, now: float) -> list[dict[str, Any]]:
        """Tasks complete one by one, spread evenly over the job's duration."""
        spans = self.task_spans()
        out = []
        n = len(self.tasks)
        for i, spec in enumerate(self.tasks):
            t_start, t_end, start_iso, end_iso = spans[i]
            task: dict[str, Any] = {"key": f"{self.key}-{i + 1}", "name": spec["name"], "type": "job_task",
                                    "description": spec.get("description", spec["name"])}
            if now >= t_end:
                aborted = self.final_state == "aborted" and i == n - 1
                task["state"] = self._case("aborted" if aborted else "completed")
                task["status"] = self._case(spec.get("status", "normal"))
                task["start_time"] = start_iso
                task["complete_time"] = end_iso
                if spec.get("failure_reason"):
                    task["failure_reason"] = spec["failure_reason"]
            elif now >= t_start:
                task["state"] = self._case("running")
                task["status"] = self._case("normal")
                task["start_time"] = start_iso
            else:
                task["state"] = self._case("pending")
                task["status"] = self._case("normal")
            out.append(task)
        return out

    def render(self, now: float, lookup: Callable[[str], "Job | None"]) -> dict[str, Any]:
        """The job object exactly as the API page lists its fields (callers must not mutate it)."""
        if self._final is not None and now >= self.end:  # (the check only matters if the clock steps back)
            return self._final
        doc: dict[str, Any] = {"key": self.key, "name": self.name, "type": self.type,
                               "state": self.state_at(now), "status": self.status_at(now),
                               "submit_time": self.submit_iso}
        complete = self.complete_time_at(now)
        if complete is not None:
            doc["complete_time"] = complete
        doc["job_results"] = [dict(r) for r in self.results] if now >= self.end else []
        doc["task_reports"] = self.render_tasks(now)
        if self.parent_key:
            doc["parent_job_key"] = self.parent_key
        if self.child_keys:
            doc["spawned_job_summary"] = self.summary(now, lookup)
        doc["_links"] = {"self": {"href": f"/api/management-server/jobs/{self.key}"}}
        if now >= self.end:
            self._final = doc
        return doc

    def phase(self, now: float) -> int:
        """How many task boundaries (task starts and the end) have passed.

        Between two boundaries nothing visible changes, so the serialized job can be reused; that keeps
        repeated listings of 10,000 running jobs cheap.  Jobs with children are not phase-cached while
        running (their summary depends on other jobs).
        """
        spans = self.task_spans()
        if now >= self.end:
            return len(spans) + 1
        return bisect.bisect_right([span[0] for span in spans], now)

    def render_json(self, now: float, lookup: Callable[[str], "Job | None"]) -> bytes:
        """Serialized form, reused while the job stays in the same phase."""
        phase = self.phase(now)
        cached = self._json_cache
        if cached is not None and cached[0] == phase and (not self.child_keys or now >= self.end):
            return cached[1]
        data = encode_json(self.render(now, lookup)).encode()
        self._json_cache = (phase, data)
        return data

    def summary(self, now: float, lookup: Callable[[str], "Job | None"]) -> dict[str, int]:
        """Counts over the spawned children, as UM's spawned_job_summary."""
        children = [c for c in (lookup(k) for k in self.child_keys) if c is not None]
        return {
            "total_jobs": len(children),
            "running_jobs": sum(1 for c in children if not c.terminal(now)),
            "completed_jobs": sum(1 for c in children if c.terminal(now) and c.final_state == "completed"),
            "successful_jobs": sum(1 for c in children if c.successful(now)),
            "failed_jobs": sum(1 for c in children if c.failed(now)),
            "aborted_jobs": sum(1 for c in children if c.terminal(now) and c.final_state == "aborted"),
        }


def default_tasks(defaults: JobDefaults, status: str) -> list[dict[str, str]]:
    """Three plausible steps; the last one carries the scripted failure so clients can show why."""
    noun, verb = defaults.noun, defaults.verb
    tasks = [
        {"name": f"Validate {noun} request", "description": f"Check the request to {verb.lower()} the {noun}",
         "status": "normal"},
        {"name": f"{verb} {noun}", "description": f"{verb} the {noun} on the cluster", "status": "normal"},
        {"name": "Update inventory", "description": "Record the change in Unified Manager", "status": "normal"},
    ]
    if status in FAILED_STATUSES:
        tasks[-1]["status"] = "error"
        tasks[-1]["failure_reason"] = (f"{verb} {noun} failed: simulated '{status}' outcome "
                                       f"(umsim scripted failure in step '{tasks[-1]['name']}')")
    elif status == "warning":
        tasks[-1]["status"] = "warning"
    return tasks


def build_jobs(script: JobScript, defaults: JobDefaults, keygen: KeyGen, now: float) -> list[Job]:
    """Create a job (first in the list) and its scripted children; nothing is stored here."""
    status = script.status
    tasks = list(script.tasks) if script.tasks is not None else default_tasks(defaults, status)
    if script.results is not None:
        results = [dict(r) for r in script.results]
    elif (defaults.result_name and defaults.result_value and script.state == "completed"
          and status in SUCCESS_STATUSES):
        results = [{"name": defaults.result_name, "value": defaults.result_value}]
    else:
        results = []
    end = now + script.duration
    parent = Job(key=keygen.new(now), name=script.name or defaults.name, type=script.type or defaults.type,
                 submit=now, end=end, final_state=script.state, status=status, style=script.style,
                 upper=script.upper, tasks=[dict(t) for t in tasks], results=results)
    jobs = [parent]
    n = script.children
    for i in range(n):
        last = i == n - 1
        c_status = "error" if last and status in FAILED_STATUSES else "normal"
        c_state = "aborted" if last and script.state == "aborted" else "completed"
        c_task = {"name": f"Part {i + 1}", "description": f"Part {i + 1} of {n} of '{parent.name}'",
                  "status": c_status}
        if c_status == "error":
            c_task["failure_reason"] = f"Part {i + 1} failed: simulated '{status}' outcome of the parent job"
        child = Job(key=keygen.new(now), name=f"{parent.name} (part {i + 1} of {n})", type=parent.type,
                    submit=now, end=end, final_state=c_state, status=c_status, style=script.style,
                    upper=script.upper, tasks=[c_task], results=[], parent_key=parent.key)
        parent.child_keys.append(child.key)
        jobs.append(child)
    return jobs


# ---------------------------------------------------------------------------------------------------
# Resources created by jobs
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResourceKind:
    """A collection the simulator keeps: where it lives and how its jobs are named."""

    collection: str   # path relative to /api, e.g. /storage-provider/luns
    noun: str         # "LUN", used in job and task names
    type_stem: str    # job type prefix, e.g. provision_lun -> provision_lun_create
    result_name: str  # job_results name carrying the key, e.g. lunKey
    key_type: str     # the type= part of UM resource keys


JOB_RESOURCES: tuple[ResourceKind, ...] = (
    ResourceKind("/storage-provider/luns", "LUN", "provision_lun", "lunKey", "lun"),
    ResourceKind("/storage-provider/file-shares", "File Share", "provision_file_share", "fileShareKey", "volume"),
    ResourceKind("/storage-provider/access-endpoints", "Access Endpoint", "provision_eth_endpoint",
                 "accessEndpointKey", "network_lif"),
    ResourceKind("/datacenter/svm/svms", "SVM", "provision_svm", "svmKey", "vserver"),
)


def resource_key(cluster_uuid: str, kind: ResourceKind) -> str:
    """UM-style resource key: ``<cluster uuid>:type=<type>,uuid=<uuid>``."""
    return f"{cluster_uuid}:type={kind.key_type},uuid={uuid.uuid4()}"


@dataclass(slots=True)
class ResourceOp:
    """One change to a collection, effective from ``effective`` (None: never, the job failed)."""

    collection: str
    key: str
    op: str                 # create | patch | delete
    body: dict[str, Any]
    effective: float | None
    job_key: str | None = None
    seq: int = 0


def fold_resources(ops: list[ResourceOp], now: float) -> dict[str, dict[str, Any]]:
    """Current objects of one collection: apply the ops that took effect by ``now``, in time order."""
    live = sorted((o for o in ops if o.effective is not None and o.effective <= now),
                  key=lambda o: (o.effective, o.seq))
    objs: dict[str, dict[str, Any]] = {}
    for op in live:
        if op.op == "create":
            objs[op.key] = dict(op.body)
        elif op.op == "patch" and op.key in objs:
            objs[op.key].update(op.body)
        elif op.op == "delete":
            objs.pop(op.key, None)
    return objs
