# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nothing is started twice: a start request whose answer is lost is never sent again.

The simulator accepts the request (creates the job) and then drops the connection, or answers later than
the request timeout. The client must not re-send it; the task must fail saying that the operation may have
started and how to find it (um_job_info by name/type/time); the counters must show one request and one job.
"""

from __future__ import annotations

import time
import typing as t
from urllib.parse import quote

import pytest

import reltools
from reltools import Row

from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMError, UMOperationUncertain

TRIALS = reltools.scale("AIQUM_RELIABILITY_TRIALS", 20)
# (method, path template, route name in the simulator's counters)
STARTS = [
    ("POST", "/storage-provider/luns", "POST /storage-provider/luns"),
    ("POST", "/storage-provider/file-shares", "POST /storage-provider/file-shares"),
    ("POST", "/datacenter/svm/svms", "POST /datacenter/svm/svms"),
    ("POST", "/storage-provider/access-endpoints", "POST /storage-provider/access-endpoints"),
    ("POST", "/admin/backup", "POST /admin/backup"),
    ("PATCH", "/storage-provider/luns/{key}", "PATCH /storage-provider/luns/{key}"),
    ("DELETE", "/storage-provider/file-shares/{key}", "DELETE /storage-provider/file-shares/{key}"),
]
UNCERTAIN_FRAGMENTS = ("may have", "NOT sent again", "aiqum.jobs.um_job_info", "name", "type", "submit_time")


def _uncertain_msg_ok(msg: str) -> bool:
    return reltools.one_line(msg) and all(f in msg for f in UNCERTAIN_FRAGMENTS)


LOSSES = {
    "drop_after": "connection dropped after UM accepted the start",
    "slow": "answer to the start slower than request_timeout",
}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("lose", list(LOSSES))
def test_lost_answer_is_never_resent(own_sim: t.Callable[..., reltools.SimProc], lose: str) -> None:
    """Client level, many trials on the 202 endpoints: the start is sent once and creates one job."""
    sim = own_sim()
    rng = reltools.rng_for(f"double-start-{lose}")
    trials = TRIALS if lose == "drop_after" else max(10, TRIALS // 2)
    right = within = 0
    failures = []
    started = time.monotonic()
    for i in range(trials):
        method, template, route = rng.choice(STARTS)
        name = f"rel-double-{reltools.SEED}-{i}"
        # PATCH and DELETE act on a real object (UM answers 404 for a key it does not know); the fault matches
        # the decoded path the server sees, the client sends the key percent-encoded.
        raw_key = sim.made(template.split("/{key}", maxsplit=1)[0], f"{name}-obj") if "{key}" in template else ""
        path = template.format(key=quote(raw_key, safe=""))
        match_path = template.format(key=raw_key)
        request_timeout = round(rng.uniform(0.4, 1.0), 2)
        spec: dict[str, t.Any] = {"kind": lose, "match": {"method": method, "path": match_path}, "count": 1}
        if lose == "slow":
            spec["delay"] = round(request_timeout + rng.uniform(0.2, 0.6), 2)
        sim.ctl("DELETE", "/counters")
        sim.add_fault(**spec)
        client = UMClient(sim.host, reltools.USER, reltools.PASSWORD, port=sim.port, ca_path=sim.ca,
                          request_timeout=request_timeout)
        t0 = time.monotonic()
        error: UMError | None = None
        try:
            body = None if method == "DELETE" else ({"space": {"size": (i + 2) << 30}} if method == "PATCH"
                                                    else reltools.start_body(path, name))
            client.request(method, path, body=body)
        except UMError as exc:
            error = exc
        took = time.monotonic() - t0
        client.close()
        if lose == "slow":
            time.sleep(max(0.0, spec["delay"] - took) + 0.2)  # let the server finish the request it holds
        counters = sim.counters()
        ok = (isinstance(error, UMOperationUncertain) and _uncertain_msg_ok(str(error))
              and counters["jobs_created"] == 1 and counters["by_route"].get(route) == 1
              and counters["total"] == 1)
        right += ok
        within += took <= request_timeout + 2.0
        if error is not None:
            reltools.assert_no_secret("double-start message", str(error), "waiter messages")
        if not ok:
            failures.append(f"#{i} {method} {path} {lose}: error={error!r} counters={counters}")
    reltools.RESULTS.add(Row("nothing started twice", f"{LOSSES[lose]} (client)", trials, right, trials - right,
                             "request_timeout + 2s", within,
                             "right = UMOperationUncertain with the how-to-find message, and exactly 1 request and "
                             "1 job in the simulator's counters; 7 start endpoints (POST, PATCH, DELETE)",
                             round(time.monotonic() - started, 1)))
    assert not failures, f"seed {reltools.SEED}:\n" + "\n".join(failures)
    assert within == trials


@pytest.mark.timeout(180)
@pytest.mark.parametrize("lose", list(LOSSES))
def test_lost_answer_end_to_end(own_sim: t.Callable[..., reltools.SimProc], collections: t.Any, lose: str) -> None:
    """Task level: um_request (with and without wait) fails clearly, um_job_info finds the one job."""
    sim = own_sim()
    rng = reltools.rng_for(f"double-start-e2e-{lose}")
    cases = {}
    for i, wait in enumerate([False, True, False, True]):
        name = f"rel-e2e-double-{reltools.SEED}-{i}"
        # Each start goes to its own path, so each fault hits only its own task.
        path = ["/storage-provider/luns", "/storage-provider/file-shares", "/datacenter/svm/svms",
                "/storage-provider/access-endpoints"][i]
        spec: dict[str, t.Any] = {"kind": lose, "match": {"method": "POST", "path": path}, "count": 1}
        if lose == "slow":
            spec["delay"] = round(3.0 + rng.uniform(0.2, 1.0), 2)
        sim.add_fault(**spec)
        cases[f"start{i}"] = {"module": "um_request", "args": sim.connection(
            method="POST", path=path, body=reltools.start_body(path, name), wait=wait, timeout=60, progress_interval=5,
            request_timeout=2)}
    sim.ctl("DELETE", "/counters")
    run = reltools.run_cases(collections, reltools.new_tmp("double-e2e-"), cases, forks=4)
    if lose == "slow":
        time.sleep(2.5)  # the server finishes the requests whose answers the client gave up on
    counters = sim.counters()
    # Look for each job the way the message says: um_job_info, here by type (each task used its own route).
    listed = sim.http.get(f"{sim.url}/api/management-server/jobs", params={"max_records": 100},
                          auth=(reltools.USER, reltools.PASSWORD), timeout=30).json()["records"]
    types = {}
    for job in listed:
        types[job["type"]] = types.get(job["type"], 0) + 1
    route_types = sorted(types)
    finds = {f"find{i}": {"module": "um_job_info", "args": sim.connection(type=jtype, max_records=10)}
             for i, jtype in enumerate(route_types)}
    found = reltools.run_cases(collections, reltools.new_tmp("double-find-"), finds, forks=4) if finds else None
    right = 0
    problems = []
    for host in cases:
        res = run.result(host)
        msg = res.get("msg", "")
        ok = res.get("failed") is True and _uncertain_msg_ok(msg) and reltools.no_traceback(res) \
            and res.get("changed") is True and "job_key" not in res
        right += ok
        if not ok:
            problems.append(f"{host}: {res}")
    finds_ok = found is not None and len(finds) == len(cases) and all(
        found.result(h).get("count") == 1 and not found.result(h).get("failed") for h in finds)
    if not finds_ok:
        problems.append(f"um_job_info by type should find one job for each task: types {types}")
    routes = ("POST /storage-provider/luns", "POST /storage-provider/file-shares", "POST /datacenter/svm/svms",
              "POST /storage-provider/access-endpoints")
    exact = counters["jobs_created"] == len(cases) and all(counters["by_route"].get(r) == 1 for r in routes)
    right = right if exact and finds_ok else 0
    reltools.RESULTS.add(Row("nothing started twice", f"{LOSSES[lose]} (um_request task, wait on/off)",
                             len(cases), right, len(cases) - right, "task ends", len(cases),
                             f"jobs created: {counters['jobs_created']} for {len(cases)} tasks; "
                             f"um_job_info by type finds exactly one job for each: {finds_ok}"))
    assert not problems, "\n".join(problems)
    assert counters["jobs_created"] == len(cases), counters
    for route in routes:
        assert counters["by_route"].get(route) == 1, counters
    assert not any(r.startswith("GET /management-server/jobs") for r in counters["by_route"]), \
        f"a task waited on a job it never got the key of: {counters}"
