#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: um_file_share
short_description: Create, change or delete a Unified Manager file share, and wait for its jobs
version_added: 0.2.0
description:
  - Makes a file share (a volume provisioned through Active IQ Unified Manager's storage-provider API) match the
    task, by its identity O(cluster) + O(svm) + O(name). Sends only what differs, and reports C(changed=false) when
    nothing does.
  - Creates it with one C(POST) when it does not exist; changes its size, performance service level and storage
    efficiency policy one C(PATCH) at a time; deletes it with O(state=absent). Each job is waited for like
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
    description: Before and after as UM reads the file share back (after the change), or as predicted in check mode.
    support: full
options:
  export_policy:
    description:
      - The export policy (NFS) to create the file share with, as UM takes it in C(access_control.export_policy),
        that is C(key) of an existing policy, or C(name_tag) and C(rules).
      - A string is taken as the key of an existing policy when it holds C(type=export_policy), else as a name tag.
      - Sent only when the file share is created; UM's file share records do not show it, so it is not compared
        or changed on an existing file share.
    type: raw
  acl:
    description:
      - The CIFS access control list to create the file share with, as UM takes it in C(access_control.acl), that
        is a list of C(user_or_group) and C(permission) (V(no_access), V(read), V(change), V(full_control)).
      - Sent only when the file share is created, like O(export_policy).
    type: list
    elements: dict
seealso:
  - module: aiqum.jobs.um_lun
  - module: aiqum.jobs.um_job_wait
"""

EXAMPLES = r"""
- name: A 10 GiB file share on svm1 of cluster1, with the Value service level
  aiqum.jobs.um_file_share:
    hostname: um.example.com
    username: storage_admin
    password: "{{ um_password }}"
    name: share1
    svm: svm1
    cluster: cluster1
    size: 10
    performance_service_level: Value
    storage_efficiency_policy: Default
    export_policy:
      name_tag: share1_exports
      rules:
        - clients: [{match: 0.0.0.0/0}]
          ro_rule: [sys]
          rw_rule: [sys]
          protocols: [nfs3]
  register: share

- name: Grow it to 20 GiB and move it to Performance (two PATCH jobs, one after the other)
  aiqum.jobs.um_file_share:
    name: share1
    svm: svm1
    cluster: cluster1
    size: 20
    performance_service_level: Performance

- name: Delete it
  aiqum.jobs.um_file_share:
    name: share1
    svm: svm1
    cluster: cluster1
    state: absent
"""

RETURN = r"""
key:
  description: Key of the file share (V(null) when it does not exist, or was only started with O(wait=false)).
  returned: always
  type: str
  sample: "4ea7a442-86d1-11e0-ae1c-000000000001:type=volume,uuid=3f2a..."
file_share:
  description:
    - The file share as UM lists it after the change (C(key), C(name), C(svm), C(cluster), C(space.size),
      C(assigned_performance_service_level), C(assigned_storage_efficiency_policy), ...), or as found in check mode.
  returned: always
  type: dict
jobs:
  description:
    - The jobs of this run in plan order, each as last seen, with C(step) saying what it did (V(create),
      V(size), V(performance_service_level), V(storage_efficiency_policy), V(delete)).
  returned: always
  type: list
  elements: dict
outputs:
  description: What the jobs produced (their C(job_results)) as a dict of name to value, for example C(fileshareKey).
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

COLLECTION = "/storage-provider/file-shares"


def identity(wanted: dict) -> str:
    where = f" on cluster '{wanted['cluster']}'" if wanted.get("cluster") else ""
    return f"file share '{wanted['name']}' in SVM '{wanted['svm']}'{where}"


def find(engine: d.Engine, wanted: dict) -> dict | None:
    """The file share of this identity: one list request, filtered on name and SVM (and cluster); the records are
    checked again here, in case a server ignores a filter."""
    params = dict(d.owner_filter(wanted), name=wanted["name"])
    records = [r for r in engine.list(COLLECTION, params)
               if r.get("name") == wanted["name"] and d.owner_matches(r, wanted)]
    found = d.find_one(engine, records, identity(wanted),
                       lambda r: f"{r.get('name')} in SVM {d.dig(r, 'svm.name')} on cluster {d.dig(r, 'cluster.name')}")
    if found is None:
        # An unknown SVM or cluster fails, naming it (an SVM name on several clusters is fine: the object is on none).
        d.svm_record(engine, wanted["svm"], wanted.get("cluster"), unique=False)
    return found


FIELDS = d.storage_fields("file share") + [
    d.Field("export_policy", "access_control.export_policy", None, d.CREATE_ONLY),
    d.Field("acl", "access_control.acl", None, d.CREATE_ONLY),
]

KIND = d.Kind(noun="file share", collection=COLLECTION, result_name="file_share", fields=FIELDS, find=find,
              identity=identity, create_body=d.owner_body, result_keys=("fileshareKey",),
              identity_shape=d.owner_shape)


def export_policy(value: t.Any) -> dict | None:
    """The export policy as UM takes it: a dict as given, a string as a key or a name tag."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        return {"key": value} if "type=export_policy" in value else {"name_tag": value}
    raise UMConfigError("export_policy takes a dict (key, or name_tag and rules) or a string (a key or a name tag)")


def run(um: _module.UMModule) -> dict:
    wanted = _provision.wanted_of(um, ("export_policy", "acl"))
    wanted["export_policy"] = export_policy(wanted["export_policy"])
    return _provision.run(um, KIND, wanted)


def main() -> None:
    spec = dict(_provision.STORAGE_ARGSPEC)
    spec.update({"export_policy": {"type": "raw"}, "acl": {"type": "list", "elements": "dict"}})
    um = _module.UMModule(spec, wait_options=True)
    um.run(run)


if __name__ == "__main__":
    main()
