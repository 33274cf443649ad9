# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for aiqum.jobs.um_request: with wait, prints progress lines while the job runs.

The request itself is sent once, by the um_request module with wait off; the wait that follows runs
in um_job_wait slices (see plugin_utils/_wait_action.py).
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.aiqum.jobs.plugins.plugin_utils._wait_action import WaitActionBase
from ansible_collections.aiqum.jobs.plugins.plugin_utils._warnings import merge_warnings


class ActionModule(WaitActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        try:
            wait = boolean(args.get("wait", False), strict=True)
        except TypeError:
            wait = False  # the module rejects the value with its own message
        if not wait or not self._sliced(args):
            result.update(self._plain(task_vars))
            return result
        started = self._run_module(task_vars, module_args=dict(args, wait=False))
        if started.get("failed") or not started.get("job_key"):
            self._remove_tmp_path(self._connection._shell.tmpdir)
            result.update(started)
            return result
        waited = self._wait_in_slices(task_vars, args, [started["job_key"]], single=True, server_seen=True)
        warnings = merge_warnings(started.get("warnings"), waited.get("warnings"))
        started.update(waited)
        if warnings:
            started["warnings"] = warnings
        started["changed"] = bool(started.get("request", {}).get("sent")) and args.get("method", "GET").upper() != "GET"
        result.update(started)
        return result
