# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible glue, in one place: argspecs (mirrored by the doc fragments), client and waiter set-up,
and our exceptions turned into `fail_json` with their one-line message.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ._client import UMClient
from ._errors import UMConfigError, UMError, UMOperationUncertain
from ._options import Connection, argument_spec, read_connection
from ._report import progress_lines, summarize
from ._state import WaitOptions, WaitState
from ._table import results_of
from ._waiter import JobWaiter

# Mirrors plugins/doc_fragments/connection.py: derived from the one option reader's table (plugins/module_utils/
# _options.py), which also applies the UM_* variables and defaults. Names (and the aliases user/pass) follow
# netapp.um_info and netapp.ontap where they have them, so users can share module_defaults between the collections.
CONNECTION_ARGSPEC: dict[str, dict[str, t.Any]] = argument_spec()

# Mirrors plugins/doc_fragments/wait.py.
WAIT_ARGSPEC: dict[str, dict[str, t.Any]] = {
    "timeout": {"type": "float", "default": 3600.0},
    "poll_interval": {"type": "float", "default": 1.0},
    "max_poll_interval": {"type": "float", "default": 30.0},
    "long_poll": {"type": "str", "default": "auto", "choices": ["auto", "always", "never"]},
    "long_poll_timeout": {"type": "int", "default": 60},
    "fail_on_partial_failures": {"type": "bool", "default": False},
    "warn_on_warning": {"type": "bool", "default": True},
    "progress_interval": {"type": "float", "default": 30.0},
}
# A progress slice shorter than this is not worth a module start (about 0.35 s each).
MIN_SLICE = 2.0
# Where the action plugin hands a wait's resume state to the module: outside the argument spec (so no task can
# set it, and ansible-doc never shows it), accepted only when the action plugin runs the module with
# ignore_unknown_opts. Any other way in is refused.
RESUME_KEY = "_aiqum_resume"


class UMModule:
    """AnsibleModule plus what every module of this collection needs, by composition."""

    def __init__(self, argument_spec: dict[str, t.Any], wait_options: bool = False, **kwargs: t.Any) -> None:
        spec = dict(CONNECTION_ARGSPEC)
        if wait_options:
            spec.update(WAIT_ARGSPEC)
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self._client: UMClient | None = None
        # Handed over only by the action plugin, with ignore_unknown_opts: then no other unknown option may pass
        # unnoticed. Without it, AnsibleModule itself refuses the key as an unsupported parameter.
        self._resume = self.params.pop(RESUME_KEY, None)
        unsupported = sorted({p[0] if isinstance(p, tuple) else str(p)
                              for p in self.module.validation_result.unsupported_parameters} - {RESUME_KEY})
        if unsupported or (self._resume is not None and (not wait_options or not isinstance(self._resume, dict))):
            names = ", ".join(unsupported) or RESUME_KEY
            self.module.fail_json(msg=f"Unsupported parameters for ({self.module._name}) module: {names}. Supported "
                                      f"parameters include: {', '.join(sorted(spec))}.")
        try:
            self.conn: Connection = read_connection(self.params)
        except UMConfigError as exc:
            self.module.fail_json(msg=str(exc))
        self.module.no_log_values.update(self.conn.secrets.values)

    def hide_secrets(self, data: t.Any) -> None:
        """Values a request body or query holds under secret-looking names (a datasource's password, ...) join the
        task's secrets: sent, never shown in the result, a message, a warning or the trace."""
        self.conn.secrets.add_from(data)
        self.module.no_log_values.update(self.conn.secrets.values)

    def masked(self, data: t.Any) -> t.Any:
        """A copy of what is sent, with the task's secrets masked, for results kept or carried."""
        return self.conn.secrets.masked(data)

    @property
    def check_mode(self) -> bool:
        return self.module.check_mode

    def client(self) -> UMClient:
        if self._client is None:
            self._client = self.conn.client()
            if not self._resume:
                # Once per task (not once per progress slice).
                for warning in self.conn.warnings():
                    self.module.warn(warning)
        return self._client

    def wait_options(self) -> WaitOptions:
        p = self.params
        opts = WaitOptions(timeout=p["timeout"], poll_interval=p["poll_interval"],
                           max_poll_interval=p["max_poll_interval"], long_poll=p["long_poll"],
                           long_poll_timeout=p["long_poll_timeout"])
        opts.check()
        return opts

    def carried_state(self, keys: list[str]) -> WaitState | None:
        """The state of a wait an earlier run of this task began (handed over by the action plugin), if any."""
        return WaitState.resume(self._resume, keys) if self._resume else None

    def resume_context(self) -> dict[str, t.Any]:
        """What the first run of this task kept for the next ones (um_request's report), unchecked: the caller
        checks what it takes from it, and the wait checks the whole state against the task's keys."""
        context = self._resume.get("context") if isinstance(self._resume, dict) else None
        return context if isinstance(context, dict) else {}

    @property
    def resuming(self) -> bool:
        """Whether an earlier run of this task already began (and so already sent what it had to send)."""
        return bool(self._resume)

    def wait(self, keys: list[str], server_seen: bool = False, context: dict | None = None,
             options: WaitOptions | None = None, fresh: bool = False, until: float | None = None,
             started: float | None = None, seen_running: t.Iterable[str] = ()) -> WaitState:
        """Wait on keys with the task's wait options (or `options`): the whole wait, or one progress slice of it
        when the action plugin carries the state from run to run. `fresh`: a new wait, even in a later slice (the
        next step of a declarative plan); `until`: the slice's end on the waiter's clock, when the caller keeps it.
        For a new wait, `started` (wall clock) is when its timeout began, and `seen_running` the keys of jobs known
        to exist (ONTAP's: a later 404 means ONTAP forgot it)."""
        waiter = JobWaiter(self.client(), options or self.wait_options(), server_seen=server_seen)
        state = None if fresh else self.carried_state(keys)
        if state is None:
            state = waiter.start(keys, started=started)
            state.context = context or {}
            state.seen_running.update(k for k in seen_running if k in keys)
        if self.sliced and until is None:
            until = waiter.clock() + self.slice_length
        try:
            return waiter.run(state, until=until if self.sliced else None)
        except UMError as exc:
            # A wait that cannot go on still tells what it saw, like one that ended.
            exc.details.update(jobs=state.ordered_jobs(), pending=state.pending, polls=state.polls)
            raise

    @property
    def sliced(self) -> bool:
        """Whether this run waits one progress slice: the action plugin asks for slices (it hands over an empty
        state first); under async it hands over nothing and the module waits the whole time in one run."""
        return self._resume is not None and self.params.get("progress_interval", 0) > 0

    @property
    def slice_length(self) -> float:
        return max(MIN_SLICE, self.params.get("progress_interval") or 0)

    def wait_result(self, state: WaitState, report: dict[str, t.Any], single: bool) -> dict[str, t.Any]:
        """A slice that ended with jobs still running and time left: 'still waiting', with the state to go on
        from and the progress lines to print. A wait that ended: the report with the verdict applied."""
        if not state.done:
            return {"changed": report.get("changed", False), "waiting": True, "progress": progress_lines(state),
                    RESUME_KEY: state.carry()}
        verdict = summarize(state, fail_on_partial=self.params["fail_on_partial_failures"],
                            warn_on_warning=self.params["warn_on_warning"])
        report.update(wait_report(state, verdict.outcomes, single))
        report["msg"] = verdict.msg
        for warning in verdict.warnings:
            self.module.warn(warning)
        if state.reread:
            self.module.warn(f"{len(state.reread)} job(s) that ended earlier in this wait could not be read again for "
                             f"the result (their outcome counts, their records are not shown): "
                             f"{', '.join(state.reread[:10])}")
        if verdict.failed:
            self.module.fail_json(**report)
        return report

    def run(self, body: t.Callable[["UMModule"], dict[str, t.Any]]) -> None:
        """Run a module body; a UMError becomes a failed task with its one-line message and details."""
        try:
            result = body(self)
        except UMError as exc:
            extra = dict(exc.details)
            if isinstance(exc, UMOperationUncertain):
                extra.setdefault("changed", True)  # something may have changed on UM
            self.module.fail_json(msg=self.conn.secrets.mask(str(exc)), **extra)
        finally:
            if self._client is not None:
                self._client.close()
        self.module.exit_json(**result)


def wait_report(state: WaitState, outcomes: dict[str, str | None], single: bool) -> dict[str, t.Any]:
    """The fields every waiting module returns (um_job_wait, um_request with wait), ended or failed alike."""
    jobs = state.ordered_jobs()
    out: dict[str, t.Any] = {
        "jobs": jobs,
        "outcomes": outcomes,
        "pending": state.pending,
        "elapsed": round(state.elapsed, 3),
        "polls": state.polls,
        "timed_out": state.timed_out,
        "long_polling": bool(state.long_poll),
        "outputs": {k: results_of(state.jobs[k]) for k in state.keys if k in state.jobs},
    }
    if state.unknown_states:
        out["unknown_states"] = state.unknown_states
    if state.missing:
        out["not_found"] = state.missing
    if single and jobs:
        out["job"] = jobs[0]
        out["outputs"] = results_of(jobs[0])
    return out
