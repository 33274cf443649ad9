#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: um_performance_service_level
short_description: Define, change or delete a Unified Manager performance service level
version_added: 0.3.0
description:
  - Makes a performance service level of Active IQ Unified Manager match the task, by its O(name). Sends only what
    differs, and reports C(changed=false) when nothing does.
  - UM answers these writes at once (no job), so the module has no wait options.
  - Creates the level with one C(POST) when it does not exist; changes the description, the IOPS settings (one
    C(PATCH) for all of them) and the expected latency; deletes it with O(state=absent).
  - UM does not let a system-defined level, or one that LUNs or file shares use (C(workload_count) above 0), be
    changed or deleted. When such a level needs a change (or a delete), the task fails saying so, with nothing
    sent; when it already matches, the task reports C(changed=false).
author:
  - aiqum.jobs maintainers (@aiqum)
extends_documentation_fragment:
  - aiqum.jobs.connection
  - aiqum.jobs.attributes
attributes:
  check_mode:
    description: Reads only; reports what would change (RV(plan)) and sends no write.
    support: full
  diff_mode:
    description: Before and after as UM reads the level back (after the change), or as predicted in check mode.
    support: full
options:
  name:
    description:
      - Name of the level, as UM lists it.
      - UM keeps names unique whatever their case; a name that differs from an existing one only in case manages
        that one (a warning says so).
    type: str
    required: true
  description:
    description: Free text describing the level.
    type: str
  expected_iops_per_tb:
    description:
      - IOPS per TB the level is expected to deliver (C(iops.expected_iops_per_tb)). Required to create.
      - It cannot be above O(peak_iops_per_tb).
    type: int
  peak_iops_per_tb:
    description: Most IOPS per TB the level allows (C(iops.peak_iops_per_tb)). Required to create.
    type: int
  absolute_min_iops:
    description: Lowest IOPS the level allows a workload, whatever its size (C(iops.absolute_min_iops)). Required to
      create.
    type: int
  peak_iops_allocation_policy:
    description: Whether the peak IOPS are counted on the space allocated or the space used. UM uses
      V(allocated_space) when a level is created without it.
    type: str
    choices: [allocated_space, used_space]
  expected_latency:
    description: Expected latency in milliseconds (C(latency.expected)). Required to create.
    type: float
  state:
    description:
      - V(present) creates the level or brings it to the options given; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Options left out are not managed.
  - The IOPS options are changed with one C(PATCH) carrying the whole C(iops) object (the values left out as UM
    shows them), so the expected and peak IOPS can be raised or lowered together.
  - A run that changes nothing sends one list request (two when UM lists the name in another case).
seealso:
  - module: aiqum.jobs.um_storage_efficiency_policy
  - module: aiqum.jobs.um_file_share
"""

EXAMPLES = r"""
- name: A level for databases
  aiqum.jobs.um_performance_service_level:
    hostname: um.example.com
    username: storage_admin
    password: "{{ um_password }}"
    name: Database
    description: OLTP databases
    expected_iops_per_tb: 4096
    peak_iops_per_tb: 8192
    absolute_min_iops: 1000
    peak_iops_allocation_policy: allocated_space
    expected_latency: 1

- name: Raise its IOPS (one PATCH)
  aiqum.jobs.um_performance_service_level:
    name: Database
    expected_iops_per_tb: 6144
    peak_iops_per_tb: 12288

- name: Delete it (fails, saying so, while LUNs or file shares use it)
  aiqum.jobs.um_performance_service_level:
    name: Database
    state: absent
"""

RETURN = r"""
key:
  description: Key of the level (V(null) when it does not exist).
  returned: always
  type: str
performance_service_level:
  description:
    - The level as UM lists it after the change (C(key), C(name), C(description), C(iops), C(latency),
      C(system_defined), C(workload_count), ...), or as found in check mode; V(null) when absent.
  returned: always
  type: dict
jobs:
  description: Always empty (UM answers these writes at once); kept for the same result shape as the other
    declarative modules.
  returned: always
  type: list
  elements: dict
outputs:
  description: Always empty (no job).
  returned: always
  type: dict
plan:
  description: The steps this run took (or in check mode would take), each with C(step), C(method), C(path), and for
    a change C(before) and C(after).
  returned: always
  type: list
  elements: dict
"""

import typing as t

from ansible_collections.aiqum.jobs.plugins.module_utils import _declare as d
from ansible_collections.aiqum.jobs.plugins.module_utils import _module, _provision
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError

NOUN = "performance service level"
IOPS = ("absolute_min_iops", "expected_iops_per_tb", "peak_iops_per_tb", "peak_iops_allocation_policy")
REQUIRED = ("expected_iops_per_tb", "peak_iops_per_tb", "absolute_min_iops", "expected_latency")


def identity(wanted: dict) -> str:
    return f"{NOUN} '{wanted['name']}'"


def iops_body(value: dict, engine: d.Engine) -> dict:
    """The whole iops object: the values given, the others as UM shows them now; expected above peak is refused."""
    current = d.dig(engine.current, "iops") if engine.current else None
    body = {k: current[k] for k in IOPS if isinstance(current, dict) and current.get(k) is not None}
    body.update(value)
    expected, peak = body.get("expected_iops_per_tb"), body.get("peak_iops_per_tb")
    if isinstance(expected, (int, float)) and isinstance(peak, (int, float)) and expected > peak:
        raise UMConfigError(f"expected_iops_per_tb {expected} is above peak_iops_per_tb {peak}: give a peak at least "
                            "as high; nothing was sent")
    return body


def iops_shown(value: t.Any) -> t.Any:
    """UM's iops object as the diff shows it: the four options, each under its own name."""
    return {k: value.get(k) for k in IOPS} if isinstance(value, dict) else value


def latency(value: t.Any, _engine: d.Engine) -> t.Any:
    return int(value) if float(value).is_integer() else value


def create_body(_engine: d.Engine, wanted: dict) -> dict:
    missing = [o for o in REQUIRED if wanted["options"].get(o) is None]
    if missing:
        raise UMConfigError(f"{identity(wanted)} does not exist; to create it give {', '.join(missing)}")
    return {"name": wanted["name"]}


FIELDS = [
    d.Field("description", "description", "description", d.PATCH, order=10),
    d.Field("iops", "iops", "iops", d.PATCH, order=20, prepare=iops_body, same=d.same_subset, flat=True,
            shown=iops_shown),
    d.Field("expected_latency", "latency.expected", "latency.expected", d.PATCH, order=30, prepare=latency,
            same=d.same_number),
]

KIND = d.Kind(noun=NOUN, collection=d.SERVICE_LEVELS, result_name="performance_service_level", fields=FIELDS,
              find=d.catalog_find(d.SERVICE_LEVELS, NOUN), identity=identity, create_body=create_body,
              identity_shape=d.catalog_shape, guard=d.catalog_guard(NOUN))


def wanted_of(params: dict) -> dict:
    """The task's wish: the name, the iops parts given (as one object), the latency and description."""
    options = {o: params[o] for o in REQUIRED + IOPS + ("description",)}
    for option in IOPS[:3] + ("expected_latency",):
        value = options[option]
        if value is not None and (value < 0 or (value == 0 and option != "absolute_min_iops")):
            raise UMConfigError(f"{option} {value} must be above 0")
    iops = {k: options[k] for k in IOPS if options[k] is not None}
    return {"name": d.check_name("name", params["name"]), "description": params["description"],
            "iops": iops or None, "expected_latency": params["expected_latency"], "options": options}


def run(um: _module.UMModule) -> dict:
    return _provision.run(um, KIND, wanted_of(um.params), _provision.sync_waits(um))


def main() -> None:
    um = _module.UMModule({
        "name": {"type": "str", "required": True},
        "description": {"type": "str"},
        "expected_iops_per_tb": {"type": "int"},
        "peak_iops_per_tb": {"type": "int"},
        "absolute_min_iops": {"type": "int"},
        "peak_iops_allocation_policy": {"type": "str", "choices": ["allocated_space", "used_space"]},
        "expected_latency": {"type": "float"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    })
    um.run(run)


if __name__ == "__main__":
    main()
