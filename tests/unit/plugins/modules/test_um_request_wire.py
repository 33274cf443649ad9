# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_request's `sent` and `changed` say what happened on the wire: main() with the real client against the
hostile server (tests/hostile_server.py), nothing scripted inside the collection."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.plugins.modules import um_request
from ansible_collections.aiqum.jobs.tests.hostile_server import HostileServer, Reply

KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
PASSWORD = "P@ssw0rd!-wire"
LUNS = "/storage-provider/luns"


@pytest.fixture(scope="module")
def servers(pki):
    um, proxy = HostileServer(pki["leaf"]), HostileServer(None)
    yield um, proxy
    um.close()
    proxy.close()


@pytest.fixture
def wire(servers, pki, run_module, monkeypatch):
    um, proxy = servers
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    um.script(Reply(200, {}))
    proxy.script(Reply(200, {}))

    def run(args, **conn):
        full = {"hostname": "127.0.0.1", "http_port": um.port, "username": "storage_admin", "password": PASSWORD,
                "ca_path": pki["ca_file"], "request_timeout": 2}
        full.update(conn)
        full.update(args)
        code, result, out = run_module(um_request.main, full)
        assert "ssw0rd" not in out and "\\u001b" not in out
        assert "\n" not in result.get("msg", "")
        return code, result
    run.um, run.proxy = um, proxy
    return run


POST = {"method": "POST", "path": LUNS, "body": {"name": "lun1"}}


@pytest.mark.parametrize("reply", [
    Reply(202, b"<html>Accepted</html>", {"Content-Type": "text/html"}),
    Reply(201, b"{\"key\": ", {"Content-Type": "application/json"}),
    Reply(202, b"[" * 100000 + b"]" * 100000, {"Content-Type": "application/json"}),
], ids=["202 html", "201 cut json", "202 nested 100000 deep"])
def test_a_write_accepted_with_an_unreadable_body_was_sent_and_changed(wire, reply):
    wire.um.script(reply)
    code, result = wire(POST)
    assert code == 1 and result["changed"] is True and result["request"]["sent"] is True
    assert result["status"] == reply.status and "um_job_info" in result["msg"]
    assert len(wire.um.seen) == 1


def test_a_202_with_deep_junk_and_lone_surrogates_still_gives_its_job(wire):
    deep: object = {}
    for _i in range(900):
        deep = {"x": deep}
    wire.um.script(Reply(202, '{"job": {"key": "%s", "name": "lun\\ud800"}, "junk": %s}'
                         % (KEY, __import__("json").dumps(deep))))
    code, result = wire(POST)
    assert code == 0 and result["changed"] is True and result["job_key"] == KEY
    assert result["job"]["name"] == "lun\ufffd"


def test_a_bad_job_key_in_a_202_fails_but_says_changed(wire):
    wire.um.script(Reply(202, {"job": {"key": "../../etc/passwd"}}))
    code, result = wire(POST)
    assert code == 1 and result["changed"] is True and result["request"]["sent"] is True
    assert "is not a UM job key" in result["msg"]


@pytest.mark.parametrize("status", [407, 403])
def test_a_proxy_refusing_connect_means_nothing_was_sent(wire, monkeypatch, status):
    wire.proxy.script(Reply(status, b""))
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{wire.proxy.port}")
    code, result = wire(POST)
    assert code == 1 and not result.get("changed") and result["request"]["sent"] is False
    assert not result.get("operation_uncertain") and "proxy" in result["msg"] and f"HTTP {status}" in result["msg"]
    assert wire.um.seen == []


@pytest.mark.parametrize("handshake", ["reset", "hang"])
def test_a_failed_tls_handshake_means_nothing_was_sent(wire, handshake):
    wire.um.handshake = handshake
    code, result = wire(POST, request_timeout=0.5)
    wire.um.release.set()
    assert code == 1 and not result.get("changed") and result["request"]["sent"] is False
    assert "nothing was sent" in result["msg"]


@pytest.mark.parametrize("host", ["[::1]:8443", "a..b", f"storage_admin:{PASSWORD}@um.example.com"])
def test_a_hostname_the_client_cannot_use_means_nothing_was_sent(wire, host):
    code, result = wire(POST, hostname=host)
    assert code == 1 and not result.get("changed") and result["request"]["sent"] is False
    assert "hostname" in result["msg"]


def test_a_write_whose_answer_is_lost_stays_uncertain(wire):
    wire.um.script(Reply(202, {"job": {"key": KEY}}, cut_after=8))
    code, result = wire(POST)
    assert code == 1 and result["changed"] is True and result["request"]["sent"] is None
    assert result["operation_uncertain"] is True


@pytest.mark.parametrize("reply", [Reply(202, {"job": {"key": KEY}}, cut_after=90),
                                   Reply(202, {"job": {"key": KEY}}, hang=5, headers={"Content-Length": "500"})],
                         ids=["cut", "stalled"])
def test_a_write_whose_body_is_lost_after_the_status_line_was_sent(wire, reply):
    wire.um.script(reply)
    code, result = wire(POST, request_timeout=0.5)
    wire.um.release.set()
    assert code == 1 and result["changed"] is True and result["request"]["sent"] is True
    assert result["status"] == 202 and result["operation_uncertain"] is True and "um_job_info" in result["msg"]
