# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible glue, in one place: argspecs (mirrored by the doc fragments), client and waiter set-up,
and our exceptions turned into `fail_json` with their one-line message.
"""

from __future__ import annotations

import typing as t

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.module_utils.parsing.convert_bool import boolean

from ._client import UMClient
from ._errors import UMConfigError, UMError, UMOperationUncertain
from ._flags import FeatureFlags
from ._report import progress_lines, summarize
from ._state import WaitOptions, WaitState
from ._table import results_of
from ._waiter import JobWaiter


# Problems found in UM_* variables while Ansible read the options; reported by UMModule as one line naming the variable.
ENV_PROBLEMS: list[str] = []


def _env_problem(name: str, value: str, kind: str | None) -> str | None:
    shown = repr(value.strip()[:40])
    if kind == "port":
        try:
            port = int(value.strip())
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            return (f"{name}={shown} is not a TCP port: set {name} to a port from 1 to 65535 (or unset it "
                    "to use 443), or give http_port")
    elif kind == "bool":
        try:
            boolean(value.strip(), strict=True)
        except TypeError:
            return f"{name}={shown} is not a boolean: set {name} to true or false, or give validate_certs"
    elif kind == "float":
        try:
            float(value.strip())
        except ValueError:
            return f"{name}={shown} is not a number of seconds: set {name} to seconds, for example 30, or give request_timeout"
    return None


def env_fallback(*names: str, kind: str | None = None) -> str:
    """Like ansible's env_fallback, but an empty variable counts as unset (UM_HTTP_PORT= must not mean port ''),
    and a value of the wrong kind is reported naming the variable, not the option it stood in for."""
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip():
            problem = _env_problem(name, value, kind)
            if problem:
                ENV_PROBLEMS.append(problem)
                raise AnsibleFallbackNotFound
            return value
    raise AnsibleFallbackNotFound


def env_port(*names: str) -> str:
    return env_fallback(*names, kind="port")


def env_bool(*names: str) -> str:
    return env_fallback(*names, kind="bool")


def env_float(*names: str) -> str:
    return env_fallback(*names, kind="float")


# Mirrors plugins/doc_fragments/connection.py. Names (and the aliases user/pass) follow netapp.um_info and
# netapp.ontap where they have them, so users can share module_defaults between the collections.
# hostname, username and password are required unless their UM_* variable is set: checked by UMModule, so that
# the documentation can say so (Ansible's `required` would show them as required even when the variable is set).
CONNECTION_ARGSPEC: dict[str, dict[str, t.Any]] = {
    "hostname": {"type": "str", "fallback": (env_fallback, ["UM_HOSTNAME"])},
    "username": {"type": "str", "aliases": ["user"], "fallback": (env_fallback, ["UM_USERNAME"])},
    "password": {"type": "str", "aliases": ["pass"], "no_log": True, "fallback": (env_fallback, ["UM_PASSWORD"])},
    "validate_certs": {"type": "bool", "default": True,
                       "fallback": (env_bool, ["UM_VALIDATE_CERTS"])},
    "http_port": {"type": "int", "fallback": (env_port, ["UM_HTTP_PORT"])},
    "ca_path": {"type": "path", "fallback": (env_fallback, ["UM_CA_PATH"])},
    "request_timeout": {"type": "float", "default": 30.0,
                        "fallback": (env_float, ["UM_REQUEST_TIMEOUT"])},
    "feature_flags": {"type": "dict"},
}
REQUIRED_CONNECTION = {"hostname": "UM_HOSTNAME", "username": "UM_USERNAME", "password": "UM_PASSWORD"}

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
    "wait_state": {"type": "dict"},
}
# A progress slice shorter than this is not worth a module start (about 0.35 s each).
MIN_SLICE = 2.0

# Body fields whose values are secrets, wherever they appear in a request body.
SECRET_NAMES = re.compile(r"pass(word|wd|phrase)?$|secret|token|private_?key|api_?key|credential", re.IGNORECASE)
MASK = "********"


def masked(data: t.Any) -> t.Any:
    """A copy of a request body with the values under secret-looking names replaced, for results kept or carried."""
    if isinstance(data, dict):
        return {k: MASK if SECRET_NAMES.search(str(k)) and isinstance(v, (str, int, float)) and str(v) else masked(v)
                for k, v in data.items()}
    if isinstance(data, list):
        return [masked(v) for v in data]
    return data


class UMModule:
    """AnsibleModule plus what every module of this collection needs, by composition."""

    def __init__(self, argument_spec: dict[str, t.Any], wait_options: bool = False, **kwargs: t.Any) -> None:
        spec = dict(CONNECTION_ARGSPEC)
        if wait_options:
            spec.update(WAIT_ARGSPEC)
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        del ENV_PROBLEMS[:]
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self._client: UMClient | None = None
        if ENV_PROBLEMS:
            self.module.fail_json(msg=ENV_PROBLEMS[0])
        missing = [f"{name} (or {var})" for name, var in REQUIRED_CONNECTION.items() if self.params.get(name) is None]
        if missing:
            self.module.fail_json(msg=f"missing {', '.join(missing)}: give them as options (or in module_defaults "
                                      "for group/aiqum.jobs.um) or set the UM_* environment variables")
        try:
            self.flags = FeatureFlags.from_option(self.params.get("feature_flags"))
        except UMConfigError as exc:
            self.module.fail_json(msg=str(exc))

    def hide_secrets(self, data: t.Any) -> None:
        """Mask, everywhere in the task's output (result, invocation, warnings), the values that a request body
        holds under secret-looking names (a datasource's password, ...): they are sent, never shown."""
        if isinstance(data, dict):
            for name, value in data.items():
                if SECRET_NAMES.search(str(name)) and isinstance(value, (str, int, float)) and str(value):
                    self.module.no_log_values.add(str(value))
                else:
                    self.hide_secrets(value)
        elif isinstance(data, list):
            for item in data:
                self.hide_secrets(item)

    @property
    def check_mode(self) -> bool:
        return self.module.check_mode

    def client(self) -> UMClient:
        if self._client is None:
            p = self.params
            self._client = UMClient(p["hostname"], p["username"], p["password"], port=p["http_port"],
                                    validate_certs=p["validate_certs"], ca_path=p["ca_path"],
                                    request_timeout=p["request_timeout"])
            self._client.trace = self.flags.tracer(secrets=[p["password"]])
            if self._client.trace is not None:
                self.module.warn(f"feature_flags.trace_apis is on: every HTTP exchange with UM is appended to "
                                 f"{self._client.trace.path} on {os.uname().nodename} (credentials masked); "
                                 "turn it off when done")
            if not p["validate_certs"]:
                # Once per task: urllib3's per-request warning is silenced by the client.
                self.module.warn(f"validate_certs is false: the TLS certificate of {p['hostname']} is not verified, "
                                 "so anyone on the network path could impersonate UM and read the password; "
                                 "give UM's CA certificate in ca_path instead")
        return self._client

    def wait_options(self) -> WaitOptions:
        p = self.params
        opts = WaitOptions(timeout=p["timeout"], poll_interval=p["poll_interval"],
                           max_poll_interval=p["max_poll_interval"], long_poll=p["long_poll"],
                           long_poll_timeout=p["long_poll_timeout"])
        opts.check()
        return opts

    @property
    def carried_state(self) -> WaitState | None:
        """The state of a wait an earlier run of this task began (set by the action plugin), if any."""
        carried = self.params.get("wait_state")
        return WaitState.from_dict(carried) if carried else None

    def wait(self, keys: list[str], server_seen: bool = False, context: dict | None = None) -> WaitState:
        """Wait on keys with the task's wait options: the whole wait, or one progress slice of it when the action
        plugin carries the state from run to run (wait_state given)."""
        waiter = JobWaiter(self.client(), self.wait_options(), server_seen=server_seen)
        state = self.carried_state
        if state is None:
            state = waiter.start(keys)
            state.context = context or {}
        elif state.keys != keys:
            raise UMConfigError("wait_state belongs to a wait on other jobs: leave the option out (the action plugin "
                                "sets it)")
        interval = self.params["progress_interval"]
        sliced = self.params.get("wait_state") is not None and interval > 0
        try:
            return waiter.run(state, until=waiter.clock() + max(MIN_SLICE, interval) if sliced else None)
        except UMError as exc:
            # A wait that cannot go on still tells what it saw, like one that ended.
            exc.details.update(jobs=state.ordered_jobs(), pending=state.pending, polls=state.polls)
            raise

    def wait_result(self, state: WaitState, report: dict[str, t.Any], single: bool) -> dict[str, t.Any]:
        """A slice that ended with jobs still running and time left: 'still waiting', with the state to go on
        from and the progress lines to print. A wait that ended: the report with the verdict applied."""
        if not state.done:
            return {"changed": report.get("changed", False), "waiting": True, "progress": progress_lines(state),
                    "wait_state": state.to_dict()}
        verdict = summarize(state, fail_on_partial=self.params["fail_on_partial_failures"],
                            warn_on_warning=self.params["warn_on_warning"])
        report.update(wait_report(state, verdict.outcomes, single))
        report["msg"] = verdict.msg
        for warning in verdict.warnings:
            self.module.warn(warning)
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
            self.module.fail_json(msg=str(exc), **extra)
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
