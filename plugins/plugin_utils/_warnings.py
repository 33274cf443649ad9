# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Warnings of the module runs an action plugin makes, carried into the task's one result.

An action plugin that runs a module several times (the sliced wait) must keep what those runs warned about
(validate_certs=false, API tracing on), once per task, not once per run and not never.
"""

from __future__ import annotations

import typing as t


def warning_text(warning: t.Any) -> str:
    """The message of a warning as a module run returns it: a string, or (ansible-core 2.19) a structured summary."""
    event = warning.get("event") if isinstance(warning, dict) else getattr(warning, "event", None)
    msg = event.get("msg") if isinstance(event, dict) else getattr(event, "msg", None)
    return str(msg) if msg is not None else str(warning)


def merge_warnings(*groups: t.Iterable[t.Any] | None) -> list[str]:
    """All warning messages of the groups, in order, each once."""
    out: list[str] = []
    for group in groups:
        for warning in group or ():
            text = warning_text(warning)
            if text not in out:
                out.append(text)
    return out
