#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: um_request
short_description: Call any Unified Manager REST endpoint, and wait for the job it starts
version_added: 0.1.0
description:
  - Sends one request to a path under C(/api) of Active IQ Unified Manager and returns the answer.
  - Accepts C(200), C(201), C(202) and C(204). When the answer to a C(POST), C(PATCH) or C(DELETE) carries a job,
    returns its key in RV(job_key); with O(wait=true) it then waits for the job like M(aiqum.jobs.um_job_wait), with
    the same options and outcome rules.
  - >-
    A job is recognised by the shape of the answer, whatever its status code (C(200), C(201) or C(202)):
    C(job.key) (most operations, C(202)), C(operationId) (for example the rediscovery of a
    datasource, C(200)), or a top-level C(job_key) (scripts written for the predecessor API).
  - A request that changes something (C(POST), C(PATCH), C(DELETE)) is never sent twice. If its answer is lost
    the task fails saying the operation may have started and how to look for its job.
  - In check mode, C(GET) is sent and writes are not; the task reports what it would have sent.
author:
  - aiqum.jobs maintainers (@aiqum)
extends_documentation_fragment:
  - aiqum.jobs.connection
  - aiqum.jobs.wait
  - aiqum.jobs.attributes
attributes:
  check_mode:
    description: Reads are sent; writes are not, and RV(request) says what would have been sent.
    support: full
  action:
    description: An action plugin prints progress lines on the controller while O(wait=true).
    support: full
options:
  method:
    description:
      - HTTP method, one of C(GET), C(POST), C(PATCH), C(DELETE), in any case (C(post) works too).
    type: str
    default: GET
  path:
    description:
      - Path under C(/api), for example C(/storage-provider/luns) or C(/datacenter/svm/svms/{key}).
      - Absolute URLs, C(..) segments and C(?) are refused; give query parameters in O(query).
      - Percent-encode keys that you put in a path yourself (for example with the C(urlencode) filter).
    type: str
    required: true
  query:
    description:
      - Query parameters. A list value is joined with C(|), the API's OR.
    type: dict
  body:
    description: JSON body for C(POST) and C(PATCH), as an object (a YAML dict).
    type: raw
  wait:
    description:
      - When the answer carries a job, wait for it to end and fail, warn or succeed by its outcome.
      - The wait options below apply only then.
    type: bool
    default: false
seealso:
  - module: aiqum.jobs.um_job_wait
  - module: aiqum.jobs.um_job_info
"""

EXAMPLES = r"""
- name: Create a file share and wait for it
  aiqum.jobs.um_request:
    hostname: um.example.com
    username: storage_admin
    password: "{{ um_password }}"
    method: POST
    path: /storage-provider/file-shares
    body:
      name: share1
      svm: {key: "{{ svm_key }}"}
      space: {size: 100, unit: gb}
    wait: true
    timeout: 1800
  register: share

- name: List LUNs (a synchronous call)
  aiqum.jobs.um_request:
    path: /storage-provider/luns
    query:
      max_records: 100
  register: luns

- name: Rediscover a cluster (answers 200 with an operationId, a job) and wait for it
  aiqum.jobs.um_request:
    method: POST
    path: "/management-server/admin/datasources/{{ datasource_key | urlencode }}/discover"
    wait: true

- name: Delete a LUN, start only; wait later with um_job_wait
  aiqum.jobs.um_request:
    method: DELETE
    path: "/storage-provider/luns/{{ lun_key | urlencode }}"
  register: deleting
"""

RETURN = r"""
status:
  description: HTTP status of the answer.
  returned: when the request was sent
  type: int
  sample: 202
json:
  description: The decoded JSON answer; V(null) for an empty one.
  returned: when the request was sent
  type: raw
request:
  description:
    - What was sent, or in check mode what would have been sent. Never the credentials; body values under
      secret-looking names (password, secret, token, ...) are masked.
    - C(sent) says what happened on the wire. V(true) when a status line came back (UM answered, even with a
      body that cannot be read; a write answered 2xx then also reports C(changed=true)). V(false) when nothing
      reached UM (connection refused, a proxy that refused the CONNECT, a TLS handshake that failed, an option
      refused before sending), so it is safe to run again. V(null) when the request was sent but its answer
      was lost; look for the job before running it again.
  returned: always
  type: dict
  sample: {method: POST, path: /storage-provider/luns, query: {}, body: {name: lun1}, sent: true}
job_key:
  description: Key of the job that the request started.
  returned: when the answer carried a job
  type: str
job:
  description:
    - The job; as last seen when O(wait=true), else the reference from the answer (a dict with only C(key) when the
      answer gave only the key).
  returned: when the answer carried a job
  type: dict
outcomes:
  description: Outcome of the job by key (see M(aiqum.jobs.um_job_wait)).
  returned: when O(wait=true) and a job came back
  type: dict
outputs:
  description: What the job produced (its C(job_results)) as a dict of name to value.
  returned: when O(wait=true) and a job came back
  type: dict
pending:
  description: The job key when the wait timed out; pass it to M(aiqum.jobs.um_job_wait) to resume.
  returned: when O(wait=true) and a job came back
  type: list
  elements: str
elapsed:
  description: Seconds the wait took.
  returned: when O(wait=true) and a job came back
  type: float
polls:
  description: HTTP requests the wait sent.
  returned: when O(wait=true) and a job came back
  type: int
timed_out:
  description: Whether the wait ended at its timeout.
  returned: when O(wait=true) and a job came back
  type: bool
long_polling:
  description: Whether the server held requests until the job ended.
  returned: when O(wait=true) and a job came back
  type: bool
"""

import json

from ansible_collections.aiqum.jobs.plugins.module_utils._client import WRITE_METHODS
from ansible_collections.aiqum.jobs.plugins.module_utils._paths import check_api_path
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import (
    UMConfigError,
    UMConnectionError,
    UMError,
    UMHTTPError,
    UMOperationUncertain,
    UMResponseError,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._table import check_key, job_handle_of
from ansible_collections.aiqum.jobs.plugins.module_utils._module import UMModule

OK_STATUSES = (200, 201, 202, 204)


METHODS = ("GET", "POST", "PATCH", "DELETE")


def run(um: UMModule) -> dict:
    p = um.params
    method = str(p["method"]).strip().upper()
    try:
        if method not in METHODS:
            raise UMConfigError(f"method {str(p['method'])[:20]!r} is not one of {', '.join(METHODS)} (in any case)")
        path = check_api_path(p["path"])
        body = p["body"]
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                raise UMConfigError("body is a string that is not valid JSON: give a YAML dict or a JSON object") from None
        if body is not None:
            if method not in ("POST", "PATCH"):
                raise UMConfigError(f"body is only sent with POST or PATCH, not with {method}")
            if not isinstance(body, dict):
                raise UMConfigError(f"body must be a JSON object (a YAML dict), not {type(body).__name__}: "
                                    "UM's endpoints take objects")
        query = p["query"] or {}
        um.hide_secrets(body)
        um.hide_secrets(query)
        request = {"method": method, "path": path, "query": um.masked(query), "body": um.masked(body), "sent": False}
        write = method in WRITE_METHODS
        if p["wait"]:
            um.wait_options()  # a bad wait option must fail the task before anything is sent
            if um.resuming:
                # A later progress slice of this task: the request went out in the first one and is never sent
                # again; the first run's report travels in the resume state.
                return wait_for_job(um, um.resume_context().get("report"))
    except UMError as exc:
        # Refused before anything was sent (the path is not shown: it may be a URL holding credentials).
        exc.details.setdefault("request", {"method": method, "sent": False})
        raise
    if write and um.check_mode:
        return {"changed": True, "request": request, "msg": f"check mode: would send {method} {path}"}

    try:
        answer = um.client().request(method, path, params=query, body=body)
    except UMError as exc:
        # What happened on the wire: UM answered (a status line came back, whatever the body), nothing left
        # (refused, proxy, TLS handshake, a bad option), or nobody knows (the answer was lost after sending).
        if isinstance(exc, UMOperationUncertain):
            request["sent"] = None
        elif isinstance(exc, (UMHTTPError, UMResponseError)) and exc.sent:
            request["sent"] = True
            if write and 200 <= (exc.status or 0) < 300:
                # UM accepted the write but its answer is unreadable: it may well have started a job.
                exc.details["changed"] = True
        elif isinstance(exc, UMConnectionError) and exc.sent:
            request["sent"] = None
        else:
            request["sent"] = False
        exc.details.setdefault("request", request)
        raise
    request["sent"] = True
    if answer.status not in OK_STATUSES:
        raise UMResponseError(f"{method} {path}: UM answered HTTP {answer.status}, which this module does not "
                              "expect (200, 201, 202 or 204)", status=answer.status, changed=write, request=request)
    report = {"changed": write, "status": answer.status, "json": answer.data, "request": request}
    # A read never starts a job: a GET of a resource that mentions a job is not waited on.
    handle = job_handle_of(answer.data, answer.headers.get("Location")) \
        if write and answer.status in (200, 201, 202) else None
    if handle is None:
        if write and p["wait"] and answer.status == 202 and not isinstance(answer.data, dict):
            # Accepted for later, yet neither the body nor Location names a job: nothing to wait for, say so.
            um.module.warn(f"{method} {path}: UM answered 202 (accepted) without a job in its answer or its Location "
                           "header, so there was no job to wait for; check with aiqum.jobs.um_job_info whether a "
                           "job started")
        return report
    field, raw_key, reference = handle
    if isinstance(reference, dict) and reference.get("key") != raw_key:
        reference = dict(reference, key=raw_key)
    report["job"] = reference
    try:
        report["job_key"] = check_key(raw_key)
    except UMConfigError as exc:
        # UM took the request and started a job: never lose it, even with a key this collection cannot poll.
        report["job_key"] = raw_key
        raise UMResponseError(f"{method} {path}: UM accepted the request (HTTP {answer.status}) and started a job "
                              f"whose key ({field}) cannot be polled: {exc}. The request was sent once and not again; "
                              "look for the job with aiqum.jobs.um_job_info", **report) from None
    if not p["wait"]:
        return report
    return wait_for_job(um, report)


def wait_for_job(um: UMModule, report: dict) -> dict:
    """Wait on the job a request started (in slices when the action plugin carries the state)."""
    if not isinstance(report, dict) or not isinstance(report.get("request"), dict) or \
            not isinstance(report.get("job_key"), str):
        raise UMConfigError("the wait's resume state carries no started job: it is never given in a task")
    key = check_key(report["job_key"])
    try:
        state = um.wait([key], server_seen=True, context={"report": report})
    except UMError as exc:
        # The operation did start: never lose its key, so the user can wait on it or look it up.
        req = report["request"]
        exc.message = f"{req['method']} {req['path']} started job {key}, but waiting for it failed: {exc.message}"
        exc.details.update(changed=report["changed"], job_key=key, job=report["job"], status=report["status"],
                           request=req)
        raise
    return um.wait_result(state, report, single=True)


def main() -> None:
    um = UMModule({
        "method": {"type": "str", "default": "GET"},
        "path": {"type": "str", "required": True},
        "query": {"type": "dict"},
        "body": {"type": "raw"},
        "wait": {"type": "bool", "default": False},
    }, wait_options=True)
    um.run(run)


if __name__ == "__main__":
    main()
