# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side progress for long waits.

A module cannot print while it runs, so the action plugins of um_job_wait and um_request (with wait)
run the um_job_wait module in slices of `progress_interval` seconds, using the module's own public
timeout-and-resume contract: each slice either ends the wait or times out with the keys still pending,
a progress line per pending job is printed, and the next slice resumes with those keys. The verdict over
all slices comes from the same table and summary as the module's (module_utils/_jobs.py).

Everything the module does is kept: the module runs where the task says (delegate_to), with the task's
check mode, environment and module_defaults-merged arguments. Under `async`, or with progress_interval 0,
the module simply runs once, as the generic action plugin would run it.
"""

from __future__ import annotations

import time
import typing as t

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.aiqum.jobs.plugins.module_utils._jobs import (
    JobWaiter,
    WaitOptions,
    WaitResult,
    progress_line,
    raise_for_timeout,
    summarize,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMError
from ansible_collections.aiqum.jobs.plugins.module_utils._module import CONNECTION_KEYS, WAIT_ARGSPEC, WAIT_KEYS, wait_report
from ansible_collections.aiqum.jobs.plugins.plugin_utils._warnings import merge_warnings

display = Display()

WAIT_MODULE = "aiqum.jobs.um_job_wait"
# A slice shorter than this is not worth a module start (about 0.35 s each).
MIN_SLICE = 2.0


def _number(args: t.Mapping[str, t.Any], name: str) -> float | None:
    """The task's value for a wait option, or its default; None when it is not a number (the module reports that)."""
    value = args.get(name, WAIT_ARGSPEC[name]["default"])
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class WaitActionBase(ActionBase):
    """Shared by the um_job_wait and um_request action plugins."""

    _supports_check_mode = True
    _supports_async = True

    def _run_module(self, task_vars: dict, module_name: str | None = None,
                    module_args: dict | None = None, wrap_async: bool = False) -> dict:
        return self._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars,
                                    wrap_async=wrap_async)

    def _plain(self, task_vars: dict) -> dict:
        """Run the task's module once, exactly as the generic action plugin would."""
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result = self._run_module(task_vars, wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _sliced(self, args: t.Mapping[str, t.Any]) -> bool:
        """Whether to wait in slices with progress lines.

        Unusable wait options are left to the module, which rejects them with its own message.
        """
        if self._task.async_val:
            return False
        interval = _number(args, "progress_interval")
        timeout = _number(args, "timeout")
        if interval is None or timeout is None or interval <= 0:
            return False
        try:
            WaitOptions(timeout=timeout, poll_interval=_number(args, "poll_interval"),  # type: ignore[arg-type]
                        max_poll_interval=_number(args, "max_poll_interval"),  # type: ignore[arg-type]
                        long_poll=str(args.get("long_poll", "auto")),
                        long_poll_timeout=int(_number(args, "long_poll_timeout") or 0)).check()
        except (UMError, TypeError, ValueError):
            return False
        return timeout > interval

    def _wait_in_slices(self, task_vars: dict, args: t.Mapping[str, t.Any], keys: list[str],
                        single: bool, server_seen: bool = False) -> dict:
        """Wait on keys with um_job_wait slices; return a um_job_wait-shaped result over the whole wait."""
        interval = max(MIN_SLICE, _number(args, "progress_interval") or 30.0)
        timeout = _number(args, "timeout") or 3600.0
        base = {k: args[k] for k in CONNECTION_KEYS + WAIT_KEYS if k in args}
        base["progress_interval"] = 0
        start = time.monotonic()
        deadline = start + timeout
        jobs: dict[str, dict] = {}
        unknown: dict[str, str] = {}
        pending = list(keys)
        polls = 0
        long_poll: bool | None = None
        last_error = None
        seen = server_seen
        failures = 0
        host = task_vars.get("inventory_hostname", "localhost")
        slice_warnings: list = []  # what the runs warned about (validate_certs=false, ...): once in the result
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            slice_timeout = remaining if remaining < interval + MIN_SLICE else interval
            slice_args = dict(base, keys=pending, timeout=max(0.1, slice_timeout),
                              poll_interval=self._slice_interval(args, time.monotonic() - start))
            res = self._run_module(task_vars, module_name=WAIT_MODULE, module_args=slice_args)
            slice_warnings = merge_warnings(slice_warnings, res.get("warnings"))
            polls += int(res.get("polls") or 0)
            if "pending" not in res and seen:
                # UM answered an earlier slice: a slice that could not start (UM restarting, a 401 from a
                # directory hiccup) is a fault to ride out until the deadline, like the module does within a wait.
                last_error = str(res.get("msg") or "the wait could not reach UM")
                failures += 1
                pause = min(10.0, (_number(args, "poll_interval") or 1.0) * 2 ** min(failures, 4),
                            deadline - time.monotonic())
                if pause > 0:
                    time.sleep(pause)
                continue
            failures = 0
            for job in res.get("jobs") or []:
                if isinstance(job, dict) and job.get("key") in keys:
                    jobs[job["key"]] = job
            unknown.update(res.get("unknown_states") or {})
            # Honoured once is honoured: a slice too short to hold a request reports false.
            long_poll = bool(long_poll or res.get("long_polling"))
            if "pending" not in res:
                # The module stopped before waiting (bad option, unreachable server, unknown key): report as is.
                return self._shape(res, single)
            seen = True
            pending = [k for k in res["pending"] if k in keys]
            if not res.get("timed_out"):
                break
            last_error = self._last_error(res)
            elapsed = time.monotonic() - start
            for key in pending:
                if key in jobs:
                    display.display(f"[{host}] waiting: {progress_line(jobs[key], elapsed)}")
                else:
                    display.display(f"[{host}] waiting: job {key}: not seen yet, {elapsed:.0f}s elapsed")
        self._remove_tmp_path(self._connection._shell.tmpdir)
        result = WaitResult(keys=list(keys), jobs=jobs, pending=pending, elapsed=time.monotonic() - start,
                            polls=polls, long_poll=long_poll, last_error=last_error, unknown_states=unknown)
        out = self._verdict(result, args, single)
        if slice_warnings:
            out["warnings"] = merge_warnings(slice_warnings, out.get("warnings"))
        return out

    @staticmethod
    def _slice_interval(args: t.Mapping[str, t.Any], elapsed: float) -> float:
        """The first poll interval of a slice: a slice starts a new wait, so it is told how old the whole wait is,
        and standard polling keeps the pace it had reached instead of starting quick again."""
        first = _number(args, "poll_interval") or 1.0
        cap = _number(args, "max_poll_interval") or 30.0
        return max(first, min(cap, elapsed / JobWaiter.AGE_DIVISOR))

    @staticmethod
    def _last_error(res: dict) -> str | None:
        msg = str(res.get("msg") or "")
        return msg.split("Last error: ", 1)[1].split(". The jobs go on", 1)[0] if "Last error: " in msg else None

    @staticmethod
    def _shape(res: dict, single: bool) -> dict:
        if single and res.get("jobs") and "job" not in res:
            res["job"] = res["jobs"][0]
        return res

    @staticmethod
    def _verdict(result: WaitResult, args: t.Mapping[str, t.Any], single: bool) -> dict:
        """The same verdict the module gives, over every slice."""
        verdict = summarize(result.jobs, result.keys, result.pending,
                            fail_on_partial=boolean(args.get("fail_on_partial_failures", False), strict=False),
                            warn_on_warning=boolean(args.get("warn_on_warning", True), strict=False))
        out = wait_report(result, verdict, single)
        out["changed"] = False
        warnings = [f"job {k} reports state '{s}', which this collection does not know; it was treated as still running"
                    for k, s in result.unknown_states.items()]
        warnings += verdict.warnings
        if warnings:
            out["warnings"] = warnings
        out["msg"] = verdict.msg
        if verdict.failed:
            out["failed"] = True
            if result.pending:
                out["msg"] += f"; {len(result.pending)} jobs were still running at the timeout"
        elif result.pending:
            out["failed"] = True
            try:
                raise_for_timeout(result, WaitOptions(timeout=_number(args, "timeout") or 3600.0))
            except UMError as exc:
                out["msg"] = str(exc)
        return out
