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
from ._jobs import JobWaiter, Summary, WaitOptions, WaitResult, raise_for_timeout, results_of, summarize


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
}

# Every name a task may give a connection option by, aliases included (the action plugins pass them on).
CONNECTION_KEYS = tuple(CONNECTION_ARGSPEC) + tuple(a for spec in CONNECTION_ARGSPEC.values() for a in spec.get("aliases", ()))
# Body fields whose values are secrets, wherever they appear in a request body.
SECRET_NAMES = re.compile(r"pass(word|wd|phrase)?$|secret|token|private_?key|api_?key|credential", re.IGNORECASE)
WAIT_KEYS = tuple(WAIT_ARGSPEC)


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

    def wait_for(self, keys: list[str], server_seen: bool = False) -> tuple[WaitResult, Summary]:
        """Wait on keys with the task's wait options; return the raw result and its verdict."""
        opts = self.wait_options()
        result = JobWaiter(self.client(), opts, server_seen=server_seen).wait(keys)
        verdict = summarize(result.jobs, result.keys, result.pending,
                            fail_on_partial=self.params["fail_on_partial_failures"],
                            warn_on_warning=self.params["warn_on_warning"])
        return result, verdict

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


def wait_report(result: WaitResult, verdict: Summary, single: bool) -> dict[str, t.Any]:
    """The fields every waiting module returns (um_job_wait, um_request with wait)."""
    jobs = result.ordered_jobs()
    out: dict[str, t.Any] = {
        "jobs": jobs,
        "outcomes": verdict.outcomes,
        "pending": result.pending,
        "elapsed": round(result.elapsed, 3),
        "polls": result.polls,
        "timed_out": result.timed_out,
        "long_polling": bool(result.long_poll),
        "outputs": {k: results_of(result.jobs[k]) for k in result.keys if k in result.jobs},
    }
    if result.unknown_states:
        out["unknown_states"] = result.unknown_states
    if single and jobs:
        out["job"] = jobs[0]
        out["outputs"] = results_of(jobs[0])
    return out


def finish_wait(um: UMModule, result: WaitResult, verdict: Summary, report: dict[str, t.Any]) -> dict[str, t.Any]:
    """Apply the verdict to a report: warnings, failure on error or timeout."""
    for state_key, state in result.unknown_states.items():
        um.module.warn(f"job {state_key} reports state '{state}', which this collection does not know; "
                       "it was treated as still running")
    for warning in verdict.warnings:
        um.module.warn(warning)
    if verdict.failed:
        msg = verdict.msg
        if result.pending:
            msg += f"; {len(result.pending)} jobs were still running at the timeout"
        um.module.fail_json(msg=msg, **report)
    if result.pending:
        try:
            raise_for_timeout(result, um.wait_options())
        except UMError as exc:
            um.module.fail_json(msg=str(exc), **report)
    report["msg"] = verdict.msg
    return report
