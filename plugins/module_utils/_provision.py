# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible side of the declarative storage modules (um_file_share, um_lun): their shared options (mirrored by
the `storage` doc fragment), the waits on the task's one deadline, and the run that turns the engine's outcome into
the module result. The engine itself (`_declare`) knows nothing of Ansible.

Under the modules' action plugins a task runs in progress slices, like um_job_wait: a wait whose slice ends makes
the module answer "still waiting" with progress lines and the plan's snapshot (the steps left, the job it waits
for, what is done), and the next run goes on from there. Nothing is looked up or sent again, and the task's one
deadline travels with it.
"""

from __future__ import annotations

import dataclasses
import typing as t

from . import _module
from ._declare import Engine, Kind, Paused, Waits, check_name, result_of, size_bytes
from ._errors import UMConfigError
from ._report import progress_lines
from ._state import WaitOptions

# The most a task of a module without wait options (its writes answer at once) may take, lookups included.
SYNC_TIMEOUT = 600.0

# Mirrors plugins/doc_fragments/storage.py; the wait options are um_job_wait's (UMModule adds them).
STORAGE_ARGSPEC: dict[str, dict[str, t.Any]] = {
    "name": {"type": "str", "required": True},
    "svm": {"type": "str", "required": True},
    "cluster": {"type": "str"},
    "size": {"type": "float"},
    "size_unit": {"type": "str", "default": "gb", "choices": ["bytes", "kb", "mb", "gb", "tb"]},
    "performance_service_level": {"type": "str"},
    "storage_efficiency_policy": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "wait": {"type": "bool", "default": True},
}


def waits(um: _module.UMModule, deadline_wall: float | None = None) -> Waits:
    """Waits on the collection's JobWaiter, every one within what is left of the task's one timeout (`deadline_wall`
    when an earlier slice of the task set it). Under progress slices a wait that reaches the slice's end raises
    Paused; the first wait of a later slice goes on with the state the earlier one carried."""
    opts = um.wait_options()
    # Looked up when called (not imported by name), so the waiter a test installs in _module is the one used.
    probe = _module.JobWaiter(um.client(), opts, server_seen=True)
    clock = probe.clock
    now = clock()
    deadline = now + (float(opts.timeout) if deadline_wall is None else deadline_wall - probe.wall())
    slice_end = now + um.slice_length
    carried = [um.resuming]

    def wait(keys: list[str], left: float) -> t.Any:
        step = dataclasses.replace(opts, timeout=max(0.1, min(float(opts.timeout), left)))
        fresh = not carried.pop() if carried else True
        until = max(slice_end, clock() + _module.MIN_SLICE) if um.sliced else None
        state = um.wait(keys, server_seen=True, options=step, fresh=fresh, until=until)
        if not state.done:
            raise Paused(state)
        return state

    return Waits(wait, clock, deadline, fail_on_partial=um.params["fail_on_partial_failures"],
                 warn_on_warning=um.params["warn_on_warning"], wall_deadline=probe.wall() + deadline - now)


def wanted_of(um: _module.UMModule, options: t.Sequence[str]) -> dict[str, t.Any]:
    """The task's wish: the identity, the size in bytes, and every option it gives (None: not managed)."""
    p = um.params
    wanted = {
        "name": check_name("name", p["name"], slash=True),
        "svm": check_name("svm", p["svm"]),
        "cluster": None if p["cluster"] is None else check_name("cluster", p["cluster"]),
        "size": None if p["size"] is None else size_bytes(p["size"], p["size_unit"]),
    }
    for option in ("performance_service_level", "storage_efficiency_policy"):
        wanted[option] = None if p[option] is None else check_name(option, p[option])
    for option in options:
        wanted[option] = p[option]
    return wanted


def sync_waits(um: _module.UMModule) -> Waits:
    """Waits for a module whose writes answer at once (service levels, efficiency policies): no wait options; the
    task's deadline bounds its lookups and writes. Should a server answer one with a job after all, it is waited
    for within that deadline with the waiter's default pace."""
    clock = _module.JobWaiter(um.client(), server_seen=True).clock
    deadline = clock() + SYNC_TIMEOUT

    def wait(keys: list[str], left: float) -> t.Any:
        opts = WaitOptions(timeout=max(0.1, left))
        return _module.JobWaiter(um.client(), opts, server_seen=True).wait(keys)

    return Waits(wait, clock, deadline)


def engine_of(um: _module.UMModule, kind: Kind, made: Waits | None = None) -> Engine:
    return Engine(um.client(), kind, made or waits(um), check_mode=um.check_mode, warn=um.module.warn)


def run(um: _module.UMModule, kind: Kind, wanted: dict[str, t.Any], made: Waits | None = None) -> dict[str, t.Any]:
    """Find, compare, plan and apply (or go on where an earlier slice stopped); the result carries the diff only in
    diff mode. `made`: the waits to use (sync_waits for a module without wait options); by default the task's wait
    options, in progress slices under the module's action plugin."""
    context = um.resume_context() if um.resuming else {}
    snapshot = context.get("plan")
    deadline = context.get("deadline")
    if um.resuming and (not isinstance(snapshot, dict) or isinstance(deadline, bool)
                        or not isinstance(deadline, (int, float))):
        raise UMConfigError("the wait's resume state is not one this collection's action plugin carried for this "
                            "task: it is never given in a task")
    w = made or waits(um, deadline)
    engine = engine_of(um, kind, w)
    try:
        outcome, diff = engine.run(wanted, state=um.params["state"], wait=um.params.get("wait", True),
                                   resume=snapshot)
    except Paused as paused:
        number, count, described = paused.step
        state = paused.state
        state.context = {"plan": paused.snapshot, "deadline": w.wall_deadline}
        lines = [f"{kind.identity(wanted)}: step {number} of {count}, {described}"]
        return {"changed": True, "waiting": True, "progress": lines + ["  " + x for x in progress_lines(state)],
                _module.RESUME_KEY: state.carry()}
    return result(um, engine, wanted, outcome, diff)


def result(um: _module.UMModule, engine: Engine, wanted: dict[str, t.Any], outcome: t.Any,
           diff: dict[str, t.Any]) -> dict[str, t.Any]:
    out = result_of(engine, outcome, diff)
    if not um.module._diff:
        out.pop("diff")
    out["msg"] = message(engine.kind, wanted, outcome, um.check_mode, um.params["state"])
    return out


def message(kind: Kind, wanted: dict[str, t.Any], outcome: t.Any, check_mode: bool, state: str) -> str:
    what = kind.identity(wanted)
    if not outcome.changed:
        return f"{what} is {'absent' if state == 'absent' else 'as asked'}; nothing to do"
    steps = ", ".join(s["step"] for s in outcome.plan)
    if check_mode:
        return f"check mode: {what} would change ({steps}); nothing was sent"
    done = "; ".join(outcome.done)
    if outcome.job_key:
        return f"{what}: {done}; wait for job {outcome.job_key} with aiqum.jobs.um_job_wait"
    return done if outcome.plan and outcome.plan[0]["step"] in ("create", "delete") else f"{what}: {done}"
