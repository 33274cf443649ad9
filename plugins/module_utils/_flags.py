# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `feature_flags` option: switches for diagnosis, read the way netapp.ontap and netapp.um_info read theirs.

Flags this collection does not know are ignored, so one `module_defaults` block can serve netapp.um_info
(which has flags of its own) and this collection alike.
"""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass

from ansible.module_utils.parsing.convert_bool import boolean

from ._errors import UMConfigError
from ._secrets import Secrets
from ._trace import DEFAULT_BODY_LENGTH, DEFAULT_TRACE_FILE, APITrace, check_trace_file


def _flag_bool(name: str, value: t.Any) -> bool:
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise UMConfigError(f"feature_flags.{name} is {str(value)[:40]!r}, not a boolean: give true or false") from None


@dataclass(frozen=True)
class FeatureFlags:
    trace_apis: bool = False
    trace_file: str = DEFAULT_TRACE_FILE
    trace_body_length: int = DEFAULT_BODY_LENGTH

    @classmethod
    def from_option(cls, flags: t.Mapping[str, t.Any] | None) -> "FeatureFlags":
        flags = flags or {}
        trace_apis = _flag_bool("trace_apis", flags.get("trace_apis", False))
        trace_file = flags.get("trace_file") or DEFAULT_TRACE_FILE
        if not isinstance(trace_file, str):
            raise UMConfigError("feature_flags.trace_file must be a file path, for example /tmp/aiqum_apis.log")
        trace_file = os.path.abspath(os.path.expanduser(trace_file))
        length = flags.get("trace_body_length", DEFAULT_BODY_LENGTH)
        try:
            length = int(length)
        except (TypeError, ValueError):
            length = -1
        if length < 0 or isinstance(flags.get("trace_body_length"), bool):
            raise UMConfigError(f"feature_flags.trace_body_length is {str(flags.get('trace_body_length'))[:40]!r}: "
                                "give the number of characters of each body to write (0 for none)")
        if trace_apis:
            why = check_trace_file(trace_file)
            if why:
                raise UMConfigError(f"feature_flags.trace_apis is on but the trace file {trace_file} cannot be written "
                                    f"({why}): give a path in feature_flags.trace_file that only you can read and write")
        return cls(trace_apis=trace_apis, trace_file=trace_file, trace_body_length=length)

    def tracer(self, secrets: Secrets) -> APITrace | None:
        """The tracer the client records exchanges with (masking `secrets`), or None when trace_apis is off."""
        if not self.trace_apis:
            return None
        return APITrace(self.trace_file, self.trace_body_length, secrets=secrets)
