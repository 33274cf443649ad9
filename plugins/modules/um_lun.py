#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: um_lun
short_description: Create, change or delete a Unified Manager LUN, and wait for its jobs
version_added: 0.2.0
description:
  - Makes a LUN provisioned through Active IQ Unified Manager's storage-provider API match the task, by its identity
    O(cluster) + O(svm) + O(name). Sends only what differs, and reports C(changed=false) when nothing does.
  - O(name) is the LUN's base name. UM lists a LUN by its path (C(/vol/<volume>/<name>), perhaps with a qtree); the
    LUN is found by the last segment of that path. Two LUNs of that base name in the SVM (in two volumes) fail the
    task, listing their paths.
  - Creates the LUN with one C(POST) when it does not exist; changes its size, performance service level, storage
    efficiency policy and maps one C(PATCH) at a time; deletes it with O(state=absent). Each job is waited for like
    M(aiqum.jobs.um_job_wait), with the same outcome rules, within one O(timeout) for the whole task.
  - A job that fails after UM accepted the request (a duplicate name, ...) fails the task with the job's
    C(failure_reason).
author:
  - aiqum.jobs maintainers (@aiqum)
extends_documentation_fragment:
  - aiqum.jobs.connection
  - aiqum.jobs.storage
  - aiqum.jobs.attributes
attributes:
  check_mode:
    description: Reads only; reports what would change (RV(plan)) and sends no write.
    support: full
  diff_mode:
    description: Before and after as UM reads the LUN back (after the change), or as predicted in check mode.
    support: full
options:
  os_type:
    description:
      - Operating system type of the LUN (for example V(linux), V(windows), V(vmware)). Required to create.
      - It cannot change. When UM shows the existing LUN's type and it differs, the task fails saying so; nothing
        is sent.
    type: str
  lun_maps:
    description:
      - Initiator groups to map the LUN to, each by igroup name in the LUN's SVM, with an optional logical unit
        number (UM chooses one when left out).
      - Sent when the LUN is created. On an existing LUN the maps are compared when UM's record shows them
        (C(lun_maps)), and changed with one C(PATCH) that replaces the whole list; when UM's record does not
        show them, they are not compared (a warning says so).
      - An empty list unmaps the LUN.
    type: list
    elements: dict
    suboptions:
      igroup:
        description: Name of the initiator group.
        type: str
        required: true
        aliases: [igroup_name]
      logical_unit_number:
        description: Logical unit number (0 to 4095).
        type: int
        aliases: [lun_id]
seealso:
  - module: aiqum.jobs.um_file_share
  - module: aiqum.jobs.um_job_wait
"""

EXAMPLES = r"""
- name: A 5 GiB Linux LUN on svm1 of cluster1, mapped to ig_linux
  aiqum.jobs.um_lun:
    hostname: um.example.com
    username: storage_admin
    password: "{{ um_password }}"
    name: lun1
    svm: svm1
    cluster: cluster1
    size: 5
    os_type: linux
    performance_service_level: Value
    lun_maps:
      - igroup: ig_linux
        logical_unit_number: 0
  register: lun

- name: Grow it; start the job and wait later
  aiqum.jobs.um_lun:
    name: lun1
    svm: svm1
    cluster: cluster1
    size: 8
    wait: false
  register: growing

- name: Wait for the job
  aiqum.jobs.um_job_wait:
    key: "{{ growing.job_key }}"
  when: growing.job_key is defined

- name: Delete it
  aiqum.jobs.um_lun:
    name: lun1
    svm: svm1
    cluster: cluster1
    state: absent
"""

RETURN = r"""
key:
  description: Key of the LUN (V(null) when it does not exist, or was only started with O(wait=false)).
  returned: always
  type: str
  sample: "4ea7a442-86d1-11e0-ae1c-000000000001:type=lun,uuid=8d3c..."
lun:
  description:
    - The LUN as UM lists it after the change (C(key), C(name) as its path, C(svm), C(cluster), C(volume),
      C(space.size), C(assigned_performance_service_level), C(assigned_storage_efficiency_policy), ...), or as found
      in check mode.
  returned: always
  type: dict
jobs:
  description:
    - The jobs of this run in plan order, each as last seen, with C(step) saying what it did (V(create),
      V(size), V(performance_service_level), V(storage_efficiency_policy), V(lun_maps), V(delete)).
  returned: always
  type: list
  elements: dict
outputs:
  description: What the jobs produced (their C(job_results)) as a dict of name to value, for example C(lunKey).
  returned: always
  type: dict
plan:
  description: The steps this run took (or in check mode would take), each with C(step), C(method), C(path), and for
    a change C(before) and C(after).
  returned: always
  type: list
  elements: dict
job_key:
  description: Key of the last job, not waited for (O(wait=false)); pass it to M(aiqum.jobs.um_job_wait).
  returned: when O(wait=false) and a job was started
  type: str
pending:
  description: Keys of jobs still running when the task ended (O(wait=false), or a timeout).
  returned: when any
  type: list
  elements: str
"""

import typing as t

from ansible_collections.aiqum.jobs.plugins.module_utils import _declare as d
from ansible_collections.aiqum.jobs.plugins.module_utils import _module, _provision
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError
from ansible_collections.aiqum.jobs.plugins.module_utils._text import one_line

COLLECTION = "/storage-provider/luns"


def identity(wanted: dict) -> str:
    where = f" on cluster '{wanted['cluster']}'" if wanted.get("cluster") else ""
    return f"LUN '{wanted['name']}' in SVM '{wanted['svm']}'{where}"


def base_name(path: t.Any) -> str | None:
    """The LUN's name from the path UM lists (/vol/<volume>/[<qtree>/]<name>)."""
    return path.rstrip("/").rsplit("/", 1)[-1] if isinstance(path, str) else None


def find(engine: d.Engine, wanted: dict) -> dict | None:
    """The LUN of this identity: one list request of the SVM's LUNs, matched on the last segment of each path."""
    records = [r for r in engine.list(COLLECTION, d.owner_filter(wanted))
               if base_name(r.get("name")) == wanted["name"] and d.owner_matches(r, wanted)]
    if len(records) > 1:
        paths = ", ".join(f"{one_line(r.get('name'), 120)} (cluster {one_line(d.dig(r, 'cluster.name'), 60)})"
                          for r in records[:10])
        raise UMConfigError(f"{identity(wanted)} matches {len(records)} LUNs: {paths}; this module needs the base "
                            "name to be unique in the SVM (give cluster if they are on different clusters, or manage "
                            "them with aiqum.jobs.um_request); nothing was sent")
    if not records:
        # An unknown SVM or cluster fails, naming it (an SVM name on several clusters is fine: the object is on none).
        d.svm_record(engine, wanted["svm"], wanted.get("cluster"), unique=False)
        return None
    return records[0]


# -- LUN maps: by igroup name, compared as a set ------------------------------------------------------


def maps_written(value: list, engine: d.Engine) -> list:
    current = engine.current
    if current is not None and isinstance(d.dig(current, "svm.key"), str):
        svm_key = d.dig(current, "svm.key")
    else:
        svm_key = d.svm_record(engine, engine.wanted["svm"], engine.wanted.get("cluster"))["key"]
    igroups = engine.lookup(("igroups", svm_key), lambda: engine.list(d.IGROUPS, {"svm.key": svm_key}))
    out = []
    for item in value:
        found = [g for g in igroups if g.get("name") == item["igroup"] and d.dig(g, "svm.key") in (None, svm_key)]
        if not found:
            raise d.not_found("igroup", item["igroup"], sorted(str(g.get("name")) for g in igroups),
                              where=f"in SVM '{one_line(engine.wanted['svm'], 80)}'")
        entry: dict[str, t.Any] = {"igroup": {"key": found[0]["key"]}}
        if item.get("logical_unit_number") is not None:
            entry["logical_unit_number"] = item["logical_unit_number"]
        out.append(entry)
    return out


def maps_same(current: t.Any, wanted: list) -> bool:
    if not isinstance(current, list) or len(current) != len(wanted):
        return False
    have = {(d.dig(m, "igroup.name"), m.get("logical_unit_number")) for m in current if isinstance(m, dict)}
    names = {name for name, _n in have}
    for item in wanted:
        if item.get("logical_unit_number") is None:
            if item["igroup"] not in names:
                return False
        elif (item["igroup"], item["logical_unit_number"]) not in have:
            return False
    return len(names) == len(current)


def maps_shown(current: t.Any) -> t.Any:
    if not isinstance(current, list):
        return current
    return sorted(({"igroup": d.dig(m, "igroup.name"), "logical_unit_number": m.get("logical_unit_number")}
                   for m in current if isinstance(m, dict)), key=lambda m: (str(m["igroup"]), str(m["logical_unit_number"])))


def maps_wanted(wanted: list) -> list:
    return sorted(({"igroup": m["igroup"], "logical_unit_number": m.get("logical_unit_number")} for m in wanted),
                  key=lambda m: (str(m["igroup"]), str(m["logical_unit_number"])))


def same_os_type(current: t.Any, wanted: t.Any) -> bool:
    return isinstance(current, str) and current.lower() == str(wanted).lower()


FIELDS = d.storage_fields("LUN") + [
    d.Field("os_type", "os_type", "os_type", d.IMMUTABLE, required_to_create=True, same=same_os_type),
    d.Field("lun_maps", "lun_maps", "lun_maps", d.PATCH, order=40, prepare=maps_written, same=maps_same,
            shown=maps_shown, wanted_shown=maps_wanted),
]

KIND = d.Kind(noun="LUN", collection=COLLECTION, result_name="lun", fields=FIELDS, find=find, identity=identity,
              create_body=d.owner_body, result_keys=("lunKey",), identity_shape=d.owner_shape)


def run(um: _module.UMModule) -> dict:
    wanted = _provision.wanted_of(um, ("os_type", "lun_maps"))
    if wanted["os_type"] is not None:
        wanted["os_type"] = d.check_name("os_type", wanted["os_type"], slash=True).lower()
    seen = set()
    for item in wanted["lun_maps"] or []:
        d.check_name("lun_maps igroup", item["igroup"])
        number = item.get("logical_unit_number")
        if number is not None and not 0 <= number <= 4095:
            raise UMConfigError(f"lun_maps: logical_unit_number {number} of igroup '{one_line(item['igroup'], 80)}' is "
                                "out of range: give 0 to 4095")
        if item["igroup"] in seen:
            raise UMConfigError(f"lun_maps names igroup '{one_line(item['igroup'], 80)}' more than once: map a LUN to "
                                "an igroup once")
        seen.add(item["igroup"])
    return _provision.run(um, KIND, wanted)


def main() -> None:
    spec = dict(_provision.STORAGE_ARGSPEC)
    spec.update({
        "os_type": {"type": "str"},
        "lun_maps": {"type": "list", "elements": "dict", "options": {
            "igroup": {"type": "str", "required": True, "aliases": ["igroup_name"]},
            "logical_unit_number": {"type": "int", "aliases": ["lun_id"]},
        }},
    })
    um = _module.UMModule(spec, wait_options=True)
    um.run(run)


if __name__ == "__main__":
    main()
