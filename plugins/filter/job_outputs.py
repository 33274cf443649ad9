# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: job_outputs
short_description: What a Unified Manager job produced, as a dict
version_added: 0.2.0
description:
  - Turns a job's C(job_results) list of C(name)/C(value) pairs into a dict of name to value, for example
    with the key C(lunKey) for a LUN creation.
  - Takes the job itself (from M(aiqum.jobs.um_job_info), the P(aiqum.jobs.um_job#lookup) lookup or an event
    payload), or a result that holds it, in C(job) (M(aiqum.jobs.um_request), M(aiqum.jobs.um_job_wait)) or in
    C(json) (M(ansible.builtin.uri)).
  - A job without C(job_results) (still running, or one that makes nothing) gives an empty dict.
author:
  - aiqum.jobs maintainers (@aiqum)
options:
  _input:
    description: A job, or a result holding one in C(job) or C(json).
    type: dict
    required: true
seealso:
  - plugin: aiqum.jobs.job_failures
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Poll a job with ansible.builtin.uri
  ansible.builtin.uri:
    url: "https://{{ um_host }}/api/management-server/jobs/{{ job_key | urlencode }}"
    user: "{{ um_user }}"
    password: "{{ um_password }}"
    force_basic_auth: true
  register: polled

- name: Read what it made
  ansible.builtin.debug:
    msg: "{{ (polled | aiqum.jobs.job_outputs).lunKey }}"

- name: What every job of a list made, by key
  ansible.builtin.set_fact:
    made: "{{ dict(jobs | map(attribute='key') | zip(jobs | map('aiqum.jobs.job_outputs'))) }}"
  vars:
    jobs: "{{ info.jobs }}"
"""

RETURN = r"""
_value:
  description: The job's results by name.
  type: dict
  sample: {lunKey: "4ea7a442-86d1-11e0-ae1c-123478563412:type=lun,uuid=d208cc7d"}
"""

from ansible_collections.aiqum.jobs.plugins.plugin_utils._job_data import outputs


class FilterModule:

    def filters(self):
        return {"job_outputs": outputs}
