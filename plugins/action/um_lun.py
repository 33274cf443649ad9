# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for aiqum.jobs.um_lun: prints progress lines while the plan's jobs run.

The module plans and sends; a wait that outlasts a progress slice ends the module run with the plan's snapshot,
and the next run goes on from the job it was waiting for (nothing is looked up or sent again).
"""

from __future__ import annotations

from ansible_collections.aiqum.jobs.plugins.plugin_utils._wait_action import WaitActionBase


class ActionModule(WaitActionBase):
    """All the work is in WaitActionBase (plugin_utils/_wait_action.py)."""
