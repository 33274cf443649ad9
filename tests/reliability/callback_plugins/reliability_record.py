# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: writes every task result, per host, with its duration, to $RELIABILITY_RECORD (JSON)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: reliability_record
type: aggregate
short_description: Record task results for the reliability tests
description:
  - Writes each host's task results and durations to the JSON file named by E(RELIABILITY_RECORD).
requirements:
  - enabled in callbacks_enabled
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "reliability_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._starts = {}
        self._record = {}

    def v2_runner_on_start(self, host, task):
        self._starts[(host.get_name(), task._uuid)] = (time.monotonic(), time.time())

    def _add(self, result, status):
        host = result._host.get_name()
        task = result._task
        started, epoch = self._starts.get((host, task._uuid), (time.monotonic(), time.time()))
        res = dict(result._result)
        # Task results do not always keep the flags the controller judged them by: record them as judged.
        res["failed"] = status == "failed"
        res["unreachable"] = status == "unreachable"
        self._record.setdefault(host, []).append({
            "task": task.get_name(), "action": task.action, "status": status,
            "seconds": round(time.monotonic() - started, 3), "started": epoch, "result": res,
        })

    def v2_runner_on_ok(self, result):
        self._add(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._add(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._add(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("RELIABILITY_RECORD")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self._record, handle, default=str)
