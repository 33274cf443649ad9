# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""UMClient against a real HTTPS server on the loopback interface (http.server + a trustme CA)."""

from __future__ import annotations

import base64
import json
import socket
import time
import typing as t
from http import HTTPStatus

import pytest
import trustme

from ansible_collections.aiqum.jobs.plugins.module_utils import _client, _transport
from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._paths import check_api_path, check_hostname, encode_segment
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import (
    UMConfigError,
    UMConnectionError,
    UMError,
    UMHTTPError,
    UMOperationUncertain,
    UMResponseError,
    UMResponseTooLarge,
    UMTLSError,
)

from ansible_collections.aiqum.jobs.tests.hostile_server import HostileServer, Reply

USER = "storage_admin"
PASSWORD = "pw-S3cret!Zq9"
REQUEST_TIMEOUT = 5.0
KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
KEY_PATH = "/api/management-server/jobs/2c6002305af315d6%3A-36e66c%3A16e3ae18e35%3A-7ff4"
DROP = "drop"


def _reply(action: t.Any) -> Reply:
    """A test's action as a hostile_server Reply: (status, payload[, headers]) with a dict/list payload sent as
    JSON and a str one as HTML; DROP (the request is read, no answer); ("hang", seconds); ("trickle", body,
    delay): a byte at a time under a true Content-Length; ("chunked", body, delay): chunks that never end."""
    if action == DROP:
        return Reply(None)
    if action[0] == "hang":
        return Reply(None, hang=action[1])
    if action[0] in ("trickle", "chunked"):
        kind, body, delay = action
        return Reply(200, body, {"Content-Type": "application/json"}, reason="OK",
                     byte_delay=delay if kind == "trickle" else 0.0, head_first=True,
                     endless=delay if kind == "chunked" else None)
    status, payload, headers = (tuple(action) + (None, None))[:3]
    heads = dict(headers or {})
    if isinstance(payload, (dict, list)):
        body, ctype = json.dumps(payload), "application/json"
    else:
        body, ctype = payload or "", "text/html"
    if status != 204:
        heads["Content-Type"] = ctype
    return Reply(status, body.encode(), heads, reason=HTTPStatus(status).phrase, length=status != 204)


class LoopbackUM(HostileServer):
    """The one loopback fake (tests/hostile_server.py) over TLS; each test sets `handler(seen) -> action` (_reply)."""

    def __init__(self, cert: trustme.LeafCert) -> None:
        super().__init__(cert)
        self.reset()

    def reset(self, handler=None) -> None:
        self.handler = handler or (lambda seen: (200, {}))
        self.script(lambda req: _reply(self.handler(req)))

    def stop(self) -> None:
        self.close()


@pytest.fixture(scope="module")
def servers(pki):
    one, two = LoopbackUM(pki["leaf"]), LoopbackUM(pki["leaf"])
    yield one, two
    one.stop()
    two.stop()


@pytest.fixture
def um(servers):
    servers[0].reset()
    servers[1].reset()
    return servers[0]


@pytest.fixture
def elsewhere(servers):
    return servers[1]


@pytest.fixture
def client(make_client):
    return make_client()


def assert_no_secret(exc: BaseException) -> None:
    creds = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for text in (str(exc), repr(getattr(exc, "details", {}))):
        assert PASSWORD not in text
        assert creds not in text
        assert "authorization" not in text.lower()


def raises(exc_type, fn, *args, **kw):
    with pytest.raises(exc_type) as err:
        fn(*args, **kw)
    assert_no_secret(err.value)
    assert "\n" not in str(err.value)
    return err.value


# -- what goes out ---------------------------------------------------------------------------------

def test_basic_auth_and_headers(um, client):
    um.reset(lambda seen: (200, {"records": [], "num_records": 0}))
    answer = client.request("GET", "/datacenter/svm/svms",
                            params={"name": ["svm1", "svm2"], "max_records": 5, "force": True, "skip": None})
    assert answer.status == 200 and answer.data == {"records": [], "num_records": 0}
    (seen,) = um.seen
    creds = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {creds}"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"].startswith("aiqum.jobs")
    assert seen.path == "/api/datacenter/svm/svms?name=svm1%7Csvm2&max_records=5&force=true"


def test_job_key_is_percent_encoded_in_the_path(um, client):
    um.reset(lambda seen: (200, {"key": KEY, "state": "running", "status": "normal"}))
    job = client.get_job(KEY)
    assert job["key"] == KEY
    assert um.seen[0].path == KEY_PATH
    client.get_job(KEY, poll_timeout=5, timeout=6.0, retry=False)
    assert um.seen[1].path == KEY_PATH + "?poll_timeout=5"


def test_path_parameters_cannot_change_the_path(um, client):
    key = "admin/backup?x=1#y"
    um.reset(lambda seen: (200, {"key": key}))
    client.get_job(key)
    assert um.seen[0].path == "/api/management-server/jobs/admin%2Fbackup%3Fx%3D1%23y"
    assert encode_segment("a b/c:d") == "a%20b%2Fc%3Ad"


def test_a_key_that_climbs_out_is_refused_before_sending(um, client):
    err = raises(UMConfigError, client.get_job, "../../admin/backup?x=1#y")
    assert "'..'" in str(err)
    assert um.seen == []


def test_get_job_refuses_an_answer_that_is_not_a_job(um, client):
    um.reset(lambda seen: (200, {"records": []}))
    err = raises(UMResponseError, client.get_job, KEY)
    assert KEY in str(err)


def test_json_body_is_sent_with_its_content_type(um, client):
    job = {"job": {"key": KEY, "_links": {"self": {"href": KEY_PATH}}}}
    um.reset(lambda seen: (202, job))
    answer = client.request("POST", "/storage-provider/luns", body={"name": "lun1", "size": {"value": 10}})
    assert answer.status == 202 and answer.data == job
    (seen,) = um.seen
    assert seen.method == "POST" and seen.path == "/api/storage-provider/luns"
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == {"name": "lun1", "size": {"value": 10}}


def test_201_and_204(um, client):
    um.reset(lambda seen: (201, {"key": "ds1", "name": "cluster1"}))
    assert client.request("POST", "/admin/datasources/clusters", body={"address": "c1"}).data["key"] == "ds1"
    um.reset(lambda seen: (204, None))
    answer = client.request("DELETE", "/storage-provider/luns/x")
    assert answer.status == 204 and answer.data is None


# -- errors from UM ----------------------------------------------------------------------------------

def test_error_body_becomes_um_http_error(um, client):
    um.reset(lambda seen: (409, {"error": {"code": "65544", "message": "LUN lun1 already exists.", "target": "name"}}))
    err = raises(UMHTTPError, client.request, "POST", "/storage-provider/luns", body={"name": "lun1"})
    assert (err.status, err.code, err.um_message, err.target) == (409, "65544", "LUN lun1 already exists.", "name")
    assert str(err).startswith("POST /storage-provider/luns: HTTP 409")
    assert "UM says: LUN lun1 already exists. (target: name)" in str(err)
    assert err.details["um_error"] == {"code": "65544", "message": "LUN lun1 already exists.", "target": "name"}
    assert len(um.seen) == 1


def test_401_without_body(um, client):
    um.reset(lambda seen: (401, None, {"WWW-Authenticate": 'Basic realm="umrealm"'}))
    err = raises(UMHTTPError, client.get, "/datacenter/svm/svms")
    assert err.status == 401 and err.um_message is None
    assert "authentication failed" in str(err) and "username and password" in str(err)
    assert len(um.seen) == 1, "a 401 is not worth asking again"


def test_403_names_the_role_problem(um, client):
    um.reset(lambda seen: (403, {"error": {"code": "403", "message": "Access denied."}}))
    err = raises(UMHTTPError, client.request, "DELETE", "/storage-provider/luns/x")
    assert "role" in str(err) and "Access denied." in str(err)


def test_get_is_retried_on_503_then_succeeds(um, client):
    answers = iter([(503, {"error": {"message": "starting"}}), (503, None), (200, {"ok": True})])
    um.reset(lambda seen: next(answers))
    assert client.get("/admin/backup-settings") == {"ok": True}
    assert len(um.seen) == 3


def test_get_gives_up_after_read_retries(um, make_client):
    client = make_client(read_retries=2)
    um.reset(lambda seen: (500, {"error": {"code": "1", "message": "Internal error."}}))
    err = raises(UMHTTPError, client.get, "/storage-provider/luns")
    assert err.status == 500 and err.transient and "Internal error." in str(err)
    assert len(um.seen) == 3


def test_429_retry_after_is_honoured(um, client):
    answers = iter([(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}), (200, {"ok": 1})])
    um.reset(lambda seen: next(answers))
    assert client.get("/storage-provider/luns") == {"ok": 1}
    assert len(um.seen) == 2
    gap = um.seen[1].at - um.seen[0].at
    assert 0.9 <= gap < 5.0, gap


def test_get_without_retry_is_sent_once_and_reports_retry_after(um, client):
    um.reset(lambda seen: (503, {"error": {"message": "busy"}}, {"Retry-After": "4"}))
    err = raises(UMHTTPError, client.get_job, KEY, retry=False)
    assert err.status == 503 and err.transient and err.retry_after == 4.0
    assert len(um.seen) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
def test_write_is_never_resent_on_503(um, client, method):
    um.reset(lambda seen: (503, {"error": {"message": "busy"}}, {"Retry-After": "1"}))
    body = {"name": "x"} if method in ("POST", "PATCH", "PUT") else None
    err = raises(UMHTTPError, client.request, method, "/storage-provider/luns", body=body)
    assert err.status == 503
    assert len(um.seen) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_write_whose_answer_is_lost_is_uncertain_and_not_resent(um, client, method):
    um.reset(lambda seen: DROP)
    err = raises(UMOperationUncertain, client.request, method, "/storage-provider/luns", body=None)
    assert len(um.seen) == 1
    msg = str(err)
    assert msg.startswith(f"{method} /storage-provider/luns:")
    assert "may have" in msg and "started" in msg
    assert "NOT sent again" in msg and "um_job_info" in msg
    assert err.details.get("operation_uncertain") is True


def test_write_read_timeout_is_uncertain(um, make_client):
    client = make_client(request_timeout=0.5)
    um.reset(lambda seen: ("hang", 3.0))
    started = time.monotonic()
    err = raises(UMOperationUncertain, client.request, "POST", "/storage-provider/luns", body={"name": "x"})
    assert time.monotonic() - started < 2.5
    assert "0.5s" in str(err)
    assert len(um.seen) == 1
    um.release.set()


def test_get_whose_answer_is_lost(um, client):
    answers = iter([DROP, (200, {"ok": True})])
    um.reset(lambda seen: next(answers))
    assert client.get("/storage-provider/luns") == {"ok": True}
    assert len(um.seen) == 2
    um.reset(lambda seen: DROP)
    err = raises(UMConnectionError, client.get_job, KEY, retry=False)
    assert err.sent is True and not isinstance(err, UMOperationUncertain)
    assert len(um.seen) == 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connection_refused(make_client, method):
    client = make_client(port=free_port())
    err = raises(UMConnectionError, client.request, method, "/storage-provider/luns")
    assert not isinstance(err, (UMTLSError, UMOperationUncertain))
    assert err.sent is False
    assert "check hostname, http_port" in str(err)
    assert "refused" in str(err).lower()


# -- TLS ---------------------------------------------------------------------------------------------

def test_unknown_ca_is_a_tls_error_that_points_at_ca_path(um, make_client):
    client = make_client(ca_path=None)
    err = raises(UMTLSError, client.get, "/storage-provider/luns")
    assert isinstance(err, UMConnectionError)
    assert "ca_path" in str(err)
    assert "validate_certs" not in str(err)
    assert "certificate verify failed" in str(err)
    assert um.seen == []


def test_wrong_ca_file_names_the_file(um, make_client, pki):
    client = make_client(ca_path=pki["other_file"])
    err = raises(UMTLSError, client.request, "POST", "/storage-provider/luns", body={"a": 1})
    assert pki["other_file"] in str(err) and "ca_path" in str(err)
    assert "validate_certs" not in str(err)
    assert um.seen == []


def test_ca_path_is_not_overridden_by_the_environment(um, make_client, pki, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["other_file"])
    monkeypatch.setenv("CURL_CA_BUNDLE", pki["other_file"])
    assert make_client().get("/x") == {}
    assert make_client(validate_certs=False, ca_path=None).get("/x") == {}
    assert len(um.seen) == 2


def test_validate_certs_false(um, make_client):
    assert make_client(validate_certs=False, ca_path=None).get("/x") == {}


# -- redirects and odd answers -----------------------------------------------------------------------

@pytest.mark.parametrize("status, method", [(302, "GET"), (301, "GET"), (307, "POST"), (308, "DELETE")])
def test_redirects_are_not_followed(um, elsewhere, client, status, method):
    location = f"https://127.0.0.1:{elsewhere.port}/api/storage-provider/luns"
    um.reset(lambda seen: (status, None, {"Location": location}))
    err = raises(UMResponseError, client.request, method, "/storage-provider/luns")
    assert "redirect" in str(err) and str(status) in str(err)
    assert len(um.seen) == 1
    assert elsewhere.seen == [], "credentials were sent to the redirect target"


def test_non_json_200_is_a_response_error(um, client):
    um.reset(lambda seen: (200, "<html><body>Maintenance</body></html>"))
    err = raises(UMResponseError, client.get, "/storage-provider/luns")
    assert "not JSON" in str(err) and "<html>" in str(err)


def test_non_json_error_is_still_an_http_error(um, client):
    um.reset(lambda seen: (502, "<html>Bad gateway</html>"))
    err = raises(UMHTTPError, client.get, "/storage-provider/luns", retry=False)
    assert err.status == 502 and err.um_message is None and err.transient


# -- paging ------------------------------------------------------------------------------------------

def paged(seen):
    pages = {
        "/api/management-server/jobs?state=running&order_by=submit_time+desc&max_records=3":
            ({"records": [{"key": "a"}, {"key": "b"}]},
             "/api/management-server/jobs?state=running&max_records=2&offset=2&order_by=submit_time%20desc"),
        "/api/management-server/jobs?state=running&max_records=2&offset=2&order_by=submit_time%20desc":
            ({"records": [{"key": "c"}, {"key": "d"}]},
             "/api/management-server/jobs?state=running&max_records=2&offset=4&order_by=submit_time%20desc"),
        "/api/management-server/jobs?state=running&max_records=2&offset=4&order_by=submit_time%20desc":
            ({"records": [{"key": "e"}]}, None),
        "/api/management-server/jobs?state=running&order_by=submit_time+desc&max_records=1000":
            ({"records": [{"key": "a"}, {"key": "b"}]},
             "/api/management-server/jobs?state=running&max_records=2&offset=2&order_by=submit_time%20desc"),
    }
    if seen.path not in pages:
        return (400, {"error": {"message": f"unexpected {seen.path}"}})
    page, nxt = pages[seen.path]
    page = dict(page, _links={"self": {"href": seen.path}})
    if nxt:
        page["_links"]["next"] = {"href": nxt}
    return (200, page)


def test_iter_records_follows_next_as_given_and_stops_at_limit(um, client):
    um.reset(paged)
    records = list(client.iter_records("/management-server/jobs", {"state": "running", "order_by": "submit_time desc"},
                                       limit=3))
    assert [r["key"] for r in records] == ["a", "b", "c"]
    assert [s.path for s in um.seen] == [
        "/api/management-server/jobs?state=running&order_by=submit_time+desc&max_records=3",
        "/api/management-server/jobs?state=running&max_records=2&offset=2&order_by=submit_time%20desc",
    ]


def test_iter_records_reads_every_page_without_limit(um, client):
    um.reset(paged)
    records = list(client.iter_records("/management-server/jobs", {"state": "running", "order_by": "submit_time desc"}))
    assert [r["key"] for r in records] == ["a", "b", "c", "d", "e"]
    assert len(um.seen) == 3


@pytest.mark.parametrize("href", ["https://evil.example.com/api/management-server/jobs?offset=2",
                                  "//evil.example.com/api/x", "/elsewhere/jobs?offset=2"])
def test_iter_records_refuses_a_next_link_off_the_api(um, client, href):
    um.reset(lambda seen: (200, {"records": [{"key": "a"}], "_links": {"next": {"href": href}}}))
    gen = client.iter_records("/management-server/jobs")
    assert next(gen) == {"key": "a"}
    raises(UMResponseError, next, gen)
    assert len(um.seen) == 1


def test_iter_records_refuses_a_non_list(um, client):
    um.reset(lambda seen: (200, {"records": "nope"}))
    raises(UMResponseError, list, client.iter_records("/management-server/jobs"))


# -- option checks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path, expected", [
    ("/storage-provider/luns", "/storage-provider/luns"),
    ("storage-provider/luns", "/storage-provider/luns"),
    ("/api/storage-provider/luns", "/storage-provider/luns"),
    (" /api/management-server/jobs/a%3Ab ", "/management-server/jobs/a%3Ab"),
    ("/api", "/"),
    ("/apiary/x", "/apiary/x"),
])
def test_check_api_path_accepts(path, expected):
    assert check_api_path(path) == expected


@pytest.mark.parametrize("path, words", [
    ("https://um.example.com/api/storage-provider/luns", "URL"),
    ("http://x/y", "URL"), ("//um.example.com/api/x", "URL"),
    ("/storage-provider/../admin", ".."), ("..", ".."), ("/api/../x", ".."), ("/a/./b", "'.'"),
    ("/storage-provider/luns?max_records=1", "query"), ("/luns#frag", "query"),
    ("/storage provider/luns", "spaces"), ("/storage-provider/lun\u00e9", "non-ASCII"), ("/a\nb", "control"),
    ("", "empty"), ("   ", "empty"), (None, "empty"),
])
def test_check_api_path_refuses(path, words):
    err = raises(UMConfigError, check_api_path, path)
    assert words in str(err)


@pytest.mark.parametrize("host, expected", [
    ("um.example.com", "um.example.com"), (" 10.0.0.5 ", "10.0.0.5"), ("::1", "::1"), ("[fe80::1]", "fe80::1"),
])
def test_check_hostname_accepts(host, expected):
    assert check_hostname(host) == expected


@pytest.mark.parametrize("host, words", [
    ("https://um.example.com", "scheme"), ("um.example.com:8443", "http_port"), ("um.example.com/api", "not a host"),
    ("admin@um.example.com", "not a host"), ("um.example.com?x", "not a host"), ("um example", "not a host"),
    ("", "empty"), ("  ", "empty"), (None, "empty"),
])
def test_check_hostname_refuses(host, words):
    err = raises(UMConfigError, check_hostname, host)
    assert words in str(err)


@pytest.mark.parametrize("fn, value", [
    (check_api_path, f"https://{USER}:{PASSWORD}@um.example.com/api/storage-provider/luns"),
    (check_api_path, f"//{USER}:{PASSWORD}@um.example.com/api/x"),
    (check_hostname, f"https://{USER}:{PASSWORD}@um.example.com"),
    (check_hostname, f"{USER}:{PASSWORD}@um.example.com"),
])
def test_option_messages_do_not_echo_credentials(fn, value):
    err = raises(UMConfigError, fn, value)
    assert "um.example.com" in str(err)


def test_client_options_are_checked():
    raises(UMConfigError, UMClient, "um", USER, PASSWORD, port=0)
    raises(UMConfigError, UMClient, "um", USER, PASSWORD, port=70000)
    raises(UMConfigError, UMClient, "um", USER, PASSWORD, request_timeout=0)
    raises(UMConfigError, UMClient, "https://um", USER, PASSWORD)
    client = UMClient("::1", USER, PASSWORD, port=8443)
    assert client.base_url == "https://[::1]:8443/api"
    client.close()


def test_no_message_ever_holds_the_password(um, make_client, pki):
    """Every failure path of the client, once more, looking only for leaked credentials."""
    failures: list[UMError] = []

    def collect(fn, *args, **kw):
        try:
            fn(*args, **kw)
        except UMError as exc:
            failures.append(exc)

    client = make_client()
    for handler in (lambda s: (401, None), lambda s: (500, {"error": {"message": "boom"}}), lambda s: DROP,
                    lambda s: (302, None, {"Location": "https://x/"}), lambda s: (200, "not json")):
        um.reset(handler)
        collect(client.request, "POST", "/storage-provider/luns", body={"password": "not-the-um-one"})
        collect(client.get, "/storage-provider/luns", retry=False)
    collect(make_client(ca_path=None).get, "/x")
    collect(make_client(ca_path=pki["other_file"]).get, "/x")
    collect(make_client(port=free_port()).get, "/x")
    assert len(failures) == 13
    for exc in failures:
        assert_no_secret(exc)


def test_a_read_that_times_out_after_retries_says_so(um, make_client):
    um.reset(lambda seen: ("hang", 5))
    client = make_client(request_timeout=0.3, read_retries=1)
    err = raises(UMConnectionError, client.get, "/storage-provider/luns")
    assert "UM did not answer within 0.3s (request_timeout); tried 2 times" in str(err)
    assert len(um.seen) == 2, "a GET that timed out is read again once"
    um.release.set()


def test_a_missing_ca_file_is_a_clear_config_error(um, tmp_path):
    err = raises(UMConfigError, UMClient, "127.0.0.1", USER, PASSWORD, port=um.port, ca_path=str(tmp_path / "nope.pem"))
    assert "ca_path" in str(err) and "not a readable file" in str(err)
    assert "validate_certs" not in str(err)


@pytest.mark.parametrize("path", ["/storage-provider/%2e%2e/%2E%2E/_umsim/counters", "/a/%2E/b", "/%2e%2E"])
def test_check_api_path_refuses_encoded_dot_segments(path):
    err = raises(UMConfigError, check_api_path, path)
    assert "'..'" in str(err)


# -- a time budget and a size cap for every answer (issue 10, 6) -------------------------------------

@pytest.mark.parametrize("action", [
    ("trickle", json.dumps({"key": "1:2:3:4", "state": "running", "pad": "x" * 400}).encode(), 0.05),
    ("chunked", b'{"key": "1:2:3:4", ', 0.05),
])
def test_a_trickled_or_endless_answer_ends_at_the_request_budget(um, make_client, action):
    """The budget covers the whole answer, not one socket read: a server that trickles cannot hold a wait."""
    um.reset(lambda seen: action)
    client = make_client(request_timeout=1.5)
    started = time.monotonic()
    err = raises(UMResponseError, client.get_job, "1:2:3:4", retry=False)
    took = time.monotonic() - started
    um.release.set()
    assert "did not arrive whole within 1.5s" in str(err) and err.sent is True and err.status == 200
    assert 1.4 <= took <= 2.5


def test_a_write_whose_answer_trickles_past_the_budget_is_uncertain_not_resent(um, make_client):
    um.reset(lambda seen: ("trickle", json.dumps({"job": {"key": "1:2:3:4"}, "pad": "y" * 200}).encode(), 0.05))
    client = make_client(request_timeout=1.0)
    err = raises(UMResponseError, client.request, "POST", "/storage-provider/luns", body={"name": "l"})
    um.release.set()
    assert "NOT sent again" in str(err) and err.details["operation_uncertain"] is True
    assert [s.method for s in um.seen] == ["POST"]


def test_an_announced_huge_answer_is_refused_before_it_is_read(um, client):
    # A true Content-Length far over the cap: the client refuses without reading the body.
    um.reset(lambda seen: ("trickle", b" " * (_transport.MAX_BODY + 1), 0.0))
    started = time.monotonic()
    err = raises(UMResponseTooLarge, client.get, "/management-server/jobs")
    um.release.set()
    assert "MiB" in str(err) and time.monotonic() - started < 2.0


def test_an_unannounced_huge_answer_is_cut_at_the_cap(um, client, monkeypatch):
    monkeypatch.setattr(_transport, "MAX_BODY", 1024 * 1024)
    um.reset(lambda seen: ("chunked", b'{"records": [', 0))
    err = raises(UMResponseTooLarge, client.get, "/management-server/jobs")
    um.release.set()
    assert "larger than 1 MiB" in str(err)


@pytest.mark.parametrize("version", ["1.26.5", "2.0.7", "2.1.0"])
def test_an_urllib3_older_than_2_2_is_refused_with_one_line(monkeypatch, pki, version):
    """urllib3 1.26 (RHEL 8/9 system Python) has no backoff jitter; before 2.2 a slow body read ignores the budget."""
    monkeypatch.setattr(_client.urllib3, "__version__", version)
    err = raises(UMConfigError, UMClient, "127.0.0.1", USER, PASSWORD, ca_path=pki["ca_file"])
    assert str(err) == (f"urllib3 {version} is too old on the host that runs this module: it needs urllib3 2.2 or "
                        "later (pip install 'requests>=2.30' 'urllib3>=2.2')")
    assert "\n" not in str(err)


@pytest.mark.parametrize("version", ["2.2.0", "2.8.0", "3.0.0rc1"])
def test_an_urllib3_from_2_2_is_accepted(monkeypatch, pki, version):
    monkeypatch.setattr(_client.urllib3, "__version__", version)
    UMClient("127.0.0.1", USER, PASSWORD, ca_path=pki["ca_file"]).close()
