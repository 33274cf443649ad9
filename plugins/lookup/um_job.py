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
    same C(UM_*) environment variables as the modules.
author:
  - aiqum.jobs maintainers (@aiqum)
options:
  _terms:
    description: Job keys. Leave out to list jobs with the filter options.
    type: list
    elements: str
    required: false
  hostname:
    description: Host name or IP address of Unified Manager. Required unless E(UM_HOSTNAME) is set.
    type: str
    env:
      - name: UM_HOSTNAME
  username:
    description: User for HTTP Basic authentication. Required unless E(UM_USERNAME) is set.
    type: str
    aliases: [user]
    env:
      - name: UM_USERNAME
  password:
    description: Password of O(username). Required unless E(UM_PASSWORD) is set.
    type: str
    aliases: [pass]
    env:
      - name: UM_PASSWORD
  http_port:
    description: TCP port of the REST API; 443 when not set.
    type: int
    env:
      - name: UM_HTTP_PORT
  validate_certs:
    description: Whether to verify the server's TLS certificate. Keep it on and give the CA in O(ca_path).
    type: bool
    default: true
    env:
      - name: UM_VALIDATE_CERTS
  ca_path:
    description: PEM file with the CA certificate(s) that signed the server's certificate.
    type: path
    env:
      - name: UM_CA_PATH
  request_timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 30
    env:
      - name: UM_REQUEST_TIMEOUT
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

from ansible_collections.aiqum.jobs.plugins.module_utils._client import JOBS_PATH, UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMError
from ansible_collections.aiqum.jobs.plugins.module_utils._table import check_key

FILTERS = ("name", "type", "state", "status")


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        names = ("hostname", "username", "password", "http_port", "validate_certs", "ca_path", "request_timeout")
        opts = {k: self.get_option(k) for k in names}
        missing = [f"{k} (or UM_{k.upper()})" for k in ("hostname", "username", "password") if opts[k] is None]
        if missing:
            raise AnsibleLookupError(f"aiqum.jobs.um_job: missing {', '.join(missing)}: give them to the lookup or "
                                     "set the UM_* environment variables")
        client = None
        try:
            keys = [check_key(term) for term in terms]
            client = UMClient(opts["hostname"], opts["username"], opts["password"], port=opts["http_port"],
                              validate_certs=opts["validate_certs"], ca_path=opts["ca_path"],
                              request_timeout=opts["request_timeout"])
            if keys:
                return [client.get_job(key) for key in keys]
            query = {k: self.get_option(k) for k in FILTERS if self.get_option(k)}
            if self.get_option("order_by"):
                query["order_by"] = self.get_option("order_by")
            limit = self.get_option("max_records")
            if limit is None or limit < 1:
                raise AnsibleLookupError("aiqum.jobs.um_job: max_records must be 1 or more")
            return list(client.iter_records(JOBS_PATH, query, limit=limit))
        except UMError as exc:
            raise AnsibleLookupError(f"aiqum.jobs.um_job: {exc}") from None
        finally:
            if client is not None:
                client.close()
