# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one secret set, in the trace and in the client's answers: each defect of issue 18 that leaked a secret."""

from __future__ import annotations

import base64
import json
import os
import stat
import types

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError, UMHTTPError
from ansible_collections.aiqum.jobs.plugins.module_utils._flags import FeatureFlags
from ansible_collections.aiqum.jobs.plugins.module_utils._secrets import MASK, Secrets
from ansible_collections.aiqum.jobs.plugins.module_utils import _trace
from ansible_collections.aiqum.jobs.plugins.module_utils._trace import APITrace

USER = "storage_admin"
PASSWORD = "Um-Pass\"w0rd/ü+1"
DATASOURCE_PASSWORD = "Cluster-S3cret-77"


def task_secrets():
    secrets = Secrets()
    secrets.add_basic_auth(USER, PASSWORD)
    secrets.add_from({"address": "10.0.0.1", "credentials": {"password": DATASOURCE_PASSWORD}})
    return secrets


def trace_text(tmp_path, secrets, body_length=2000, **record):
    trace = APITrace(str(tmp_path / "trace.log"), body_length, secrets=secrets)
    defaults = {"method": "POST", "url": "https://um/api/admin/datasources/clusters", "status": 400, "elapsed": 0.1,
                "request_headers": {"Authorization": "x"}, "request_body": None}
    defaults.update(record)
    trace.record(**defaults)
    return (tmp_path / "trace.log").read_text()


@pytest.mark.parametrize("echo", [
    DATASOURCE_PASSWORD,                                                  # a password repeated as given
    json.dumps(PASSWORD)[1:-1],                                           # JSON-escaped
    "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),  # the Authorization value
    base64.b64encode(PASSWORD.encode()).decode(),
    "Um-Pass%22w0rd%2F%C3%BC%2B1",                                        # percent-encoded
])
def test_the_trace_masks_a_secret_the_server_repeats_in_any_form(tmp_path, echo):
    """Issue 18: the trace wrote a datasource password the server repeated in its error message, and a Base64
    Authorization value a server echoed."""
    text = trace_text(tmp_path, task_secrets(), response_headers={"X-Echo": echo},
                      response_body=json.dumps({"error": {"message": f"cannot log in with {echo}"}}).encode())
    assert echo not in text and DATASOURCE_PASSWORD not in text and PASSWORD not in text
    assert text.count("***") >= 2


def test_query_secrets_are_masked_in_the_trace(tmp_path):
    """Issue 18: secrets given in `query` were written to the trace."""
    secrets = Secrets()
    secrets.add_from({"api_token": "tok-123456", "name": "lun1"})
    text = trace_text(tmp_path, secrets, method="GET", url="https://um/api/x?api_token=tok-123456&name=lun1",
                      status=200, response_body=b"{}")
    assert "tok-123456" not in text and "api_token=%2A%2A%2A" in text and "name=lun1" in text


@pytest.mark.parametrize("length", range(1, 40))
def test_a_cut_never_leaves_the_first_characters_of_a_secret(tmp_path, length):
    """Issue 18: trace_body_length cut through a password before masking, writing its first characters."""
    body = {"note": "x" * 5, "detail": f"echo {DATASOURCE_PASSWORD} end"}
    text = trace_text(tmp_path, task_secrets(), body_length=length, response_body=json.dumps(body).encode())
    assert DATASOURCE_PASSWORD[:4] not in text


def test_what_is_sent_is_masked_by_name_and_an_answer_by_value(tmp_path):
    text = trace_text(tmp_path, Secrets(), request_body=json.dumps({"password": "p1", "token_count": 3}),
                      response_body=json.dumps({"token_count": 3, "records": []}).encode())
    sent = [line for line in text.splitlines() if line.startswith("  > body")][0]
    answered = [line for line in text.splitlines() if line.startswith("  < body")][0]
    assert '"password": "***"' in sent and '"token_count": "***"' in sent
    assert '"token_count": 3' in answered


def test_secret_set_masks_data_and_keeps_the_rest():
    secrets = task_secrets()
    data = {"records": [{"name": f"x{DATASOURCE_PASSWORD}y", "password_age": 3, "ok": True}]}
    assert secrets.masked(data, by_name=False) == {"records": [{"name": f"x{MASK}y", "password_age": 3, "ok": True}]}
    assert secrets.masked({"password": "a", "keep": None}) == {"password": MASK, "keep": None}
    assert PASSWORD in secrets.values and DATASOURCE_PASSWORD in secrets.values


def test_the_trace_file_is_never_opened_through_a_symlink(tmp_path):
    """Issue 18: the trace file was opened through a symlink (another user could point it anywhere)."""
    target = tmp_path / "elsewhere.log"
    target.write_text("")
    os.chmod(target, 0o600)
    link = tmp_path / "trace.log"
    link.symlink_to(target)
    with pytest.raises(UMConfigError, match="symbolic link"):
        FeatureFlags.from_option({"trace_apis": True, "trace_file": str(link)})
    trace = APITrace(str(link), secrets=Secrets())
    trace_text_written = False
    try:
        trace.record("GET", "https://um/api/x", 200, 0.1, {}, None, {}, b"{}")
        trace_text_written = True
    except Exception:  # pylint: disable=broad-exception-caught
        pass
    assert target.read_text() == "" and not trace_text_written


def test_a_trace_file_others_may_read_is_refused(tmp_path):
    """Issue 18: the trace appended to a file readable by all."""
    path = tmp_path / "trace.log"
    path.write_text("")
    os.chmod(path, 0o644)
    with pytest.raises(UMConfigError, match="others may read or write it"):
        FeatureFlags.from_option({"trace_apis": True, "trace_file": str(path)})


def test_a_trace_file_of_another_user_is_refused(tmp_path, monkeypatch):
    """Issue 18: the trace appended to a file owned by another user (here: we run as another user than the
    file's owner)."""
    path = tmp_path / "trace.log"
    path.write_text("")
    os.chmod(path, 0o600)
    monkeypatch.setattr(_trace.os, "geteuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(UMConfigError, match="belongs to another user"):
        FeatureFlags.from_option({"trace_apis": True, "trace_file": str(path)})


def test_a_new_trace_file_is_private(tmp_path):
    path = tmp_path / "new.log"
    FeatureFlags.from_option({"trace_apis": True, "trace_file": str(path)})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_client_masks_a_password_in_ums_error_before_the_message_is_cut():
    """Issue 18: a server's error message that repeats the password (here past the 200 characters a message shows,
    so a cut could leave its first characters) is masked before the message is made."""
    client = UMClient("um.example.com", USER, PASSWORD)
    client.secrets = task_secrets()
    message = "x" * 190 + f" bad password {PASSWORD} for {USER}"
    raw = json.dumps({"error": {"code": "auth", "message": message, "target": DATASOURCE_PASSWORD}}).encode()
    answer = types.SimpleNamespace(status_code=400, headers={}, text=raw.decode())
    with pytest.raises(UMHTTPError) as caught:
        client._decode(answer, raw, "POST", "/admin/datasources/clusters")
    text = str(caught.value)
    assert PASSWORD[:5] not in text and DATASOURCE_PASSWORD not in text and "x" * 50 in text
    client.close()
