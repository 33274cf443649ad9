#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: um_job_info
short_description: Look up Unified Manager jobs
version_added: 0.1.0
description:
  - Returns one Active IQ Unified Manager job by its key, or lists jobs with the API's filters, following every page.
  - Filters take the API's query syntax; C(|) means OR and C(*) is a wildcard, for example C(state=running|aborting).
  - Never changes anything.
author:
  - aiqum.jobs maintainers (@aiqum)
extends_documentation_fragment:
  - aiqum.jobs.connection
  - aiqum.jobs.attributes
attributes:
  check_mode:
    description: Runs normally in check mode; it only reads.
    support: full
options:
  key:
    description:
      - Key of one job to return. When given, the filters below are not used.
      - UM's jobs only; an ONTAP job's key (C(ontap:...), through UM's API gateway) is refused; wait for it with
        M(aiqum.jobs.um_job_wait).
    type: str
  name:
    description: Only jobs whose name matches (wildcards C(*), alternatives with C(|)).
    type: str
  type:
    description: Only jobs of this type, for example C(provision_lun_create).
    type: str
  state:
    description: Only jobs in this state, for example C(running) or C(completed).
    type: str
  status:
    description: Only jobs with this status, for example C(error|partial_failures).
    type: str
  submit_time:
    description: Filter on submit time in the API's syntax, for example C(>2026-11-27T00:00:00Z).
    type: str
  complete_time:
    description: Filter on completion time in the API's syntax.
    type: str
  parent_job_key:
    description: Only jobs spawned by this job.
    type: str
  order_by:
    description: Sort order, a field name with optional C(asc) or C(desc), for example C(submit_time desc).
    type: str
  max_records:
    description:
      - Return at most this many jobs in all. All pages are read up to this cap.
      - Without any filter and without this option, Unified Manager returns its 20 most recent jobs; set a
        cap to read more.
    type: int
seealso:
  - module: aiqum.jobs.um_job_wait
"""

EXAMPLES = r"""
- name: One job by key
  aiqum.jobs.um_job_info:
    key: "{{ created.job_key }}"
  register: one

- name: Failed LUN jobs of today, newest first
  aiqum.jobs.um_job_info:
    type: provision_lun_create
    status: error|partial_failures
    submit_time: ">{{ now(utc=true, fmt='%Y-%m-%dT00:00:00Z') }}"
    order_by: submit_time desc
    max_records: 200
  register: failed

- name: Is anything still running?
  aiqum.jobs.um_job_info:
    state: running
    max_records: 1000
  register: running
"""

RETURN = r"""
job:
  description: The job, when O(key) was given.
  returned: when O(key) was given
  type: dict
jobs:
  description: The jobs found (with O(key), a list holding that one job).
  returned: always
  type: list
  elements: dict
count:
  description: How many jobs were returned.
  returned: always
  type: int
"""

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError, UMNotFound
from ansible_collections.aiqum.jobs.plugins.module_utils._report import not_found_message
from ansible_collections.aiqum.jobs.plugins.module_utils._table import JOBS_PATH, check_key
from ansible_collections.aiqum.jobs.plugins.module_utils._module import UMModule

FILTERS = ("name", "type", "state", "status", "submit_time", "complete_time", "parent_job_key")


def run(um: UMModule) -> dict:
    params = um.params
    client = um.client()
    if params["key"] is not None:
        key = check_key(params["key"], ontap=False)
        try:
            job = client.get_job(key)
        except UMNotFound:
            raise UMConfigError(not_found_message(key)) from None
        return {"changed": False, "job": job, "jobs": [job], "count": 1}
    query = {f: params[f] for f in FILTERS if params[f] not in (None, "")}
    if params["order_by"]:
        query["order_by"] = params["order_by"]
    limit = params["max_records"]
    if limit is not None and limit < 1:
        raise UMConfigError(f"max_records {limit} must be at least 1")
    if limit is None and not any(f in query for f in FILTERS):
        limit = 20  # what UM itself answers without filters: its most recent jobs
    jobs = list(client.iter_records(JOBS_PATH, query, limit=limit))
    return {"changed": False, "jobs": jobs, "count": len(jobs)}


def main() -> None:
    spec = {f: {"type": "str", "no_log": False} for f in FILTERS}
    spec.update({"key": {"type": "str", "no_log": False}, "order_by": {"type": "str"}, "max_records": {"type": "int"}})
    UMModule(spec, mutually_exclusive=[["key", f] for f in FILTERS + ("order_by", "max_records")]).run(run)


if __name__ == "__main__":
    main()
