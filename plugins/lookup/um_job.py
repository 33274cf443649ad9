# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: um_job
short_description: Read Unified Manager jobs in templates and set_fact
version_added: 0.2.0
description:
  - Returns Unified Manager jobs from the controller, one by key or a filtered list, without a task of their own.
  - With terms, each term is a job key and one job is returned per key (an unknown key fails the lookup).
  - Without terms, the jobs that match the filter options are returned, newest first unless O(order_by) says
    otherwise, up to O(max_records).
  - Runs on the controller, like every lookup. It reads only; it never waits (use M(aiqum.jobs.um_job_wait) for that).
  - C(module_defaults) do not apply to lookups. Connection options come from the lookup's own options or from the
    same C(UM_*) environment variables as the modules, read by the same rules (names, aliases, ranges,
    O(feature_flags) with the API trace, the O(validate_certs) warning).
author:
  - aiqum.jobs maintainers (@aiqum)
extends_documentation_fragment:
  - aiqum.jobs.connection
options:
  _terms:
    description:
      - Job keys. Leave out to list jobs with the filter options.
      - UM's jobs only; an ONTAP job's key (C(ontap:...), through UM's API gateway) is refused.
    type: list
    elements: str
    required: false
  name:
    description: Job name filter (without terms). C(*) is a wildcard and C(|) an OR, as in the API.
    type: str
  type:
    description: Job type filter (without terms), for example C(provision_lun_create).
    type: str
  state:
    description: Job state filter (without terms), for example C(running) or C(running|aborting).
    type: str
  status:
    description: Job status filter (without terms), for example C(error).
    type: str
  order_by:
    description: Sort order (without terms), for example C(submit_time desc).
    type: str
  max_records:
    description: At most this many jobs (without terms).
    type: int
    default: 20
notes:
  - Call it with C(query) (or C(wantlist=true)) to always get a list; C(lookup) with one key gives the job itself.
seealso:
  - module: aiqum.jobs.um_job_info
  - plugin: aiqum.jobs.job_outputs
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Keep what a job made, by key
  ansible.builtin.set_fact:
    lun_key: "{{ (lookup('aiqum.jobs.um_job', created.job_key) | aiqum.jobs.job_outputs).lunKey }}"

- name: Fail when UM ran failed LUN jobs in the last listing
  ansible.builtin.assert:
    that: failed_jobs | length == 0
    fail_msg: "{{ failed_jobs | map(attribute='name') | join(', ') }} failed"
  vars:
    failed_jobs: "{{ query('aiqum.jobs.um_job', type='provision_lun_create', status='error', max_records=50) }}"
"""

RETURN = r"""
_raw:
  description: The jobs, as Unified Manager returns them (C(key), C(name), C(state), C(status), C(job_results), ...).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMError, UMNotFound
from ansible_collections.aiqum.jobs.plugins.module_utils._options import NAMES, read_connection
from ansible_collections.aiqum.jobs.plugins.module_utils._report import not_found_message
from ansible_collections.aiqum.jobs.plugins.module_utils._table import JOBS_PATH, check_key

FILTERS = ("name", "type", "state", "status")
display = Display()


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        conn = client = None
        try:
            conn = read_connection({name: self.get_option(name) for name in NAMES})
            keys = [check_key(term, ontap=False) for term in terms]
            limit = self.get_option("max_records")
            if not keys and (limit is None or limit < 1):
                raise AnsibleLookupError("aiqum.jobs.um_job: max_records must be 1 or more")
            for warning in conn.warnings():
                display.warning(f"aiqum.jobs.um_job: {warning}")
            client = conn.client()
            if keys:
                return [self._job(client, key) for key in keys]
            query = {k: self.get_option(k) for k in FILTERS if self.get_option(k)}
            if self.get_option("order_by"):
                query["order_by"] = self.get_option("order_by")
            return list(client.iter_records(JOBS_PATH, query, limit=limit))
        except UMError as exc:
            text = conn.secrets.mask(str(exc)) if conn is not None else str(exc)
            raise AnsibleLookupError(f"aiqum.jobs.um_job: {text}") from None
        finally:
            if client is not None:
                client.close()

    @staticmethod
    def _job(client, key):
        try:
            return client.get_job(key)
        except UMNotFound:
            raise AnsibleLookupError(f"aiqum.jobs.um_job: {not_found_message(key)}") from None
