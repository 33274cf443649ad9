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
  - >-
    ONTAP through UM's API gateway: with O(cluster), O(path) is an ONTAP path (for example C(/storage/volumes)) and
    the request goes to C(/gateways/<cluster uuid>/...); a path C(/gateways/<cluster uuid>/...) works too. ONTAP's
    asynchronous calls answer with ONTAP's own job (C(job.uuid) and a link under C(/api/gateways/.../cluster/jobs/));
    its key comes back in RV(job_key) as C(ontap:<cluster uuid>:<job uuid>), which M(aiqum.jobs.um_job_wait) takes
    like a UM key. With O(wait=true) it is waited for like UM's jobs and read by ONTAP's states: C(success) is ok,
    C(failure) fails the task with ONTAP's C(message) and C(code), C(paused) is still running.
  - >-
    A write through the gateway with O(wait=true) asks ONTAP to hold the answer until the job ends (C(return_timeout),
    the time left of O(timeout) up to 120 seconds), so a short job ends in one round trip; a C(return_timeout) in
    O(query) is sent as given. No C(return_timeout) is added on UM's own endpoints.
  - >-
    ONTAP forgets a job about 300 seconds after it ends. A job that ONTAP no longer knows fails the task (its outcome
    cannot be read), never a success.
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
      - With O(cluster), the path of ONTAP's REST API (under ONTAP's C(/api)), for example C(/storage/volumes); UM's own
        paths are refused then.
    type: str
    required: true
  cluster:
    description:
      - Name or uuid of an ONTAP cluster that UM's API gateway reaches (as C(GET /gateways) lists it). The request
        then goes to that cluster through the gateway, and O(path) is ONTAP's path.
      - Resolved with one C(GET /gateways) per task.
    type: str
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
- name: Find the SVM by its name and cluster (UM's write calls take keys)
  aiqum.jobs.um_request:
    path: /datacenter/svm/svms
    query: {name: "{{ svm_name }}", cluster.name: "{{ cluster_name }}"}
  register: svm

- name: Find the performance service level by its name
  aiqum.jobs.um_request:
    path: /storage-provider/performance-service-levels
    query: {name: "{{ service_level }}"}
  register: level

- name: Create the LUN and wait for its job (fails on error, warns on partial failures)
  aiqum.jobs.um_request:
    method: POST
    path: /storage-provider/luns
    body:
      name: lun1
      os_type: linux
      svm: {key: "{{ svm.json.records[0].key }}"}
      space: {size: 10737418240}       # bytes (10 GiB)
      performance_service_level: {key: "{{ level.json.records[0].key }}"}
    wait: true
    timeout: 1800
  register: created

- name: Create a file share and wait for it, with the connection given in the task
  aiqum.jobs.um_request:
    hostname: um.example.com
    username: storage_admin
    password: "{{ um_password }}"
    method: POST
    path: /storage-provider/file-shares
    body:
      name: share1
      svm: {key: "{{ svm.json.records[0].key }}"}
      space: {size: 107374182400}      # bytes (100 GiB)
      performance_service_level: {key: "{{ level.json.records[0].key }}"}
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

- name: Create a volume on an ONTAP cluster through UM's API gateway and wait for ONTAP's job
  aiqum.jobs.um_request:
    cluster: cluster-a                 # its name or uuid, as GET /gateways lists it
    method: POST
    path: /storage/volumes             # ONTAP's path
    body:
      name: vol1
      svm: {name: svm1}
      size: 10737418240                # bytes (10 GiB)
    wait: true
    timeout: 600
  register: volume

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
  description:
    - Key of the job that the request started. For an ONTAP job through UM's API gateway,
      C(ontap:<cluster uuid>:<job uuid>); M(aiqum.jobs.um_job_wait) takes both forms (M(aiqum.jobs.um_job_info) and the
      lookup read only UM's jobs).
  returned: when the answer carried a job
  type: str
  sample: "ontap:4f8c1e2a-1111-11ee-9a3b-005056a7e001:0a1b2c3d-0000-11ee-8c1a-005056a70001"
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
import math
import time

from ansible_collections.aiqum.jobs.plugins.module_utils._client import WRITE_METHODS
from ansible_collections.aiqum.jobs.plugins.module_utils._paths import check_api_path, encode_segment
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import (
    UMConfigError,
    UMConnectionError,
    UMError,
    UMHTTPError,
    UMOperationUncertain,
    UMResponseError,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitState
from ansible_collections.aiqum.jobs.plugins.module_utils._table import (
    GATEWAYS_PATH,
    ONTAP,
    ONTAP_SUCCESS,
    check_key,
    gateway_cluster_of,
    job_handle_of,
    vocabulary_of,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._module import UMModule

OK_STATUSES = (200, 201, 202, 204)


METHODS = ("GET", "POST", "PATCH", "DELETE")
# ONTAP holds a write through the gateway at most this long (its return_timeout) before it answers 202.
MAX_RETURN_TIMEOUT = 120
# UM's own API: with `cluster`, a path that starts here is not ONTAP's.
UM_TOP = ("gateways", "management-server", "storage-provider", "datacenter", "admin")


def resolve_cluster(um: UMModule, cluster: str) -> str:
    """The uuid of the cluster UM's API gateway reaches by this name or uuid (GET /gateways)."""
    wanted = str(cluster).strip()
    if not wanted:
        raise UMConfigError("cluster is empty: give the name or uuid of a cluster listed by GET /gateways")
    records = list(um.client().iter_records(GATEWAYS_PATH))
    by_uuid = [r for r in records if str(r.get("uuid", "")).lower() == wanted.lower()]
    by_name = [r for r in records if str(r.get("name", "")) == wanted] or \
        [r for r in records if str(r.get("name", "")).lower() == wanted.lower()]
    found = by_uuid or by_name
    if len(found) > 1:
        raise UMConfigError(f"cluster '{wanted}' names {len(found)} clusters behind UM's API gateway: give its uuid "
                            f"({', '.join(str(r.get('uuid')) for r in found[:5])})")
    if not found or not isinstance(found[0].get("uuid"), str) or not found[0]["uuid"]:
        known = ", ".join(str(r.get("name")) for r in records[:10]) or "none"
        raise UMConfigError(f"cluster '{wanted}' is not reachable through UM's API gateway (GET /gateways lists: "
                            f"{known}): check the name, or add the cluster to UM over HTTPS")
    return found[0]["uuid"]


def check_ontap_path(path: str) -> str:
    """With `cluster`, the path must be ONTAP's (a checked path, `/api` already taken off), not UM's own."""
    if path == "/" or path.split("/")[1] in UM_TOP:
        raise UMConfigError(f"path '{path}' is not an ONTAP path: with cluster, give ONTAP's path (for example "
                            "/storage/volumes); leave cluster out for UM's own API")
    return path


def return_timeout_of(query: dict, write: bool, gateway: str | None, wait: bool, timeout: float) -> int | None:
    """ONTAP's return_timeout for this request: the user's (in query), else on a write through the gateway with
    wait, the time left capped at 120 s (a short job then ends in one round trip); never on UM's own endpoints."""
    if "return_timeout" in query:
        try:
            return max(0, int(str(query["return_timeout"]).strip()))
        except ValueError:
            return None  # ONTAP says what is wrong with it
    if not (write and gateway and wait):
        return None
    seconds = int(min(MAX_RETURN_TIMEOUT, math.floor(timeout)))
    query["return_timeout"] = seconds
    return seconds


def run(um: UMModule) -> dict:
    p = um.params
    method = str(p["method"]).strip().upper()
    try:
        if method not in METHODS:
            raise UMConfigError(f"method {str(p['method'])[:20]!r} is not one of {', '.join(METHODS)} (in any case)")
        path = check_api_path(p["path"])
        if p["cluster"] is not None:
            check_ontap_path(path)
        elif path.startswith(GATEWAYS_PATH + "/") and gateway_cluster_of(path) is None:
            raise UMConfigError(f"path '{path}' is not a path through UM's API gateway: give "
                                "/gateways/<cluster uuid>/<ONTAP path>, or the cluster option and ONTAP's path")
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
        query = dict(p["query"] or {})
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
    try:
        if p["cluster"] is not None:
            path = f"{GATEWAYS_PATH}/{encode_segment(resolve_cluster(um, p['cluster']))}{path}"
            request["path"] = path
    except UMError as exc:
        exc.details.setdefault("request", request)
        raise
    gateway = gateway_cluster_of(path)
    held = return_timeout_of(query, write, gateway, p["wait"], p["timeout"])
    request["query"] = um.masked(query)
    if write and um.check_mode:
        return {"changed": True, "request": request, "msg": f"check mode: would send {method} {path}"}

    began = time.time()
    try:
        client = um.client()
        # ONTAP may hold the request for return_timeout: its time budget lies above that.
        budget = None if held is None else held + client.request_timeout
        answer = client.request(method, path, params=query, body=body, timeout=budget)
    except UMError as exc:
        if gateway and isinstance(exc, UMHTTPError) and exc.code and exc.code not in str(exc):
            exc.message += f" (code {exc.code})"  # ONTAP's code names its error (a failed job's code too)
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
    handle = job_handle_of(answer.data, answer.headers.get("Location"), gateway=gateway) \
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
    if vocabulary_of(report["job_key"]) == ONTAP and held is not None and answer.status in (200, 201):
        # ONTAP held the write until its job ended, and it succeeded (a failure answers 400): one round trip.
        now = time.time()
        state = WaitState(keys=[report["job_key"]], started=began, deadline=began + float(p["timeout"]),
                          elapsed=now - began)
        state.ended[report["job_key"]] = ONTAP_SUCCESS
        state.jobs[report["job_key"]] = dict(reference, key=report["job_key"], state=ONTAP_SUCCESS)
        return um.wait_result(state, report, single=True)
    return wait_for_job(um, report, began)


def wait_for_job(um: UMModule, report: dict, began: float | None = None) -> dict:
    """Wait on the job a request started (in slices when the action plugin carries the state)."""
    if not isinstance(report, dict) or not isinstance(report.get("request"), dict) or \
            not isinstance(report.get("job_key"), str):
        raise UMConfigError("the wait's resume state carries no started job: it is never given in a task")
    key = check_key(report["job_key"])
    try:
        # An ONTAP job the write started exists: a later 404 for it means ONTAP forgot it after it ended.
        state = um.wait([key], server_seen=True, context={"report": report}, started=began,
                        seen_running=[key] if vocabulary_of(key) == ONTAP else [])
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
        "cluster": {"type": "str"},
    }, wait_options=True)
    um.run(run)


if __name__ == "__main__":
    main()
