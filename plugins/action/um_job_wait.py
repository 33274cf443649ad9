# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for aiqum.jobs.um_job_wait: prints progress lines while the module waits."""

from __future__ import annotations

from ansible_collections.aiqum.jobs.plugins.plugin_utils._wait_action import WaitActionBase


class ActionModule(WaitActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        keys = args.get("keys")
        key = args.get("key")
        # Anything unusual (both or neither given, a non-list) is the module's to report, in its own words.
        if not self._sliced(args) or (key is None) == (keys is None) or not isinstance(keys or [key], list):
            result.update(self._plain(task_vars))
            return result
        key_list = [key] if key is not None else list(keys)
        if not key_list or not all(isinstance(k, str) and k.strip() for k in key_list) or len(set(key_list)) != len(key_list):
            result.update(self._plain(task_vars))
            return result
        result.update(self._wait_in_slices(task_vars, args, [k.strip() for k in key_list], single=key is not None))
        return result
