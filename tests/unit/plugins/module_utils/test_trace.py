# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""feature_flags.trace_apis: the real client, a real (plain HTTP, loopback) server, the trace file read back."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConnectionError, UMHTTPError
from ansible_collections.aiqum.jobs.plugins.module_utils._trace import APITrace
from ansible_collections.aiqum.jobs.tests.hostile_server import HostileServer, Reply

USER = "storage_admin"
PASSWORD = 'Tr4ce-pw"quoted"'  # a quote, so it would show JSON-escaped in a body
KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"


def _answer(req):
    """A 404 error body under /api/missing, a job for a POST, a list with a long record otherwise; a cookie on each."""
    if req.target.startswith("/api/missing"):
        status, payload = 404, {"error": {"code": "not_found", "message": "no such thing", "target": "key"}}
    elif req.method == "POST":
        status, payload = 202, {"job": {"key": KEY}}
    else:
        status, payload = 200, {"records": [{"name": "x" * 300}], "num_records": 1}
    return Reply(status, payload, {"Content-Type": "application/json", "Set-Cookie": "JSESSIONID=abc123secret"})


@pytest.fixture(scope="module")
def port():
    """The one loopback fake (tests/hostile_server.py), plain HTTP."""
    server = HostileServer(None)
    server.script(_answer)
    yield server.port
    server.close()


def _client(port, trace):
    client = UMClient("127.0.0.1", USER, PASSWORD, port=port, scheme="http", request_timeout=5.0, read_retries=0)
    client.trace = trace
    return client


def test_every_exchange_is_written_with_secrets_masked(port, tmp_path):
    path = tmp_path / "apis.log"
    client = _client(port, APITrace(str(path), body_length=120, secrets=[PASSWORD]))
    client.request("POST", "/datasources", body={"address": "10.0.0.1", "password": PASSWORD, "note": PASSWORD})
    client.request("GET", "/storage-provider/luns", params={"name": ["a", "b"]})
    with pytest.raises(UMHTTPError):
        client.request("GET", "/missing")
    client.close()
    text = path.read_text()
    blocks = [b for b in text.splitlines() if not b.startswith("  ")]
    assert len(blocks) == 3, text
    post, get, missing = blocks
    assert f"POST http://127.0.0.1:{port}/api/datasources -> HTTP 202 in " in post
    assert f"GET http://127.0.0.1:{port}/api/storage-provider/luns?name=a%7Cb -> HTTP 200 in " in get
    assert "/api/missing -> HTTP 404" in missing
    assert '"error": {"code": "not_found", "message": "no such thing"' in text
    assert f'< body: {{"job": {{"key": "{KEY}"}}}}' in text
    assert "  > Authorization: ***" in text and "  < Set-Cookie: ***" in text
    assert '"password": "***"' in text and '"note": "***"' in text and '"address": "10.0.0.1"' in text
    # Bodies are cut at the length given, saying so.
    assert "(%d characters, cut at trace_body_length)" % len(json.dumps({"records": [{"name": "x" * 300}], "num_records": 1})) in text
    creds = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for secret in (PASSWORD, json.dumps(PASSWORD)[1:-1], creds, "abc123secret", "Basic "):
        assert secret not in text, secret


def test_an_exchange_without_answer_is_written_too(tmp_path):
    path = tmp_path / "apis.log"
    client = _client(1, APITrace(str(path), secrets=[PASSWORD]))  # nothing listens on port 1
    with pytest.raises(UMConnectionError):
        client.request("GET", "/management-server/jobs", params={"max_records": 5})
    client.close()
    text = path.read_text()
    assert "GET http://127.0.0.1:1/api/management-server/jobs?max_records=5 -> no answer (ConnectionError)" in text
    assert "  > Authorization: ***" in text and PASSWORD not in text


def test_no_trace_no_file(port, tmp_path):
    client = _client(port, None)
    client.request("GET", "/storage-provider/luns")
    client.close()
    assert list(tmp_path.iterdir()) == []


def test_body_length_zero_writes_no_body_text(port, tmp_path):
    path = tmp_path / "apis.log"
    client = _client(port, APITrace(str(path), body_length=0))
    client.request("GET", "/storage-provider/luns")
    client.close()
    assert "< body: ... (" in path.read_text()
