# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for aiqum.jobs.um_job_wait: prints progress lines between the module's wait slices."""

from __future__ import annotations

from ansible_collections.aiqum.jobs.plugins.plugin_utils._wait_action import WaitActionBase


class ActionModule(WaitActionBase):
    """All the work is in WaitActionBase (plugin_utils/_wait_action.py)."""
