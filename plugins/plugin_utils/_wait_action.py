# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side progress for long waits.

A module cannot print while it runs. So the action plugins of um_job_wait and um_request run their module in
progress slices: the module waits at most one slice and either ends the task or answers "still waiting" with the
progress lines to print and a small resume state. This plugin prints the lines and runs the module again with that
state: it has no deadline, pacing, retries or verdict of its own (those live in the module's waiter), and it
passes the task's arguments through untouched, so the module's own argument check sees every option.

The resume state is handed to the module outside its argument spec (under RESUME_KEY, with ignore_unknown_opts,
which the module then checks itself), so no task can give one: a task that names it is refused here, and under
`async` the module (run once, with the task's arguments only) refuses it as an unsupported parameter.

The module runs where the task says (delegate_to), with the task's check mode, environment and
module_defaults-merged arguments.
"""

from __future__ import annotations

import typing as t

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.aiqum.jobs.plugins.module_utils._module import RESUME_KEY
from ansible_collections.aiqum.jobs.plugins.plugin_utils._warnings import merge_warnings

display = Display()


class WaitActionBase(ActionBase):
    """The action plugin of um_job_wait and um_request."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: t.Any = None, task_vars: dict | None = None) -> dict:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        forged = sorted(k for k in self._task.args if k in (RESUME_KEY, "wait_state"))
        if forged:
            result.update(failed=True, msg=f"{forged[0]} is not an option: a wait's resume state is carried by the "
                                           "collection between progress slices and never given in a task")
            return result
        if self._task.async_val:
            wrap_async = not self._connection.has_native_async
            result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        host = task_vars.get("inventory_hostname", "localhost")
        state: dict = {}
        warnings: list = []  # what the runs warned about (validate_certs=false, ...): once in the task's result
        while True:
            answer = self._execute_module(module_args=dict(self._task.args, **{RESUME_KEY: state}),
                                          task_vars=task_vars, ignore_unknown_opts=True)
            warnings = merge_warnings(warnings, answer.pop("warnings", None))
            for line in answer.pop("progress", None) or []:
                display.display(f"[{host}] waiting: {line}")
            if not answer.get("waiting") or answer.get("failed"):
                break
            state = answer.get(RESUME_KEY) or {}
            if not state:
                answer = {"failed": True, "msg": "the module answered 'still waiting' without a state to go on from"}
                break
        self._remove_tmp_path(self._connection._shell.tmpdir)
        answer.pop(RESUME_KEY, None)
        answer.pop("waiting", None)
        if warnings:
            answer["warnings"] = warnings
        module_args = (answer.get("invocation") or {}).get("module_args")
        if isinstance(module_args, dict):
            module_args.pop(RESUME_KEY, None)
        result.update(answer)
        return result
