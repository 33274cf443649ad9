# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declarative engine: find an object, compare it with what the task asks, plan the writes, apply them one by
one (waiting for each job with the collection's waiter), and say what changed, from UM's own read-back.

Plain Python, nothing from Ansible. A module gives data: a `Kind` (where the objects live, how one is found, which
job result names the new one) and its `Field`s (option -> what UM writes, what it reads back, how to convert and
compare, whether it can change after creation, the PATCH order). The engine takes the client, a way to wait for
job keys, check mode and the task's deadline; a write that answers synchronously (200/201 with the record, no job)
is applied the same way, without a wait.

Rules the engine keeps, whatever the module:
- Every name resolves (and every value is checked) before the first write: a task that cannot finish sends nothing.
- One attribute per PATCH, in the fields' order; each job waited before the next write; the object read again after
  each step, and a step whose job ended well but whose read-back still differs fails (it is never sent again).
- Each attribute is sent at most once per run; a failure names the step and what already changed.
- Check mode sends no write; diff mode shows UM's read-back before and after, never what was sent.
"""

from __future__ import annotations

import math
import typing as t
from dataclasses import dataclass, field

from ._errors import UMConfigError, UMError, UMOperationUncertain
from ._paths import encode_segment
from ._report import summarize
from ._table import check_key, classify, job_handle_of, results_of
from ._text import one_line

# What a field may do once the object exists.
PATCH = "patch"              # changed with its own PATCH (one attribute per call)
CREATE_ONLY = "create_only"  # sent when the object is made; UM does not read it back, so never compared after
IMMUTABLE = "immutable"      # sent when the object is made; read back and compared: a different value fails

UNITS = {"bytes": 1, "b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4}
# UM may round a size up (to a block, a LUN geometry): sizes within this many bytes, or this share of the size
# asked, are the same size. Larger differences count: a grow is sent, a shrink refused.
SIZE_SLACK_BYTES = 1024 ** 2
SIZE_SLACK_SHARE = 1e-4
# Characters that mean something in UM's list filters (OR, wildcard, negation, comparison, quoting, a range):
# a name holding one could match other objects.
_FILTER_SPECIAL = ("|", "*", "!", "<", ">", '"', "..")
SECRET_SHOWN = "(secret, not compared)"


def dig(record: t.Any, path: str) -> t.Any:
    """The value at a dotted path of a record, or None when any part is missing."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def has(record: t.Any, path: str) -> bool:
    """Whether a record holds the dotted path at all (a field UM does not read back is not compared)."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


def put(body: dict, path: str, value: t.Any) -> dict:
    """Set a dotted path in a request body, making the objects on the way."""
    parts = path.split(".")
    node = body
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return body


def size_bytes(size: t.Any, unit: str) -> int:
    """A size and its unit (1024-based) as whole bytes; refused with a reason when not a positive number."""
    factor = UNITS.get(str(unit or "gb").lower())
    if factor is None:
        raise UMConfigError(f"size_unit '{one_line(unit, 20)}' is not one of bytes, kb, mb, gb, tb")
    try:
        value = float(size)
    except (TypeError, ValueError):
        raise UMConfigError(f"size '{one_line(size, 40)}' is not a number: give for example 10 with size_unit gb") \
            from None
    if not math.isfinite(value) or value <= 0:
        raise UMConfigError(f"size {one_line(size, 40)} must be a positive number")
    return int(round(value * factor))


def human_size(size: t.Any) -> str:
    """'2 GiB (2147483648 bytes)' for messages."""
    if not isinstance(size, (int, float)) or isinstance(size, bool):
        return one_line(size, 40)
    for name, factor in (("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.4g} {name} ({int(size)} bytes)"
    return f"{int(size)} bytes"


def size_slack(wanted: int) -> int:
    return max(SIZE_SLACK_BYTES, int(wanted * SIZE_SLACK_SHARE))


def same_size(current: t.Any, wanted: int) -> bool:
    """Sizes in bytes, equal within UM's rounding (see SIZE_SLACK_*)."""
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        return False
    return abs(current - wanted) <= size_slack(wanted)


def same_ref(current: t.Any, wanted: t.Any) -> bool:
    """A reference UM reads back ({key, name}) against a name or a key the user gave."""
    if not isinstance(current, dict):
        return False
    return wanted is not None and wanted in (current.get("key"), current.get("name"))


def ref_shown(current: t.Any) -> t.Any:
    """A reference as the diff shows it: its name, else its key."""
    if not isinstance(current, dict):
        return current
    return current.get("name") if current.get("name") is not None else current.get("key")


def check_name(what: str, value: t.Any, slash: bool = False) -> str:
    """A name that goes into a list filter: a non-empty string without the filter syntax's operators."""
    if not isinstance(value, str) or not value.strip():
        raise UMConfigError(f"{what} is empty: give the name as UM shows it")
    if value != value.strip():
        raise UMConfigError(f"{what} '{one_line(value, 80)}' begins or ends with white space: give the name as UM "
                            "shows it")
    bad = [c for c in _FILTER_SPECIAL if c in value] + (["/"] if slash and "/" in value else [])
    if bad or not value.isprintable():
        shown = "".join(bad) or "a control character"
        raise UMConfigError(f"{what} '{one_line(value, 80)}' holds {shown!r}, which UM's filters read as an "
                            "operator (or a path): give the plain name")
    return value


@dataclass(frozen=True)
class Field:
    """One option of a declarative module.

    `write`: where UM takes the value in a POST or PATCH body (dotted). `read`: where UM's record shows it (dotted;
    None: never shown). `prepare(value, engine)`: what is written, resolving names to keys (may fail, naming what
    exists). `same(read value, wanted)`: the compare rule. `shown(read value)`: the value in the diff. `order`: the
    PATCH order among fields that change. `patch_body(value, engine)`: the PATCH body, when it is not the write path
    alone. `always`: a value UM never reads back, sent on every run to an existing object.
    """
    option: str
    write: str
    read: str | None = None
    mutability: str = PATCH
    order: int = 100
    secret: bool = False
    required_to_create: bool = False
    prepare: t.Callable[[t.Any, "Engine"], t.Any] | None = None
    same: t.Callable[[t.Any, t.Any], bool] | None = None
    shown: t.Callable[[t.Any], t.Any] | None = None
    wanted_shown: t.Callable[[t.Any], t.Any] | None = None
    refuse: t.Callable[[t.Any, t.Any], str | None] | None = None
    label: str | None = None
    words: t.Callable[[t.Any], str] | None = None  # a value in messages and progress lines, when not as in the diff
    flat: bool = False  # a dict value shown in the diff as its parts, each under its own option name
    # The PATCH body when it is not the write path alone (a user name sent with its password).
    patch_body: t.Callable[[t.Any, "Engine"], dict] | None = None
    # A value UM never reads back, sent on an existing object on every run (a password with update_password:
    # always); a step that already sends it (another field's patch_body) makes this one unnecessary.
    always: bool = False

    @property
    def name(self) -> str:
        return self.label or self.option

    def written(self, wanted: t.Any, engine: "Engine") -> t.Any:
        return self.prepare(wanted, engine) if self.prepare else wanted

    def matches(self, current: t.Any, wanted: t.Any) -> bool:
        return self.same(current, wanted) if self.same else current == wanted

    def show(self, current: t.Any) -> t.Any:
        if self.secret:
            return SECRET_SHOWN
        return self.shown(current) if self.shown else current

    def show_wanted(self, wanted: t.Any) -> t.Any:
        if self.secret:
            return SECRET_SHOWN
        return self.wanted_shown(wanted) if self.wanted_shown else wanted

    def put_shown(self, shape: dict[str, t.Any], value: t.Any) -> None:
        """Put a value as the diff shows it: under the option's name, or (`flat`: a value that stands for several
        options, such as a service level's `iops`) each of its parts under its own option name."""
        if self.flat and isinstance(value, dict):
            shape.update(value)
        else:
            shape[self.option] = value

    def readable(self, record: t.Any) -> bool:
        """Whether this field can be compared on an existing object: it is read back, and not a secret."""
        return self.read is not None and not self.secret and has(record, self.read)


@dataclass
class Kind:
    """Where a kind of object lives and how one is found.

    `find(engine, wanted)`: the one record of the task's identity, or None (raises when the identity is ambiguous).
    `identity(wanted)`: words for messages ("file share 'fs1' in SVM 'svm1'"). `create_body(engine, wanted)`: the
    POST body's identity part (the SVM key, ...). `result_keys`: job_results names of the new object's key, read
    case-insensitively. `shape(record)`: the managed fields as the diff shows them, from a record.
    """
    noun: str
    collection: str
    result_name: str
    fields: list[Field]
    find: t.Callable[["Engine", dict], dict | None]
    identity: t.Callable[[dict], str]
    create_body: t.Callable[["Engine", dict], dict]
    result_keys: tuple[str, ...] = ()
    identity_shape: t.Callable[[dict], dict] | None = None
    # Why the existing object may not be changed or deleted (system-defined, in use), asked only when the plan has
    # a step for it: None lets the plan go. The task then fails with nothing sent.
    guard: t.Callable[[dict, list["Step"]], str | None] | None = None
    # How to read one object by key after a write, when its collection has no `key` filter (datasources).
    read_one: t.Callable[["Engine", str], dict | None] | None = None


@dataclass
class Step:
    """One write of the plan: what it is called, the method, path and body, the field it changes (PATCH)."""
    name: str
    method: str
    path: str
    body: dict | None = None
    field: Field | None = None
    wanted: t.Any = None
    before: t.Any = None

    def describe(self) -> str:
        f = self.field
        if f is None:
            return self.name
        if f.words is not None and not f.secret:
            return f"{self.name} ({one_line(f.words(self.before), 60)} -> {one_line(f.words(self.wanted), 60)})"
        return f"{self.name} ({one_line(f.show(self.before), 60)} -> {one_line(f.show_wanted(self.wanted), 60)})"

    def carry(self) -> dict[str, t.Any]:
        """The step as the resume state carries it (its body is built: nothing is looked up again)."""
        return {"name": self.name, "method": self.method, "path": self.path, "body": self.body,
                "option": self.field.option if self.field else None, "wanted": self.wanted, "before": self.before}

    @classmethod
    def restore(cls, data: t.Any, fields: dict[str, Field], collection: str) -> "Step | None":
        """A carried step, or None when it is not one the engine could have planned for this kind."""
        if not isinstance(data, dict) or set(data) != {"name", "method", "path", "body", "option", "wanted", "before"}:
            return None
        option, method, path = data["option"], data["method"], data["path"]
        f = fields.get(option) if isinstance(option, str) else None
        planned = {"create": ("POST", None), "delete": ("DELETE", None)}.get(data["name"], ("PATCH", f))
        if (option is not None and f is None) or (method, f) != planned or (f is not None and f.name != data["name"]):
            return None
        if not isinstance(path, str) or not (path == collection or path.startswith(collection + "/")) or \
                not (data["body"] is None or isinstance(data["body"], dict)):
            return None
        return cls(data["name"], method, path, data["body"], f, data["wanted"], data["before"])

    def as_dict(self) -> dict[str, t.Any]:
        out: dict[str, t.Any] = {"step": self.name, "method": self.method, "path": self.path}
        if self.field is not None:
            out["before"] = self.field.show(self.before)
            out["after"] = self.field.show_wanted(self.wanted)
        return out


@dataclass
class Waits:
    """How the engine waits for job keys: `wait(keys, timeout)` returns a finished WaitState (the collection's
    JobWaiter); `clock` is the waiter's clock, on which the task's deadline lies; the two switches of the verdict."""
    wait: t.Callable[[list[str], float], t.Any]
    clock: t.Callable[[], float]
    deadline: float
    fail_on_partial: bool = False
    warn_on_warning: bool = True
    wall_deadline: float | None = None  # the same deadline in wall-clock seconds (carried between module runs)

    def left(self) -> float:
        return self.deadline - self.clock()


class Paused(Exception):
    """Raised by `Waits.wait` when a progress slice ended and the job still runs: the module answers "still
    waiting" and goes on in its next run. The engine adds the job's key, where the plan stands (`snapshot`, for
    `Engine.run(resume=...)`) and the step (number, count, description) for the progress lines."""

    def __init__(self, state: t.Any) -> None:
        super().__init__("a progress slice ended while a job was running")
        self.state = state
        self.key: str | None = None
        self.snapshot: dict[str, t.Any] = {}
        self.step: tuple[int, int, str] = (0, 0, "")


# What a plan carried between module runs holds (see Engine._snapshot); another version is refused.
SNAPSHOT_VERSION = 1
_SNAPSHOT_FIELDS = ("version", "kind", "waiting", "key", "steps", "done", "jobs", "outputs", "plan", "before")


class StepFailed(UMError):
    """A write of the plan failed (its request, its job, or its read-back): the message names it and what changed."""


@dataclass
class Outcome:
    changed: bool = False
    key: str | None = None
    record: dict | None = None
    jobs: list[dict] = field(default_factory=list)
    outputs: dict[str, t.Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    plan: list[dict] = field(default_factory=list)
    job_key: str | None = None


class Engine:
    """Finds, compares, plans and applies for one object of one Kind. `resolver` holds the lookups of names
    (SVMs, service levels, ...) that a module's `prepare` functions call, cached for the task."""

    READ_AFTER_WRITE = 5.0  # seconds a read-back may take when the task's deadline has passed

    def __init__(self, client: t.Any, kind: Kind, waits: Waits, check_mode: bool = False,
                 warn: t.Callable[[str], None] | None = None) -> None:
        self.client = client
        self.kind = kind
        self.waits = waits
        self.check_mode = check_mode
        self.warnings: list[str] = []
        self._warn = warn
        self.cache: dict[t.Any, t.Any] = {}
        self.reads = 0
        self.writes = 0
        self.wanted: dict[str, t.Any] = {}
        self.current: dict | None = None

    # -- reading ------------------------------------------------------------------------------------

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        if self._warn is not None:
            self._warn(text)

    def list(self, path: str, params: dict[str, t.Any] | None = None, limit: int | None = None,
             after_write: bool = False) -> list[dict]:
        """Records of a UM collection (all pages, or `limit`), each request within the task's deadline. The read
        after a write whose job ended is still made at the deadline (briefly): it says what the task changed."""
        left = self.waits.left()
        if after_write:
            left = max(left, self.READ_AFTER_WRITE)
        elif left <= 0:
            raise UMError(f"the task's timeout passed before UM answered every lookup for {self.kind.noun} "
                          "(nothing was sent); give a longer timeout")
        self.reads += 1
        timeout = min(float(getattr(self.client, "request_timeout", left)), left)
        return [r for r in self.client.iter_records(path, params=params, limit=limit, timeout=timeout)
                if isinstance(r, dict)]

    def read(self, key: str) -> dict | None:
        """The object as UM lists it, by key (after a write)."""
        if self.kind.read_one is not None:
            return self.kind.read_one(self, key)
        records = [r for r in self.list(self.kind.collection, {"key": key}, after_write=True) if r.get("key") == key]
        return records[0] if records else None

    def lookup(self, cache_key: t.Any, fetch: t.Callable[[], t.Any]) -> t.Any:
        """A lookup done once per task (a name's key, a collection's records)."""
        if cache_key not in self.cache:
            self.cache[cache_key] = fetch()
        return self.cache[cache_key]

    # -- planning -----------------------------------------------------------------------------------

    def given(self, wanted: dict) -> list[Field]:
        return [f for f in self.kind.fields if wanted.get(f.option) is not None]

    def plan(self, wanted: dict, current: dict | None, state: str) -> list[Step]:
        """The writes that bring UM to what the task asks, every body built (so every name resolved) first."""
        kind = self.kind
        if state == "absent":
            if current is None:
                return []
            return [Step("delete", "DELETE", f"{kind.collection}/{encode_segment(current['key'])}")]
        if current is None:
            missing = [f.option for f in kind.fields if f.required_to_create and wanted.get(f.option) is None]
            if missing:
                raise UMConfigError(f"{kind.identity(wanted)} does not exist; to create it give "
                                    f"{', '.join(missing)}")
            body = kind.create_body(self, wanted)
            for f in self.given(wanted):
                put(body, f.write, f.written(wanted[f.option], self))
            return [Step("create", "POST", kind.collection, body)]
        steps = []
        refused = []
        unread = []
        for f in self.given(wanted):
            value = wanted[f.option]
            if f.mutability == CREATE_ONLY:
                continue
            if not f.readable(current):
                if f.always:
                    path = f"{kind.collection}/{encode_segment(current['key'])}"
                    steps.append((f.order, Step(f.name, "PATCH", path, None, f, value, None)))
                elif not f.secret:
                    unread.append(f.option)
                continue
            before = dig(current, f.read)
            if f.matches(before, value):
                continue
            reason = f.refuse(before, value) if f.refuse else None
            if reason:
                refused.append(reason)
                continue
            if f.mutability == IMMUTABLE:
                refused.append(f"{f.name} is {one_line(f.show(before), 60)} on the existing {kind.noun} and cannot "
                               f"change (asked: {one_line(f.show_wanted(value), 60)}); delete and create it again, "
                               f"or give {f.option}: {one_line(f.show(before), 60)}")
                continue
            steps.append((f.order, Step(f.name, "PATCH", f"{kind.collection}/{encode_segment(current['key'])}",
                                        None, f, value, before)))
        if refused:
            raise UMConfigError(f"{kind.identity(wanted)}: " + "; ".join(refused) + "; nothing was sent")
        if unread:
            self.warn(f"UM's record of {kind.identity(wanted)} does not show {', '.join(unread)}: not compared, "
                      "so not changed on the existing object")
        ordered = [s for _o, s in sorted(steps, key=lambda item: item[0])]
        for step in ordered:
            f = t.cast(Field, step.field)
            if f.patch_body is not None:
                step.body = f.patch_body(step.wanted, self)
            else:
                step.body = put({}, f.write, f.written(step.wanted, self))
        # A value sent on every run is not sent twice when another step's body already carries it.
        return [s for s in ordered if not (t.cast(Field, s.field).always and any(
            o is not s and has(o.body, t.cast(Field, s.field).write) for o in ordered))]

    def shape(self, record: dict | None, wanted: dict) -> dict[str, t.Any]:
        """The managed fields of a record, as the diff and check mode show them (read back, never what was sent)."""
        if record is None:
            return {}
        out = dict(self.kind.identity_shape(record)) if self.kind.identity_shape else {}
        for f in self.kind.fields:
            if f.read is not None and (has(record, f.read) or f.secret):
                f.put_shown(out, f.show(dig(record, f.read)))
        return out

    def predicted(self, before: dict[str, t.Any], wanted: dict, steps: list[Step]) -> dict[str, t.Any]:
        """What UM is expected to show after `steps`, from the shape before them (no read-back is possible without
        writing: check mode, or a last job not waited for)."""
        if steps and steps[0].name == "delete":
            return {}
        if steps and steps[0].name == "create":
            out = {"name": wanted.get("name")}
            for f in self.given(wanted):
                if f.read is not None:
                    f.put_shown(out, f.show_wanted(wanted[f.option]))
            return out
        out = dict(before)
        for step in steps:
            if step.field is not None:
                step.field.put_shown(out, step.field.show_wanted(step.wanted))
        return out

    # -- applying -----------------------------------------------------------------------------------

    def run(self, wanted: dict, state: str = "present", wait: bool = True,
            resume: dict | None = None) -> tuple[Outcome, dict[str, t.Any]]:
        """Bring one object to the task's wish. Returns the outcome and the diff ({before, after}).

        A wait whose progress slice ends raises `Paused` with a snapshot of where the plan stands; the module's
        next run gives that snapshot as `resume`, and the engine goes on from the job it was waiting for (nothing is
        looked up or sent again)."""
        self.wanted = wanted
        if resume is not None:
            steps, out, before, waiting = self._restore(resume)
            return self._go(steps, out, wanted, wait, before, waiting)
        current = self.current = self.kind.find(self, wanted)
        if current is not None and not isinstance(current.get("key"), str):
            raise UMError(f"UM lists {self.kind.identity(wanted)} without a key, so it cannot be changed or deleted; "
                          "nothing was sent")
        steps = self.plan(wanted, current, state)
        refused = self.kind.guard(current, steps) if steps and current is not None and self.kind.guard else None
        if refused:
            raise UMConfigError(f"{self.kind.identity(wanted)}: {refused}; nothing was sent")
        out = Outcome(key=current.get("key") if current else None, record=current,
                      plan=[s.as_dict() for s in steps])
        before = self.shape(current, wanted)
        if not steps:
            return out, {"before": before, "after": before}
        out.changed = True
        if self.check_mode:
            return out, {"before": before, "after": self.predicted(before, wanted, steps)}
        return self._go(steps, out, wanted, wait, before)

    def _go(self, steps: list[Step], out: Outcome, wanted: dict, wait: bool, before: dict[str, t.Any],
            waiting: str | None = None) -> tuple[Outcome, dict[str, t.Any]]:
        """Apply the steps in order (the first one already sent when `waiting` names its job)."""
        for index, step in enumerate(steps):
            last = index == len(steps) - 1
            try:
                if index == 0 and waiting is not None:
                    self._finish(step, out, wanted, waiting, None)
                else:
                    self._apply(step, out, wanted, wait or not last)
            except Paused as paused:
                paused.snapshot = self._snapshot(steps[index:], out, before, paused.key)
                paused.step = (len(out.plan) - len(steps) + index + 1, len(out.plan), step.describe())
                raise
            if out.job_key is not None:
                # The last job, not waited: um_job_wait takes it from here.
                base = self.shape(out.record, wanted) if out.record is not None else before
                return out, {"before": before, "after": self.predicted(base, wanted, [step])}
        after = self.shape(out.record, wanted) if steps[-1].name != "delete" else {}
        return out, {"before": before, "after": after}

    # -- carrying a plan from one module run to the next (progress slices) ------------------------------

    def _snapshot(self, steps: list[Step], out: Outcome, before: dict[str, t.Any], waiting: str) -> dict[str, t.Any]:
        return {"version": SNAPSHOT_VERSION, "kind": self.kind.noun, "waiting": waiting, "key": out.key,
                "steps": [s.carry() for s in steps], "done": list(out.done), "jobs": list(out.jobs),
                "outputs": dict(out.outputs), "plan": list(out.plan), "before": before}

    def _restore(self, data: t.Any) -> tuple[list[Step], Outcome, dict[str, t.Any], str]:
        """A snapshot this engine made for this kind in an earlier run of the task; anything else is refused."""
        bad = UMConfigError("the wait's resume state is not one this collection's action plugin carried for this "
                            "task: it is never given in a task")
        if not isinstance(data, dict) or set(data) != set(_SNAPSHOT_FIELDS) or \
                data["version"] != SNAPSHOT_VERSION or data["kind"] != self.kind.noun:
            raise bad
        if not (isinstance(data["waiting"], str) and isinstance(data["steps"], list) and data["steps"]
                and (data["key"] is None or isinstance(data["key"], str))
                and all(isinstance(data[n], list) for n in ("done", "jobs", "plan"))
                and all(isinstance(data[n], dict) for n in ("outputs", "before"))
                and all(isinstance(x, str) for x in data["done"])
                and all(isinstance(x, dict) for x in data["jobs"] + data["plan"])):
            raise bad
        fields = {f.option: f for f in self.kind.fields}
        steps = [Step.restore(s, fields, self.kind.collection) for s in data["steps"]]
        if None in steps or len(steps) > len(data["plan"]):
            raise bad
        try:
            check_key(data["waiting"])
        except UMConfigError:
            raise bad from None
        out = Outcome(changed=True, key=data["key"], jobs=data["jobs"], outputs=data["outputs"], done=data["done"],
                      plan=data["plan"])
        return t.cast("list[Step]", steps), out, data["before"], data["waiting"]

    def send(self, step: Step, out: Outcome, wait: bool = True) -> None:
        """One more write outside the plan (a rediscovery), applied like a step of it: its job (a 202 job or a 200
        {"operationId": ...}) waited, the object read again, what changed recorded in `out`."""
        self._apply(step, out, self.wanted, wait)

    def _fail(self, step: Step, out: Outcome, reason: str, **details: t.Any) -> t.NoReturn:
        text = f"{self.kind.noun} step '{step.describe()}' failed: {reason}"
        if out.done:
            text += f". Already changed: {'; '.join(out.done)}"
        elif step.name != "create":
            text += ". Nothing was changed"
        details.update(changed=bool(out.done) or details.get("changed", False), jobs=out.jobs, key=out.key,
                       outputs=out.outputs)
        details.setdefault(self.kind.result_name, out.record)
        raise StepFailed(text, **details)

    def _apply(self, step: Step, out: Outcome, wanted: dict, wait: bool) -> None:
        """One write, its job waited (unless it is the last and wait is off), then the object read again."""
        if self.waits.left() <= 0:
            self._fail(step, out, "the task's timeout passed before it could be sent (not sent)",
                       timed_out=True)
        try:
            self.writes += 1
            answer = self.client.request(step.method, step.path, body=step.body)
        except UMError as exc:
            # A write whose answer was lost may have started a job: say so (changed), never send it again.
            self._fail(step, out, str(exc), changed=isinstance(exc, UMOperationUncertain) or
                       bool(getattr(exc, "details", {}).get("operation_uncertain")))
        handle = job_handle_of(answer.data, answer.headers.get("Location")) \
            if answer.status in (200, 201, 202) else None
        if handle is None:
            if answer.status == 202:
                self._fail(step, out, "UM answered 202 (accepted) without a job to wait for; look for the job with "
                                      "aiqum.jobs.um_job_info before running again", changed=True)
            self._after(step, out, wanted, {}, answer.data)
            return
        _where, raw_key, reference = handle
        try:
            key = check_key(raw_key)
        except UMConfigError as exc:
            self._fail(step, out, f"UM started a job whose key cannot be polled ({exc})", changed=True)
        if not wait:
            out.jobs.append(dict(reference if isinstance(reference, dict) else {}, key=key, step=step.name))
            out.job_key = key
            out.done.append(f"{step.describe()} started as job {key}")
            return
        self._finish(step, out, wanted, key, answer.data)

    def _finish(self, step: Step, out: Outcome, wanted: dict, key: str, answer: t.Any) -> None:
        """Wait for the job a step started, then read the object again and check the step took effect."""
        job = self._wait(step, out, key)
        out.jobs.append(dict(job, step=step.name))
        out.outputs.update(results_of(job))
        self._after(step, out, wanted, job, answer)

    def _wait(self, step: Step, out: Outcome, key: str) -> dict:
        left = self.waits.left()
        if left < 1:
            out.job_key = key
            self._fail(step, out, f"job {key} started, but the task's timeout leaves no time to wait for it; "
                                  "wait with aiqum.jobs.um_job_wait", changed=True, pending=[key], job_key=key)
        try:
            state = self.waits.wait([key], left)
        except Paused as paused:
            paused.key = key
            raise
        except UMError as exc:
            self._fail(step, out, f"job {key} started, but waiting for it failed: {exc}", changed=True,
                       pending=[key], job_key=key)
        verdict = summarize(state, fail_on_partial=self.waits.fail_on_partial,
                            warn_on_warning=self.waits.warn_on_warning)
        job = state.jobs.get(key) or {"key": key}
        for warning in verdict.warnings:
            self.warn(f"{self.kind.noun} step '{step.name}': {warning}")
        if verdict.failed:
            done = classify(job).terminal
            out.jobs.append(dict(job, step=step.name))
            self._fail(step, out, verdict.msg, changed=bool(out.done) or not done,
                       **({} if done else {"pending": [key], "job_key": key, "timed_out": True}))
        return job

    def _after(self, step: Step, out: Outcome, wanted: dict, job: dict, answer: t.Any) -> None:
        """Read the object again and check that the step took effect."""
        if step.name == "delete":
            out.done.append(f"deleted {self.kind.identity(wanted)}")
            gone = self.read(out.key) if out.key else None
            if gone is not None:
                self._fail(step, out, f"its job ended well but UM still lists {self.kind.noun} {out.key}; it was not "
                                      "sent again", changed=True)
            out.record = None
            return
        if step.name == "create":
            results = {str(k).lower(): v for k, v in results_of(job).items()}
            key = next((results[n.lower()] for n in self.kind.result_keys if results.get(n.lower())), None)
            if key is None and isinstance(answer, dict) and isinstance(answer.get("key"), str) and not job:
                key = answer["key"]  # a synchronous create answers with the record
            record = self.read(key) if isinstance(key, str) else self.kind.find(self, wanted)
            if record is None:
                self._fail(step, out, "its job ended well but UM does not list the new object; look for it before "
                                      "running again", changed=True)
            out.key, out.record = record.get("key"), record
            out.done.append(f"created {self.kind.identity(wanted)}")
            return
        f = t.cast(Field, step.field)
        record = self.read(out.key) if out.key else None
        if record is None:
            self._fail(step, out, f"UM no longer lists {self.kind.noun} {out.key}", changed=True)
        out.record = record
        now = dig(record, f.read) if f.read else None
        if f.read is not None and not f.matches(now, step.wanted):
            self._fail(step, out, f"its job ended with status normal but UM still shows "
                                  f"{f.name} {one_line(f.show(now), 60)}; it was not sent again",
                       changed=True)
        out.done.append(step.describe())


def result_of(engine: Engine, outcome: Outcome, diff: dict) -> dict[str, t.Any]:
    """The module result: changed, key, the object as UM lists it, the jobs in plan order, their outputs."""
    kind = engine.kind
    result: dict[str, t.Any] = {"changed": outcome.changed, "key": outcome.key, kind.result_name: outcome.record,
                                "jobs": outcome.jobs, "outputs": outcome.outputs, "plan": outcome.plan,
                                "diff": diff}
    if outcome.job_key is not None:
        result["job_key"] = outcome.job_key
        result["pending"] = [outcome.job_key]
    return result


def find_one(engine: Engine, records: list[dict], what: str, shown: t.Callable[[dict], str]) -> dict | None:
    """The one record of an identity, or a failure listing them all when there are several."""
    if not records:
        return None
    if len(records) > 1:
        raise UMConfigError(f"{what} matches {len(records)} objects on UM: "
                            f"{', '.join(one_line(shown(r), 120) for r in records[:10])}; narrow it down (give cluster, "
                            "or the exact name)")
    return records[0]


def not_found(what: str, value: t.Any, existing: list[str], where: str = "on UM") -> UMConfigError:
    """'performance service level 'Gold' does not exist on UM (there are: Extreme, Performance, Value)'."""
    if existing:
        names = ", ".join(one_line(n, 80) for n in existing[:20]) + (", ..." if len(existing) > 20 else "")
        there = f" (there are: {names})"
    else:
        there = " (UM lists none)"
    return UMConfigError(f"{what} '{one_line(value, 80)}' does not exist {where}{there}; nothing was sent")


# ---------------------------------------------------------------------------------------------
# Storage-provider objects (file shares, LUNs): their lookups and rules, shared by the modules' field maps
# ---------------------------------------------------------------------------------------------

SVMS = "/datacenter/svm/svms"
CLUSTERS = "/datacenter/cluster/clusters"
SERVICE_LEVELS = "/storage-provider/performance-service-levels"
EFFICIENCY_POLICIES = "/storage-provider/storage-efficiency-policies"
IGROUPS = "/datacenter/protocols/san/igroups"
# How many names a "there are: ..." list asks UM for.
LISTED = 100


def _where(record: dict) -> str:
    return f"{record.get('name')} (cluster {dig(record, 'cluster.name')})"


def svm_record(engine: Engine, svm: str, cluster: str | None, unique: bool = True) -> dict:
    """The SVM of the task's identity; fails naming it, and what exists, when it is unknown, or (`unique`: to create
    in it) when SVMs of that name exist on several clusters and no cluster was given."""
    def fetch() -> list[dict]:
        records = [r for r in engine.list(SVMS, {"name": svm}) if r.get("name") == svm]
        if cluster is not None:
            on_cluster = [r for r in records if not _shown_and_differs(r, "cluster.name", cluster)]
            if not on_cluster:
                clusters = [r.get("name") for r in engine.list(CLUSTERS, limit=LISTED)]
                if cluster not in clusters:
                    raise not_found("cluster", cluster, sorted(str(c) for c in clusters))
                there = sorted(str(r.get("name")) for r in engine.list(SVMS, {"cluster.name": cluster}, limit=LISTED)
                               if dig(r, "cluster.name") == cluster)
                raise not_found("SVM", svm, there, where=f"on cluster '{one_line(cluster, 80)}'")
            records = on_cluster
        if not records:
            raise not_found("SVM", svm, sorted(_where(r) for r in engine.list(SVMS, limit=LISTED)))
        return records
    records = engine.lookup(("svm", svm, cluster), fetch)
    if unique and len(records) > 1:
        raise UMConfigError(f"SVM '{one_line(svm, 80)}' exists on {len(records)} clusters "
                            f"({', '.join(sorted(one_line(dig(r, 'cluster.name'), 80) for r in records))}): give "
                            "cluster to say which; nothing was sent")
    if unique and not isinstance(records[0].get("key"), str):
        raise UMConfigError(f"UM lists SVM '{one_line(svm, 80)}' without a key; nothing was sent")
    return records[0]


def named_key(engine: Engine, path: str, what: str, value: t.Any) -> str:
    """The key of a service level or efficiency policy given by name or key (one list of them per task)."""
    records = engine.lookup(("all", path), lambda: engine.list(path))
    for record in records:
        if record.get("key") == value:
            return value
    named = [r for r in records if r.get("name") == value and isinstance(r.get("key"), str)]
    if len(named) > 1:
        raise UMConfigError(f"{what} '{one_line(value, 80)}' names {len(named)} objects on UM: give its key; "
                            "nothing was sent")
    if not named:
        raise not_found(what, value, sorted(str(r.get("name")) for r in records))
    return named[0]["key"]


def service_level_key(value: t.Any, engine: Engine) -> dict:
    return {"key": named_key(engine, SERVICE_LEVELS, "performance service level", value)}


def efficiency_policy_key(value: t.Any, engine: Engine) -> dict:
    return {"key": named_key(engine, EFFICIENCY_POLICIES, "storage efficiency policy", value)}


def refuse_shrink(noun: str) -> t.Callable[[t.Any, t.Any], str | None]:
    def refuse(current: t.Any, wanted: t.Any) -> str | None:
        if isinstance(current, (int, float)) and not isinstance(current, bool) and not same_size(current, wanted) \
                and current > wanted:
            return (f"size {human_size(wanted)} is smaller than the {noun}'s current {human_size(current)}: UM cannot "
                    f"shrink a {noun}; give at least its current size")
        return None
    return refuse


def storage_fields(noun: str) -> list[Field]:
    """The fields every storage-provider object shares: size, service level, efficiency policy (that PATCH order)."""
    return [
        Field("size", "space.size", "space.size", PATCH, order=10, required_to_create=True, same=same_size,
              refuse=refuse_shrink(noun), words=human_size),
        Field("performance_service_level", "performance_service_level", "assigned_performance_service_level",
              PATCH, order=20, required_to_create=True, prepare=service_level_key, same=same_ref, shown=ref_shown),
        Field("storage_efficiency_policy", "storage_efficiency_policy", "assigned_storage_efficiency_policy",
              PATCH, order=30, prepare=efficiency_policy_key, same=same_ref, shown=ref_shown),
    ]


def _shown_and_differs(record: dict, path: str, wanted: t.Any) -> bool:
    """A record that shows the field with another value (a record that does not show it trusts the filter)."""
    return has(record, path) and dig(record, path) is not None and dig(record, path) != wanted


def owner_matches(record: dict, wanted: dict) -> bool:
    """Whether a listed record is in the task's SVM (and cluster, when given): a filter a server ignored is caught."""
    if _shown_and_differs(record, "svm.name", wanted["svm"]):
        return False
    return wanted.get("cluster") is None or not _shown_and_differs(record, "cluster.name", wanted["cluster"])


def owner_filter(wanted: dict) -> dict[str, str]:
    params = {"svm.name": wanted["svm"]}
    if wanted.get("cluster") is not None:
        params["cluster.name"] = wanted["cluster"]
    return params


def owner_body(engine: Engine, wanted: dict) -> dict:
    return {"name": wanted["name"], "svm": {"key": svm_record(engine, wanted["svm"], wanted.get("cluster"))["key"]}}


def owner_shape(record: dict) -> dict:
    return {"name": record.get("name"), "svm": dig(record, "svm.name"), "cluster": dig(record, "cluster.name")}


# ---------------------------------------------------------------------------------------------
# Catalog objects (performance service levels, storage efficiency policies): found by name, guarded
# ---------------------------------------------------------------------------------------------

def catalog_find(collection: str, noun: str) -> t.Callable[[Engine, dict], dict | None]:
    """Find by name: UM's `name` filter, the records checked again here (a server may ignore the filter). UM keeps
    these names unique whatever their case, so a name that differs from UM's only in case is the same object (a
    warning names it as UM lists it): only that lookup lists them all."""
    def find(engine: Engine, wanted: dict) -> dict | None:
        name = wanted["name"]
        what = f"{noun} '{one_line(name, 80)}'"
        records = [r for r in engine.list(collection, {"name": name}) if r.get("name") == name]
        if not records:
            folded = name.casefold()
            records = [r for r in engine.list(collection)
                       if isinstance(r.get("name"), str) and r["name"].casefold() == folded]
            for record in records[:1]:
                engine.warn(f"UM lists {what} as '{one_line(record['name'], 80)}' (names differ only in case, "
                            "which UM treats as the same name): that one is managed")
        return find_one(engine, records, what, lambda r: str(r.get("name")))
    return find


def catalog_guard(noun: str) -> t.Callable[[dict, list[Step]], str | None]:
    """UM refuses to change or delete a system-defined object, or one that workloads use: say so before sending."""
    def guard(current: dict, steps: list[Step]) -> str | None:
        verb = "deleted" if steps[0].name == "delete" else "changed"
        if current.get("system_defined") is True:
            return (f"it is a system-defined {noun}, which UM does not let be {verb}; define a {noun} of your own "
                    "under another name")
        count = current.get("workload_count")
        if isinstance(count, (int, float)) and not isinstance(count, bool) and count > 0:
            return (f"it is in use by {int(count)} workload(s) (LUNs, file shares), and UM does not let a {noun} in "
                    f"use be {verb}; move them to another {noun} first")
        return None
    return guard


def catalog_shape(record: dict) -> dict:
    return {"name": record.get("name")}


def same_number(current: t.Any, wanted: t.Any) -> bool:
    """Numbers equal whatever their type (UM may read 20 back as 20.0); never a bool."""
    if isinstance(current, bool) or not isinstance(current, (int, float)) or isinstance(wanted, bool):
        return False
    return isinstance(wanted, (int, float)) and math.isclose(float(current), float(wanted), rel_tol=1e-9)


def same_subset(current: t.Any, wanted: t.Any) -> bool:
    """A record's object (iops) against the parts of it the task gives: every part given is equal (numbers as
    numbers)."""
    if not isinstance(current, dict) or not isinstance(wanted, dict):
        return False
    for name, value in wanted.items():
        now = current.get(name)
        if not (now == value if isinstance(value, (str, bool)) or value is None else same_number(now, value)):
            return False
    return True
