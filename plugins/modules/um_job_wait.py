#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: um_job_wait
short_description: Wait for Unified Manager jobs to end
version_added: 0.1.0
description:
  - Blocks until one or many Active IQ Unified Manager background jobs reach a terminal state, or the O(timeout) passes.
  - Fails the task when a job ends with status C(error) or is aborted, naming the job and each failed task's reason.
  - Warns when a job ends with C(partial_failures) (or fails, with O(fail_on_partial_failures)) and when it ends
    with C(warning) (unless O(warn_on_warning=false)).
  - Uses long polling when the server honours it and adaptive standard polling when it does not. Many jobs are
    waited on together, so N jobs take about as long as the longest one.
  - On timeout the task fails but returns each job as last seen and the keys still running in RV(pending).
  - >-
    Also waits for ONTAP's jobs reached through UM's API gateway (started with M(aiqum.jobs.um_request)), alone or
    mixed with UM's jobs: give their RV(aiqum.jobs.um_request#module:job_key) (C(ontap:<cluster uuid>:<job uuid>)),
    ONTAP's link to the job (C(/api/gateways/<cluster uuid>/cluster/jobs/<job uuid>)) or the C(job) dict of the
    answer. ONTAP's states apply to them: C(success) is ok, C(failure) fails the task with ONTAP's C(message) and
    C(code), C(paused) is still running. ONTAP forgets a job about 300 seconds after it ends; a job it no longer
    knows fails the task (V(forgotten) when it was seen running, V(not_found) when never), never a success.
  - Read-only, so it runs in check mode too.
author:
  - aiqum.jobs maintainers (@aiqum)
extends_documentation_fragment:
  - aiqum.jobs.connection
  - aiqum.jobs.wait
  - aiqum.jobs.attributes
attributes:
  check_mode:
    description: Runs normally in check mode; it only reads.
    support: full
  action:
    description: An action plugin prints progress lines on the controller during long waits.
    support: full
  async:
    description: Works under C(async) with C(poll=0) and M(ansible.builtin.async_status); no progress lines then.
    support: full
options:
  key:
    description:
      - Key of one job, as returned by the request that started it (for example RV(aiqum.jobs.um_request#module:job_key)).
      - For an ONTAP job through the gateway, its C(ontap:) key, its link or its C(job) dict.
      - Mutually exclusive with O(keys).
    type: raw
  keys:
    description:
      - Keys of several jobs to wait on together, UM's and ONTAP's mixed as they come (in any form O(key) takes).
        Each job once.
      - Mutually exclusive with O(key).
    type: list
    elements: raw
seealso:
  - module: aiqum.jobs.um_request
  - module: aiqum.jobs.um_job_info
"""

EXAMPLES = r"""
- name: Start a LUN creation and wait for its job
  module_defaults:
    group/aiqum.jobs.um:
      hostname: um.example.com
      username: storage_admin
      password: "{{ um_password }}"
      ca_path: /etc/pki/um-ca.pem
  block:
    - name: Create the LUN
      aiqum.jobs.um_request:
        method: POST
        path: /storage-provider/luns
        body:
          name: lun1
          os_type: linux
          svm: {key: "{{ svm_key }}"}
          space: {size: 10737418240}       # bytes (10 GiB)
          performance_service_level: {key: "{{ service_level_key }}"}
      register: created

    - name: Wait for the job, at most 30 minutes
      aiqum.jobs.um_job_wait:
        key: "{{ created.job_key }}"
        timeout: 1800
      register: waited

    - name: Show the new LUN's key
      ansible.builtin.debug:
        msg: "{{ waited.outputs.lunKey | default('none') }}"

- name: Wait on many jobs in one task, failing on partial failures too
  aiqum.jobs.um_job_wait:
    keys: "{{ started.results | map(attribute='job_key') | list }}"
    fail_on_partial_failures: true
    timeout: 600

- name: Wait for ONTAP jobs started through UM's API gateway, beside UM's own
  aiqum.jobs.um_job_wait:
    keys: "{{ (volumes.results + luns.results) | map(attribute='job_key') | list }}"
    timeout: 900

- name: Resume a wait that timed out
  aiqum.jobs.um_job_wait:
    keys: "{{ first_wait.pending }}"
    timeout: 3600
  when: first_wait.pending | default([]) | length > 0
"""

RETURN = r"""
job:
  description: The job as Unified Manager last returned it, when O(key) was given.
  returned: when O(key) was given and the job was seen
  type: dict
  sample:
    key: "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
    name: Create LUN
    type: provision_lun_create
    state: completed
    status: normal
    submit_time: "2026-11-27T10:00:00.000+00:00"
    complete_time: "2026-11-27T10:00:42.000+00:00"
    job_results: [{name: lunKey, value: "4a2f...:type=lun,uuid=..."}]
    task_reports: []
jobs:
  description: Every job as last seen, in the order of O(keys) (or the one job of O(key)).
  returned: always
  type: list
  elements: dict
outcomes:
  description:
    - Outcome of each job by key; V(null) while it is still running.
    - One of V(normal), V(warning), V(partial_failures), V(error), V(aborted), V(unknown), or V(not_found) for a
      key that Unified Manager does not know.
    - For an ONTAP job, V(success), V(failure), V(not_found) (ONTAP answered 404 and the job was never seen) or
      V(forgotten) (seen running, then ONTAP answered 404, so it ended and was forgotten).
  returned: always
  type: dict
  sample: {"2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4": normal}
outputs:
  description:
    - What the job produced (its C(job_results)) as a dict of name to value.
    - With O(keys), a dict of such dicts by job key.
  returned: always
  type: dict
  sample: {lunKey: "4a2f...:type=lun,uuid=..."}
pending:
  description: Keys of the jobs still running when the wait ended; non-empty only on timeout. Pass them to O(keys) to resume.
  returned: always
  type: list
  elements: str
timed_out:
  description: Whether the wait ended at its timeout with jobs still running.
  returned: always
  type: bool
elapsed:
  description: Seconds the wait took.
  returned: always
  type: float
polls:
  description: HTTP requests the wait sent to Unified Manager.
  returned: always
  type: int
long_polling:
  description: Whether the server held requests until the jobs ended (long polling).
  returned: always
  type: bool
unknown_states:
  description: Jobs whose C(state) this collection does not know, by key; they were treated as still running.
  returned: when any
  type: dict
not_found:
  description:
    - Keys that Unified Manager (or, for an ONTAP job never seen, the cluster) answered 404 for. The other jobs of the
      task are still waited on; the task then fails.
  returned: when any
  type: list
  elements: str
"""

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError
from ansible_collections.aiqum.jobs.plugins.module_utils._table import check_key, check_keys
from ansible_collections.aiqum.jobs.plugins.module_utils._module import UMModule


def run(um: UMModule) -> dict:
    params = um.params
    if params["key"] is not None and params["keys"] is not None:
        raise UMConfigError("give either key or keys, not both")
    if params["key"] is not None:
        if isinstance(params["key"], list) or (isinstance(params["key"], str) and params["key"].strip()[:1] == "["
                                               and params["key"].strip()[-1:] == "]"):
            # Ansible turned a list into its text; no job key holds brackets.
            raise UMConfigError("key takes one job key but was given a list: use keys for a list of jobs")
        keys = [check_key(params["key"])]
    elif params["keys"] is not None:
        keys = check_keys(params["keys"])
    else:
        raise UMConfigError("give the job to wait for in key (one job) or keys (a list)")
    return um.wait_result(um.wait(keys), {"changed": False}, single=params["key"] is not None)


def main() -> None:
    um = UMModule({"key": {"type": "raw", "no_log": False},
                   "keys": {"type": "list", "elements": "raw", "no_log": False}},
                  wait_options=True)
    um.run(run)


if __name__ == "__main__":
    main()
