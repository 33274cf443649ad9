# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""UMClient against a broken or hostile server (tests/hostile_server.py): what it reports, never raises, never leaks."""

from __future__ import annotations

import base64
import json
import socket

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._paths import check_api_path, check_hostname
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import (
    UMConfigError,
    UMConnectionError,
    UMError,
    UMHTTPError,
    UMOperationUncertain,
    UMProxyError,
    UMRedirectError,
    UMResponseError,
    UMTLSError,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._text import TOO_DEEP, mask_userinfo, one_line, tame_json
from ansible_collections.aiqum.jobs.tests.hostile_server import HostileServer, Reply

USER = "storage_admin"
PASSWORD = "P@ssw0rd!"
REQUEST_TIMEOUT = 2.0
KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
ESC = "\x1b"


@pytest.fixture(scope="module")
def servers(pki):
    made = {"um": HostileServer(pki["leaf"]), "proxy": HostileServer(None), "wrong": HostileServer(pki["wrong"])}
    yield made
    for server in made.values():
        server.close()


@pytest.fixture
def um(servers, monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for server in servers.values():
        server.script(Reply(200, {}))
    return servers["um"]


def clean(exc: BaseException, password: str = PASSWORD) -> None:
    """A message of one printable line without any part of the password or credentials."""
    text = str(exc) + repr(getattr(exc, "details", {}))
    assert password not in text
    assert password[1:] not in text and password[:-1] not in text
    assert base64.b64encode(f"{USER}:{password}".encode()).decode() not in text
    assert "authorization" not in text.lower()
    assert "\n" not in str(exc) and "\r" not in str(exc) and ESC not in str(exc)
    assert str(exc).isprintable()


def raises(kind, fn, *args, **kw):
    with pytest.raises(kind) as info:
        fn(*args, **kw)
    clean(info.value)
    return info.value


# -- 1. once a status line came back, the request was sent -----------------------------------------

@pytest.mark.parametrize("status", [200, 201, 202])
def test_a_write_answered_2xx_with_a_body_that_is_not_json_was_sent(um, make_client, status):
    um.script(Reply(status, b"<html>accepted</html>", {"Content-Type": "text/html"}))
    err = raises(UMResponseError, make_client().request, "POST", "/storage-provider/luns", body={"name": "x"})
    assert err.sent is True and err.status == status and err.details["status"] == status
    assert "not JSON" in str(err) and "um_job_info" in str(err) and "NOT sent again" in str(err)
    assert len(um.seen) == 1


def test_a_202_nested_100000_deep_is_a_one_line_failure_that_was_sent(um, make_client):
    um.script(Reply(202, b"[" * 100000 + b"]" * 100000, {"Content-Type": "application/json"}))
    err = raises(UMResponseError, make_client().request, "POST", "/storage-provider/luns", body={"name": "x"})
    assert err.sent is True and err.status == 202 and "nested too deep" in str(err)


def test_json_nested_900_deep_is_cut_not_refused(um, make_client):
    deep: object = "bottom"
    for _i in range(900):
        deep = [deep]
    um.script(Reply(200, {"key": KEY, "state": "completed", "status": "normal", "junk": deep}))
    job = make_client().get_job(KEY)
    assert job["state"] == "completed"
    level, depth = job["junk"], 0
    while isinstance(level, list):
        level, depth = level[0], depth + 1
    assert level == TOO_DEEP and depth < 40
    json.dumps(job)  # what Ansible will do with it


def test_a_lone_surrogate_in_a_job_field_is_replaced(um, make_client):
    um.script(Reply(200, '{"key": "%s", "name": "lun\\ud800x", "\\udc00": 1}' % KEY))
    job = make_client().get_job(KEY)
    assert job["name"] == "lun\ufffdx" and "\ufffd" in job
    job["name"].encode("utf-8")


def test_a_utf8_byte_order_mark_before_json_is_accepted(um, make_client):
    um.script(Reply(200, b"\xef\xbb\xbf" + json.dumps({"key": KEY}).encode(), {"Content-Type": "application/json"}))
    assert make_client().get_job(KEY) == {"key": KEY}


# -- 2. nothing reached UM: say so, and say what to fix --------------------------------------------

@pytest.mark.parametrize("status, words", [(407, "credentials"), (403, "NO_PROXY")])
def test_a_proxy_that_refuses_connect_is_a_proxy_error_and_nothing_was_sent(
        servers, um, make_client, monkeypatch, status, words):
    proxy = servers["proxy"]
    proxy.script(Reply(status, b"", {"Proxy-Authenticate": 'Basic realm="p"'}, reason="Proxy Says No"))
    monkeypatch.setenv("HTTPS_PROXY", f"http://proxyuser:{PASSWORD}@127.0.0.1:{proxy.port}")
    err = raises(UMProxyError, make_client().request, "POST", "/storage-provider/luns", body={"name": "x"})
    assert isinstance(err, UMConnectionError) and err.sent is False and err.final
    assert f"HTTP {status}" in str(err) and words in str(err) and f"127.0.0.1:{proxy.port}" in str(err)
    assert "closed before UM answered" not in str(err) and "proxyuser" not in str(err)
    assert [r.method for r in proxy.seen] == ["CONNECT"] and um.seen == []
    # and the proxy never saw UM's credentials
    assert all("authorization" not in r.headers for r in proxy.seen)


def test_a_proxy_that_is_down_is_blamed_on_the_proxy(um, make_client, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    err = raises(UMProxyError, make_client().request, "POST", "/storage-provider/luns", body={"name": "x"})
    assert "proxy" in str(err) and "HTTPS_PROXY" in str(err) and err.sent is False
    assert not err.final, "a proxy that is down may come back: not final"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tls_handshake_that_never_completes_was_not_sent(um, make_client, method):
    um.script(Reply(200, {}))
    um.handshake = "hang"
    err = raises(UMConnectionError, make_client(request_timeout=0.5).request, method, "/storage-provider/luns",
                 body={"name": "x"} if method == "POST" else None)
    assert not isinstance(err, UMOperationUncertain) and err.sent is False
    assert "nothing was sent" in str(err) and um.seen == []
    um.release.set()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_tls_handshake_reset_was_not_sent(um, make_client, method):
    um.script(Reply(200, {}))
    um.handshake = "reset"
    err = raises(UMConnectionError, make_client().request, method, "/storage-provider/luns",
                 body={"name": "x"} if method == "POST" else None)
    assert not isinstance(err, UMOperationUncertain) and err.sent is False
    assert "nothing was sent" in str(err) and um.seen == []


def test_a_port_that_is_not_https_is_a_handshake_failure_not_a_certificate_one(um, make_client):
    um.handshake = "plain"
    err = raises(UMConnectionError, make_client().request, "POST", "/storage-provider/luns", body={"name": "x"})
    assert not isinstance(err, (UMTLSError, UMOperationUncertain)) and err.sent is False and not err.final
    assert "TLS handshake" in str(err) and "http_port" in str(err) and "ca_path" not in str(err)
    assert um.seen == []


def test_an_answer_lost_after_sending_is_still_uncertain(um, make_client):
    um.script(Reply(202, {"job": {"key": KEY}}, cut_after=10))
    err = raises(UMOperationUncertain, make_client().request, "POST", "/storage-provider/luns", body={"name": "x"})
    assert len(um.seen) == 1 and "NOT sent again" in str(err)


@pytest.mark.parametrize("host", ["[::1]:8443", "[::1", "[um.example.com]", "a..b", ".um", "um-.example.com",
                                  "1:2:3", "x" * 64 + ".com", "um\x1b.example.com"])
def test_hostnames_the_url_parser_would_reject_are_refused_before_sending(host):
    err = raises(UMConfigError, UMClient, host, USER, PASSWORD)
    assert "hostname" in str(err) and err.final


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_a_final_redirect_error(um, make_client, status):
    um.script(Reply(status, b"", {"Location": "https://elsewhere.example.com/api/x"}))
    err = raises(UMRedirectError, make_client().get_job, KEY, retry=False)
    assert isinstance(err, UMResponseError) and err.final and err.sent and err.status == status
    assert "elsewhere.example.com" in str(err) and "hostname" in str(err)


# -- 3. no part of a password in any message; any password works -----------------------------------

@pytest.mark.parametrize("value", [f"{USER}:{PASSWORD}@um.example.com", f"https://{USER}:{PASSWORD}@um.example.com",
                                   f"{USER}:P@ss/w0rd#x@um.example.com"])
def test_hostname_with_user_info_masks_all_of_it(value):
    with pytest.raises(UMConfigError) as info:
        check_hostname(value)
    assert "ssw0rd" not in str(info.value) and "P@" not in str(info.value) and USER not in str(info.value)
    assert "um.example.com" in str(info.value)


@pytest.mark.parametrize("value", [f"https://{USER}:{PASSWORD}@um.example.com/api/x", f"//{USER}:{PASSWORD}@um/api/x"])
def test_path_url_with_user_info_masks_all_of_it(value):
    err = raises(UMConfigError, check_api_path, value)
    assert "ssw0rd" not in str(err) and "***@" in str(err)


@pytest.mark.parametrize("password", ["пароль-Ünï", "密码🔑", "P@ss:w0rd"])
def test_any_password_is_sent_as_utf8(um, make_client, password):
    um.script(Reply(200, {"ok": 1}))
    assert make_client(password=password).get("/x") == {"ok": 1}
    sent = um.seen[0].headers["authorization"]
    assert base64.b64decode(sent.split()[1]).decode("utf-8") == f"{USER}:{password}"


def test_401_names_user_and_host_never_the_password(um, make_client):
    um.script(Reply(401, b"", {"WWW-Authenticate": 'Basic realm="x"'}))
    err = raises(UMHTTPError, make_client(password="пароль").get, "/x")
    assert f"user '{USER}'" in str(err) and "127.0.0.1" in str(err) and "пароль" not in str(err)


# -- 4. nothing a server sends makes the client raise anything but a UMError ------------------------

@pytest.mark.parametrize("page", [
    {"records": [{"key": "a"}], "_links": "next"},
    {"records": [{"key": "a"}], "_links": {"next": "/api/x"}},
    {"records": [{"key": "a"}], "_links": {"next": {"href": 5}}},
    {"records": [{"key": "a"}], "_links": {"next": {"href": ["/api/x"]}}},
])
def test_odd_links_never_crash_the_listing(um, make_client, page):
    um.script(Reply(200, page))
    try:
        records = list(make_client().iter_records("/management-server/jobs"))
    except UMResponseError as exc:
        clean(exc)
    else:
        assert records == [{"key": "a"}]
    assert len(um.seen) == 1


HOSTILE_ANSWERS = [
    Reply(200, b"[" * 100000),
    Reply(200, b"\xff\xfe\x00garbage"),
    Reply(200, b"{\"key\": 1}", {"Content-Length": "1000"}),
    Reply(raw_status="HTTP/1.1 200", body=b"{}"),
    Reply(raw_status="NOT HTTP AT ALL", body=b""),
    Reply(raw_status="HTTP/1.1 999 " + ESC + "[2K", body=b"{}"),
    Reply(500, {"error": {"message": ESC + "[2K\rok: [localhost] => fake", "code": ["x"], "target": {"a": 1}}}),
    Reply(200, b"{}", {"Content-Encoding": "gzip"}),
    Reply(200, b"5\r\nab", {"Transfer-Encoding": "chunked"}, length=False),
    Reply(200, {"key": KEY}, byte_delay=0.002),
    Reply(status=None, reset=True),
]


@pytest.mark.parametrize("reply", HOSTILE_ANSWERS, ids=range(len(HOSTILE_ANSWERS)))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_hostile_answers_give_a_um_error_or_an_answer(um, make_client, reply, method):
    um.script(reply)
    client = make_client(read_retries=0)
    try:
        client.request(method, f"/management-server/jobs/{KEY.replace(':', '%3A')}" if method == "GET" else
                       "/storage-provider/luns", body={"name": "x"} if method == "POST" else None)
    except UMError as exc:
        clean(exc)


# -- 5. server text is made one printable line ------------------------------------------------------

def test_um_error_message_with_terminal_escapes_is_escaped(um, make_client):
    um.script(Reply(409, {"error": {"message": "exists" + ESC + "[2K\r\nok: [localhost] => {}", "target": "n\x07"}}))
    err = raises(UMHTTPError, make_client().request, "POST", "/storage-provider/luns", body={"name": "x"})
    # ESC and BEL are shown escaped; the line break is folded into a space: the message stays one line.
    assert "exists\\x1b[2K ok: [localhost]" in str(err) and "\\x07" in str(err)
    assert ESC not in repr(err.details) and "\r" not in json.dumps(err.details)


def test_one_line_helper():
    assert one_line("a" + ESC + "[31mred\x9b\u2028\ud800") == "a\\x1b[31mred\\x9b\\u2028\\ud800"
    assert one_line("x" * 500, 10) == "x" * 10 + "..."
    assert one_line(12) == "12"
    assert mask_userinfo("u:p@ss@host") == "***@host"
    assert mask_userinfo("https://u:p@ss@h/x") == "https://***@h/x"
    assert tame_json({"\ud800": ["\udfff"]}) == {"\ufffd": ["\ufffd"]}


# -- 6. a job object for another key is refused -----------------------------------------------------

@pytest.mark.parametrize("answered", [1234, "1:2:3:5", "1:2:3:4 ", None])
def test_get_job_refuses_a_job_for_another_key(um, make_client, answered):
    um.script(Reply(200, {"key": answered, "state": "completed", "status": "normal"}))
    err = raises(UMResponseError, make_client().get_job, "1:2:3:4")
    assert "another job" in str(err) and err.sent


# -- 7. a path, a next link or a key is checked the same way before it is sent ------------------------

@pytest.mark.parametrize("path", ["/storage-provider/..;/..;/admin", "/storage-provider/%2e%2e;/admin",
                                  "/storage-provider/%2E%2e%2fx", "/storage-provider/.%2E%5cx", "/a/%252e%252e/b",
                                  "/a/..%3Bx/b", "/a/%2e;jsessionid=1/b", "/a/%00/b"])
def test_disguised_dot_segments_are_refused(um, make_client, path):
    err = raises(UMConfigError, make_client().request, "GET", path)
    assert "segment" in str(err) or "control" in str(err)
    assert um.seen == []


@pytest.mark.parametrize("href", ["/api/../../../etc/passwd", "/api/management-server/../../etc/passwd?x=1",
                                  "/api/x/..;/..;/admin", "/api/%2e%2e/%2e%2e/etc", "/api/x?a=1\r\nX: y"])
def test_a_next_link_that_leaves_the_api_is_not_followed(um, make_client, href):
    um.script(Reply(200, {"records": [{"key": "a"}], "_links": {"next": {"href": href}}}))
    gen = make_client().iter_records("/management-server/jobs")
    assert next(gen) == {"key": "a"}
    err = raises(UMResponseError, next, gen)
    assert "link" in str(err) and err.final
    assert len(um.seen) == 1


def test_a_next_link_under_the_api_is_followed_as_given(um, make_client):
    nxt = "/api/management-server/jobs?offset=1&order_by=x%20desc"
    pages = iter([Reply(200, {"records": [{"key": "a"}], "_links": {"next": {"href": nxt}}}),
                  Reply(200, {"records": [{"key": "b"}]})])
    um.script(lambda req: next(pages))
    assert [r["key"] for r in make_client().iter_records("/management-server/jobs")] == ["a", "b"]
    assert um.seen[1].target == "/api/management-server/jobs?offset=1&order_by=x%20desc"


# -- 8. smaller things --------------------------------------------------------------------------------

def test_hostname_mismatch_names_host_and_certificate_names(servers, um, pki):
    wrong = servers["wrong"]
    client = UMClient("127.0.0.1", USER, PASSWORD, port=wrong.port, ca_path=pki["ca_file"], request_timeout=2)
    try:
        err = raises(UMTLSError, client.get, "/x")
    finally:
        client.close()
    assert "'127.0.0.1'" in str(err) and "um.example.com" in str(err) and "um2.example.com" in str(err)
    assert "set hostname" in str(err) and "ca_path" not in str(err)
    assert wrong.seen == []


def test_an_expired_certificate_does_not_advise_ca_path(servers, um, pki, tmp_path):
    import datetime
    leaf = pki["ca"].issue_cert("127.0.0.1", not_after=datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc))
    old = HostileServer(leaf)
    client = UMClient("127.0.0.1", USER, PASSWORD, port=old.port, ca_path=pki["ca_file"], request_timeout=2)
    try:
        err = raises(UMTLSError, client.get, "/x")
    finally:
        client.close()
        old.close()
    assert "expired" in str(err) and "ca_path" not in str(err) and "renew" in str(err)


def test_requests_ca_bundle_still_applies_without_ca_path(um, make_client, pki, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki["ca_file"])
    assert make_client(ca_path=None).get("/x") == {}


def test_a_ca_file_without_a_certificate_says_so(um, make_client, tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    err = raises(UMTLSError, make_client(ca_path=str(garbage)).get, "/x")
    assert "holds no PEM certificate" in str(err) and str(garbage) in str(err) and um.seen == []


def test_a_get_that_times_out_on_every_try_says_how_long_in_all(um, make_client):
    um.script(Reply(None, hang=5))
    err = raises(UMConnectionError, make_client(request_timeout=0.3, read_retries=2).get, "/x")
    assert "UM did not answer within 0.3s (request_timeout); tried 3 times in" in str(err)
    assert len(um.seen) == 3
    um.release.set()


@pytest.mark.parametrize("value", [0.001, 0.05, 3601, -1])
def test_request_timeout_range_matches_its_message(value):
    err = raises(UMConfigError, UMClient, "um.example.com", USER, PASSWORD, request_timeout=value)
    assert "from 0.1 to 3600" in str(err)
