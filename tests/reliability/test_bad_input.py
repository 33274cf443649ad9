# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, one table across the three modules, run as real Ansible tasks (one inventory host per case).

Each case either fails with a clear one-line reason holding the expected fragments, or behaves as
documented (checked by its own predicate); none may print a traceback, crash the module or hang.
Server answers that the simulator cannot give (non-JSON, missing fields, wrong types, empty 204s) come
from a small programmable HTTPS server on loopback.
"""

from __future__ import annotations

import socket
import typing as t
from dataclasses import dataclass, field

import pytest
import trustme

import reltools
from reltools import Canned, LoopbackUM, Row, script_for

CASE_BOUND = 20.0  # seconds a case may take, start-up of the module on a loaded machine included


@dataclass
class Case:
    id: str
    module: str
    args: dict[str, t.Any]
    expect: tuple[str, ...] = ()            # fragments of msg when the task must fail
    ok: t.Callable[[dict], bool] | None = None   # predicate when the task must succeed (documented behaviour)
    doc: str = ""                           # what the documented behaviour is
    against: str = "sim"                    # sim | fake | none
    bound: float = CASE_BOUND
    extra: dict[str, t.Any] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_cases(done: str, prose: str, strange: str, other_ca: str, garbage_ca: str) -> list[Case]:
    W, R, INFO = "um_job_wait", "um_request", "um_job_info"
    fast = {"timeout": 3, "poll_interval": 0.5, "max_poll_interval": 1, "progress_interval": 0}
    bad_key = ("is not a UM job key",)
    cases = [
        # -- job keys ---------------------------------------------------------------------------
        Case("key empty", W, {"key": ""}, ("job key is empty",)),
        Case("key blank", W, {"key": "   "}, ("job key is empty",)),
        Case("key huge (5000 chars)", W, {"key": "a" * 5000}, ("characters long",)),
        Case("key with /", W, {"key": "1:2/../3:4"}, bad_key),
        Case("key with ?", W, {"key": "1:2?x=1"}, bad_key),
        Case("key with #", W, {"key": "1:2#frag"}, bad_key),
        Case("key with ..", W, {"key": "..:1:2:3"}, bad_key),
        Case("key with spaces", W, {"key": "1:2 3:4"}, bad_key),
        Case("key non-ASCII", W, {"key": "1:2:3:\u00e9\u00df"}, bad_key),
        Case("key with a newline", W, {"key": "1:2\n3:4"}, bad_key),
        Case("key well-formed, unknown", W, {"key": "1:2:3:4"}, ("does not exist on UM",)),
        Case("key and keys together", W, {"key": done, "keys": [done]}, ("either key or keys",)),
        Case("neither key nor keys", W, {}, ("give the job to wait for",)),
        Case("keys empty", W, {"keys": []}, ("keys is empty",)),
        Case("keys duplicate", W, {"keys": [done, done]}, ("more than once",)),
        Case("keys with an empty one", W, {"keys": [done, ""]}, ("job key is empty",)),
        Case("keys with an unknown one", W, {"keys": [done, "1:2:3:5"]}, ("1:2:3:5", "does not exist on UM")),
        Case("keys as a plain string", W, {"keys": "abc"}, ("does not exist on UM",),
             doc="a string is read as a one-element list, then looked up"),
        Case("info key with /", INFO, {"key": "a/b"}, bad_key),
        # -- timeouts and intervals -------------------------------------------------------------
        Case("timeout negative", W, {"key": done, "timeout": -5}, ("timeout", "out of range")),
        Case("timeout zero", W, {"key": done, "timeout": 0}, ("timeout", "out of range")),
        Case("timeout absurd (1e12)", W, {"key": done, "timeout": 1e12}, ("timeout 1", "out of range")),
        Case("timeout infinite", W, {"key": done, "timeout": "inf"}, ("timeout inf", "out of range")),
        Case("timeout NaN", W, {"key": done, "timeout": "nan"}, ("timeout", "out of range")),
        Case("timeout not a number", W, {"key": done, "timeout": "soon"}, ("timeout", "float")),
        Case("poll_interval zero", W, {"key": done, "poll_interval": 0}, ("poll_interval 0", "out of range")),
        Case("poll_interval negative", W, {"key": done, "poll_interval": -1}, ("poll_interval -1", "out of range")),
        Case("max_poll_interval below poll_interval", W, {"key": done, "poll_interval": 10, "max_poll_interval": 5},
             ("max_poll_interval",)),
        Case("long_poll_timeout zero", W, {"key": done, "long_poll_timeout": 0}, ("long_poll_timeout", "out of range")),
        Case("long_poll_timeout absurd", W, {"key": done, "long_poll_timeout": 100000},
             ("long_poll_timeout", "out of range")),
        Case("long_poll not a choice", W, {"key": done, "long_poll": "sometimes"}, ("long_poll", "one of")),
        Case("progress_interval negative", W, {"key": done, "progress_interval": -5}, (),
             ok=lambda r: not r["failed"] and r["outcomes"] == {done: "normal"},
             doc="treated like 0: no progress lines"),
        Case("request_timeout zero", W, {"key": done, "request_timeout": 0}, ("request_timeout", "out of range")),
        Case("request_timeout negative", W, {"key": done, "request_timeout": -1}, ("request_timeout", "out of range")),
        Case("um_request wait: true, timeout negative", R,
             {"path": "/storage-provider/luns", "wait": True, "timeout": -1}, ("timeout", "out of range")),
        Case("info max_records zero", INFO, {"max_records": 0}, ("max_records", "at least 1")),
        Case("info max_records negative", INFO, {"max_records": -5}, ("max_records", "at least 1")),
        # -- connection options -----------------------------------------------------------------
        Case("hostname empty", INFO, {"hostname": ""}, ("missing hostname (or UM_HOSTNAME)",)),
        Case("hostname blank", INFO, {"hostname": "   "}, ("missing hostname (or UM_HOSTNAME)",)),
        Case("hostname with a scheme", INFO, {"hostname": "https://127.0.0.1"}, ("holds a scheme",)),
        Case("hostname with a path", INFO, {"hostname": "127.0.0.1/api"}, ("not a host name",)),
        Case("hostname with a port", INFO, {"hostname": "127.0.0.1:443"}, ("holds a port",)),
        Case("hostname with user info", INFO, {"hostname": "admin@127.0.0.1"}, ("not a host name",)),
        Case("hostname unresolvable", INFO, {"hostname": "no-such-um.invalid"}, ("does not resolve",)),
        Case("http_port zero", INFO, {"http_port": 0}, ("http_port", "out of range")),
        Case("http_port 70000", INFO, {"http_port": 70000}, ("http_port", "out of range")),
        Case("http_port negative", INFO, {"http_port": -1}, ("http_port", "out of range")),
        Case("http_port not a number", INFO, {"http_port": "https"}, ("http_port", "int")),
        Case("http_port closed", INFO, {"http_port": _free_port()}, ("cannot reach", "refused")),
        Case("wrong password", INFO, {"password": reltools.WRONG_PASSWORD}, ("HTTP 401", "authentication failed")),
        Case("empty username", INFO, {"username": ""}, ("missing username (or UM_USERNAME)",)),
        Case("TLS: unknown CA in ca_path", INFO, {"ca_path": other_ca}, ("could not be verified", "ca_path")),
        Case("TLS: default verification, no ca_path", INFO, {"ca_path": None}, ("could not be verified", "ca_path")),
        Case("ca_path: no such file", INFO, {"ca_path": "/nonexistent/um-ca.pem"}, ("ca_path", "/nonexistent/um-ca.pem")),
        Case("ca_path: not a PEM file", INFO, {"ca_path": garbage_ca}, ("ca_path",)),
        # -- um_request: paths, methods, bodies -------------------------------------------------
        Case("path absolute URL", R, {"path": "https://evil.example/api/x"}, ("is a URL",)),
        Case("path scheme-relative URL", R, {"path": "//evil.example/api/x"}, ("is a URL",)),
        Case("path traversal", R, {"path": "/storage-provider/../../_umsim/faults"}, ("'..' segment",)),
        Case("path traversal, percent-encoded", R, {"path": "/storage-provider/%2e%2e/%2E%2E/_umsim/counters"},
             ("'..' segment",), doc="refused before sending: an encoded '..' is a '..' segment for most servers"),
        Case("path with a query", R, {"path": "/storage-provider/luns?max_records=1"}, ("'?' or '#'",)),
        Case("path empty", R, {"path": ""}, ("path is empty",)),
        Case("path with spaces", R, {"path": "/storage provider/luns"}, ("spaces",)),
        Case("path non-ASCII", R, {"path": "/storage-provider/l\u00fcns"}, ("non-ASCII",)),
        Case("method PUT", R, {"method": "PUT", "path": "/storage-provider/luns"}, ("method", "one of")),
        Case("method TRACE", R, {"method": "TRACE", "path": "/storage-provider/luns"}, ("method", "one of")),
        Case("body not JSON", R, {"method": "POST", "path": "/storage-provider/luns", "body": "{not json"},
             ("not valid JSON",)),
        Case("body a JSON array string", R, {"method": "POST", "path": "/storage-provider/luns", "body": "[1, 2]"},
             ("JSON object",)),
        Case("body a list", R, {"method": "POST", "path": "/storage-provider/luns", "body": [1, 2]}, ("JSON object",)),
        Case("body a number", R, {"method": "POST", "path": "/storage-provider/luns", "body": 5}, ("JSON object",)),
        Case("body with GET", R, {"path": "/storage-provider/luns", "body": {"a": 1}}, ("only sent with POST or PATCH",)),
        Case("info key and a filter", INFO, {"key": done, "name": "x"}, ("mutually exclusive",)),
        # -- job answers the collection must read ------------------------------------------------
        Case("job state unknown (simulator)", W, {"key": strange, **fast}, ("timed out", "'pending'"),
             doc="an unknown state is treated as running and reported in a warning",
             extra={"warning": "frobnicating"}),
        Case("job in the vendor's prose style, upper case", W, {"key": prose}, (),
             ok=lambda r: not r["failed"] and r["outcomes"] == {prose: "normal"},
             doc="state NORMAL is terminal and a success"),
        Case("job answer not JSON", W, {"key": "fake-notjson", **fast}, ("timed out", "not JSON"), against="fake"),
        Case("job answer without key", W, {"key": "fake-nokey", **fast}, ("timed out", "not a job object"),
             against="fake"),
        Case("job answer without state", W, {"key": "fake-nostate", **fast}, ("timed out", "'pending'"),
             against="fake", doc="a missing state is an unknown state"),
        Case("job answer: unknown status when completed", W, {"key": "fake-weirdstatus"},
             ("not a known outcome", "failure"), against="fake"),
        Case("job answer: state of the wrong type", W, {"key": "fake-statetype", **fast}, ("timed out",),
             against="fake", doc="an unknown state"),
        Case("job answer: status of the wrong type", W, {"key": "fake-statustype"}, ("not a known outcome",),
             against="fake"),
        Case("job answer: task_reports and job_results of wrong types", W, {"key": "fake-listtypes"},
             ("ended with status error",), against="fake"),
        Case("job answer: empty 204", W, {"key": "fake-204", **fast}, ("timed out", "not a job object"),
             against="fake"),
        Case("job answer: a JSON list", W, {"key": "fake-list", **fast}, ("timed out", "not a job object"),
             against="fake"),
        Case("um_request answer: empty 204", R, {"method": "DELETE", "path": "/storage-provider/luns/x204"}, (),
             ok=lambda r: not r["failed"] and r["status"] == 204 and r["json"] is None and "job_key" not in r,
             doc="204 is a success without a body", against="fake"),
        Case("um_request answer: 200 not JSON", R, {"path": "/storage-provider/html"}, ("not JSON",), against="fake"),
        Case("um_request answer: 202 without a job", R, {"method": "POST", "path": "/storage-provider/data-placement",
                                                         "body": {"size": 1}, "wait": True}, (),
             ok=lambda r: not r["failed"] and r["status"] == 202 and "job_key" not in r,
             doc="a 202 without a job is returned as is; nothing to wait for"),
        Case("um_request answer: 202 with a malformed job key", R,
             {"method": "POST", "path": "/storage-provider/badkey", "body": {"name": "x"}}, bad_key, against="fake"),
        Case("um_request answer: 500 with an HTML body", R, {"path": "/storage-provider/html500"},
             ("HTTP 500", "internal error"), against="fake"),
        Case("um_request answer: unexpected 3xx", R, {"path": "/storage-provider/redirect"},
             ("redirect", "does not follow"), against="fake"),
        Case("um_job_info answer: records not a list", INFO, {"name": "x"}, ("not a list of records",), against="fake"),
    ]
    return cases


def fake_routes(ca_port: int) -> dict[str, t.Any]:
    jobs = "/api/management-server/jobs/"
    run = {"state": "running", "status": "normal"}
    return {
        jobs + "fake-notjson": Canned(200, "<html><body>Service Unavailable</body></html>", content_type="text/html"),
        jobs + "fake-nokey": Canned(200, {"state": "completed", "status": "normal"}),
        jobs + "fake-nostate": Canned(200, {"key": "fake-nostate", "status": "normal"}),
        jobs + "fake-weirdstatus": Canned(200, {"key": "fake-weirdstatus", "state": "completed", "status": "so-so"}),
        jobs + "fake-statetype": Canned(200, {"key": "fake-statetype", "state": 5, "status": "normal"}),
        jobs + "fake-statustype": Canned(200, {"key": "fake-statustype", "state": "completed", "status": ["error"]}),
        jobs + "fake-listtypes": Canned(200, {"key": "fake-listtypes", "state": "completed", "status": "error",
                                              "task_reports": "oops", "job_results": {"a": 1},
                                              "spawned_job_summary": {"total_jobs": "many"}}),
        jobs + "fake-204": Canned(204, b""),
        jobs + "fake-list": Canned(200, [run]),
        "/api/storage-provider/luns/x204": Canned(204, b""),
        "/api/storage-provider/html": Canned(200, "<html>login</html>", content_type="text/html"),
        "/api/storage-provider/badkey": Canned(202, {"job": {"key": "../../etc/passwd"}}),
        "/api/storage-provider/html500": Canned(500, "<html>Internal Server Error</html>", content_type="text/html"),
        "/api/storage-provider/redirect": Canned(302, b"", {"Location": f"https://127.0.0.1:{ca_port}/elsewhere"}),
        "/api/management-server/jobs": Canned(200, {"records": "x", "num_records": 1}),
    }


@pytest.mark.timeout(300)
def test_bad_input_table(sim: reltools.SimProc, collections: t.Any, tmp_path: t.Any) -> None:
    done = sim.start_job(script_for("normal", 0.1))
    prose = sim.start_job({"duration": 0.1, "status": "normal", "style": "prose", "upper": True})
    strange = sim.start_job({"duration": 0.1, "state": "frobnicating"})
    other = trustme.CA()
    other_ca = tmp_path / "other-ca.pem"
    other.cert_pem.write_to_path(str(other_ca))
    garbage_ca = tmp_path / "garbage-ca.pem"
    garbage_ca.write_text("this is not a certificate\n")
    fake_ca = trustme.CA()
    fake_ca_file = tmp_path / "fake-ca.pem"
    fake_ca.cert_pem.write_to_path(str(fake_ca_file))
    fake = LoopbackUM(fake_ca)
    fake.routes.update(fake_routes(fake.port))
    cases = build_cases(done, prose, strange, str(other_ca), str(garbage_ca))
    assert len(cases) >= 40
    hosts = {}
    for i, case in enumerate(cases):
        if case.against == "fake":
            conn = {"hostname": "127.0.0.1", "http_port": fake.port, "username": reltools.USER,
                    "password": reltools.PASSWORD, "ca_path": str(fake_ca_file), "request_timeout": 5}
        else:
            conn = sim.connection(request_timeout=5)
        args = {**conn, **case.args}
        args = {k: v for k, v in args.items() if v is not None}
        hosts[f"case{i:03d}"] = {"module": case.module, "args": args}
    try:
        run = reltools.run_cases(collections, reltools.new_tmp("bad-input-"), hosts, forks=8, timeout=240)
    finally:
        fake.close()
    problems = []
    right = within = 0
    for host, case in zip(hosts, cases):
        res = run.result(host)
        took = run.seconds.get(host, 999.0)
        msg = res.get("msg", "")
        clean = reltools.no_traceback(res)
        if case.ok is not None:
            good = clean and bool(case.ok(res))
        else:
            good = res.get("failed") is True and reltools.one_line(msg) and clean \
                and all(f in msg for f in case.expect)
        if case.extra.get("warning"):
            good = good and any(case.extra["warning"] in w for w in res.get("warnings") or [])
        right += good
        within += took <= case.bound
        if not good or took > case.bound:
            problems.append(f"{case.id} [{case.module}] ({took:.1f}s): failed={res.get('failed')} msg={msg!r} "
                            f"expected={case.expect or case.doc} clean={clean}")
    by_module = {m: sum(c.module == m for c in cases) for m in reltools.MODULES}
    reltools.RESULTS.add(Row("bad input", "table of cases (keys, timeouts, connection, TLS, paths, methods, bodies, "
                             "server answers)", len(cases), right, len(cases) - right, f"<= {CASE_BOUND:g}s per case",
                             within, "one Ansible task per case; right = failed with a one-line message holding the "
                             "expected words (or the documented behaviour), no traceback; cases by module: "
                             + ", ".join(f"{m} {n}" for m, n in by_module.items()), round(run.wall, 1)))
    reltools.RESULTS.extra["bad_input_cases"] = [
        {"case": c.id, "module": c.module, "expect": " / ".join(c.expect) or c.doc,
         "msg": run.result(h).get("msg", "")[:300]} for h, c in zip(hosts, cases)]
    assert not problems, f"{len(problems)} of {len(cases)} cases wrong:\n" + "\n".join(problems)
