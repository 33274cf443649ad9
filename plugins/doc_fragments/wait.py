# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait options, mirrored by WAIT_ARGSPEC in plugins/module_utils/_module.py."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds to wait, in all, for every job to end. The task never waits longer.
      - On timeout the task fails and returns each job as last seen and the keys still running in RV(pending),
        so a later task can resume the wait. The jobs themselves go on in Unified Manager.
    type: float
    default: 3600
  poll_interval:
    description:
      - First interval in seconds between polls when the server does not hold requests (standard polling).
      - The interval then grows as the wait grows long, up to O(max_poll_interval).
      - When recently ended jobs of the same type, or the job's task progress, show when the job should end, the
        waiter looks a few times where such jobs ended and rarely in between (never more often than every 0.2
        seconds).
    type: float
    default: 1
  max_poll_interval:
    description:
      - The interval between standard polls never grows past this many seconds.
    type: float
    default: 30
  long_poll:
    description:
      - Whether to ask the server to hold each poll until the job ends (long polling).
      - V(auto) tries it and falls back to standard polling when the server rejects or ignores it.
      - V(always) insists on it and fails if the server rejects it. V(never) uses standard polling only.
    type: str
    choices: [auto, always, never]
    default: auto
  long_poll_timeout:
    description:
      - Longest time in seconds the server may hold one long-poll request (1 to 120).
    type: int
    default: 60
  fail_on_partial_failures:
    description:
      - Fail the task when a job ends with status C(partial_failures). By default the task only warns.
    type: bool
    default: false
  warn_on_warning:
    description:
      - Warn when a job ends with status C(warning). Set to V(false) to treat it as a plain success.
    type: bool
    default: true
  progress_interval:
    description:
      - While waiting, print a line for each job still running (key, name, state, tasks done, time elapsed)
        at least every this many seconds. V(0) (or less) turns progress lines off.
      - Lines appear in C(ansible-playbook) output and in AWX/Tower job output. Not under C(async).
      - With one job, a line says its state and tasks done. With many, a line counts the jobs by state
        (for example V(37 of 50 jobs running, 12 normal, 1 error)) and the lines below it name the jobs that
        ended since the last report. While requests fail (UM restarting, a password that stopped working), a line
        says so.
    type: float
    default: 30
"""
