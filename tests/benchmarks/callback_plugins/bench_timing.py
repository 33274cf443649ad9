# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark helper, not part of the collection: records when each task starts and returns.

Enabled by the benchmark harness only (ANSIBLE_CALLBACK_PLUGINS=tests/benchmarks/callback_plugins,
ANSIBLE_CALLBACKS_ENABLED=bench_timing, BENCH_TIMING_FILE=<path>). Appends one JSON line per event with the
wall-clock time (time.time(), the clock the simulator stamps complete_time with) at the moment the
controller receives the result: that is when the task "returns" for the next task of the playbook.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_timing
type: aggregate
short_description: Wall-clock timestamps of task starts and results, for the benchmarks
description:
  - Appends JSON lines C({"event", "task", "t", ...}) to the file named by the environment variable BENCH_TIMING_FILE.
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
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        path = os.environ.get("BENCH_TIMING_FILE")
        # Line-buffered append: every event is on disk before the next task starts.
        self._out = open(path, "a", buffering=1, encoding="utf-8") if path else None  # pylint: disable=consider-using-with

    def _emit(self, event, task_name, **extra):
        now = time.time()
        if self._out is not None:
            record = {"event": event, "task": task_name, "t": now}
            record.update(extra)
            self._out.write(json.dumps(record) + "\n")

    def v2_playbook_on_start(self, playbook):
        self._emit("playbook_start", None)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit("task_start", task.get_name())

    def _result(self, event, result):
        res = result._result  # pylint: disable=protected-access
        extra = {}
        for name in ("polls", "elapsed", "long_polling", "count", "attempts", "status"):
            if isinstance(res.get(name), (int, float, bool, str)):
                extra[name] = res[name]
        self._emit(event, result._task.get_name(), **extra)  # pylint: disable=protected-access

    def v2_runner_on_ok(self, result):
        self._result("task_ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("task_failed", result)

    def v2_runner_item_on_ok(self, result):
        self._result("item_ok", result)

    def v2_runner_item_on_failed(self, result):
        self._result("item_failed", result)

    def v2_runner_retry(self, result):
        self._emit("retry", result._task.get_name())  # pylint: disable=protected-access

    def v2_playbook_on_stats(self, stats):
        self._emit("playbook_end", None)
        if self._out is not None:
            self._out.close()
            self._out = None
