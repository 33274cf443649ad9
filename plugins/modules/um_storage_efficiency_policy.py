#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: um_storage_efficiency_policy
short_description: Define, change or delete a Unified Manager storage efficiency policy
version_added: 0.3.0
description:
  - Makes a storage efficiency policy of Active IQ Unified Manager match the task, by its O(name). Sends only what
    differs, and reports C(changed=false) when nothing does.
  - UM answers these writes at once (no job), so the module has no wait options.
  - Creates the policy with one C(POST) when it does not exist; changes the description, compression,
    deduplication and thin provisioning one C(PATCH) at a time; deletes it with O(state=absent).
  - UM does not let a system-defined policy, or one that LUNs or file shares use (C(workload_count) above 0), be
    changed or deleted. When such a policy needs a change (or a delete), the task fails saying so, with nothing
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
    description: Before and after as UM reads the policy back (after the change), or as predicted in check mode.
    support: full
options:
  name:
    description:
      - Name of the policy, as UM lists it.
      - UM keeps names unique whatever their case; a name that differs from an existing one only in case manages
        that one (a warning says so).
    type: str
    required: true
  description:
    description: Free text describing the policy.
    type: str
  compression:
    description: When data is compressed. UM uses V(none) when a policy is created without it.
    type: str
    choices: [inline, background, none]
  deduplication:
    description: When data is deduplicated. UM uses V(none) when a policy is created without it.
    type: str
    choices: [inline, background, none]
  space_thin_provisioned:
    description: Whether space is thin provisioned. UM uses V(true) when a policy is created without it.
    type: bool
  state:
    description:
      - V(present) creates the policy or brings it to the options given; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Options left out are not managed.
  - A run that changes nothing sends one list request (two when UM lists the name in another case).
seealso:
  - module: aiqum.jobs.um_performance_service_level
  - module: aiqum.jobs.um_file_share
"""

EXAMPLES = r"""
- name: A policy with inline compression and deduplication
  aiqum.jobs.um_storage_efficiency_policy:
    hostname: um.example.com
    username: storage_admin
    password: "{{ um_password }}"
    name: Compact
    description: Inline efficiency, thin provisioned
    compression: inline
    deduplication: inline
    space_thin_provisioned: true

- name: Move deduplication to the background
  aiqum.jobs.um_storage_efficiency_policy:
    name: Compact
    deduplication: background

- name: Delete it (fails, saying so, while LUNs or file shares use it)
  aiqum.jobs.um_storage_efficiency_policy:
    name: Compact
    state: absent
"""

RETURN = r"""
key:
  description: Key of the policy (V(null) when it does not exist).
  returned: always
  type: str
storage_efficiency_policy:
  description:
    - The policy as UM lists it after the change (C(key), C(name), C(description), C(compression),
      C(deduplication), C(space_thin_provisioned), C(system_defined), C(workload_count), ...), or as found in check
      mode; V(null) when absent.
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

from ansible_collections.aiqum.jobs.plugins.module_utils import _declare as d
from ansible_collections.aiqum.jobs.plugins.module_utils import _module, _provision

NOUN = "storage efficiency policy"


def identity(wanted: dict) -> str:
    return f"{NOUN} '{wanted['name']}'"


def create_body(_engine: d.Engine, wanted: dict) -> dict:
    return {"name": wanted["name"]}


FIELDS = [
    d.Field("description", "description", "description", d.PATCH, order=10),
    d.Field("compression", "compression", "compression", d.PATCH, order=20),
    d.Field("deduplication", "deduplication", "deduplication", d.PATCH, order=30),
    d.Field("space_thin_provisioned", "space_thin_provisioned", "space_thin_provisioned", d.PATCH, order=40),
]

KIND = d.Kind(noun=NOUN, collection=d.EFFICIENCY_POLICIES, result_name="storage_efficiency_policy", fields=FIELDS,
              find=d.catalog_find(d.EFFICIENCY_POLICIES, NOUN), identity=identity, create_body=create_body,
              identity_shape=d.catalog_shape, guard=d.catalog_guard(NOUN))


def wanted_of(params: dict) -> dict:
    wanted = {f.option: params[f.option] for f in FIELDS}
    wanted["name"] = d.check_name("name", params["name"])
    return wanted


def run(um: _module.UMModule) -> dict:
    return _provision.run(um, KIND, wanted_of(um.params), _provision.sync_waits(um))


def main() -> None:
    um = _module.UMModule({
        "name": {"type": "str", "required": True},
        "description": {"type": "str"},
        "compression": {"type": "str", "choices": ["inline", "background", "none"]},
        "deduplication": {"type": "str", "choices": ["inline", "background", "none"]},
        "space_thin_provisioned": {"type": "bool"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    })
    um.run(run)


if __name__ == "__main__":
    main()
