# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side progress for long waits.

A module cannot print while it runs. So the action plugins of um_job_wait and um_request run their module
with `wait_state`: the module then waits at most one progress slice and either ends the task or answers
"still waiting" with the progress lines to print and the state to go on from. This plugin prints the lines
and runs the module again with that state: it has no deadline, pacing, retries or verdict of its own (those
live in the module's waiter), and it passes the task's arguments through untouched, so the module's own
argument check sees every option.

The module runs where the task says (delegate_to), with the task's check mode, environment and
module_defaults-merged arguments. Under `async` the module runs once, as the generic action plugin runs it.
"""

from __future__ import annotations

import typing as t

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.aiqum.jobs.plugins.plugin_utils._warnings import merge_warnings

display = Display()


class WaitActionBase(ActionBase):
    """The action plugin of um_job_wait and um_request."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: t.Any = None, task_vars: dict | None = None) -> dict:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
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
            answer = self._execute_module(module_args=dict(self._task.args, wait_state=state), task_vars=task_vars)
            warnings = merge_warnings(warnings, answer.pop("warnings", None))
            for line in answer.pop("progress", None) or []:
                display.display(f"[{host}] waiting: {line}")
            if not answer.get("waiting") or answer.get("failed"):
                break
            state = answer.get("wait_state") or {}
            if not state:
                answer = {"failed": True, "msg": "the module answered 'still waiting' without a state to go on from"}
                break
        self._remove_tmp_path(self._connection._shell.tmpdir)
        answer.pop("wait_state", None)
        answer.pop("waiting", None)
        if warnings:
            answer["warnings"] = warnings
        module_args = (answer.get("invocation") or {}).get("module_args")
        if isinstance(module_args, dict):
            module_args.pop("wait_state", None)
        result.update(answer)
        return result
