# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The um_job lookup through Ansible's plugin loader, with the client scripted."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.aiqum.jobs.plugins.module_utils import _options
from ansible_collections.aiqum.jobs.plugins.module_utils._report import not_found_message
from ansible_collections.aiqum.jobs.plugins.lookup import um_job as um_job_lookup
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMHTTPError, http_error

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
K2 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff5"
K3 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff6"
PASSWORD = "Lookup-pw-9x"


class FakeClient:
    made: list = []

    def __init__(self, hostname, username, password, **kwargs):
        self.args = (hostname, username, password, kwargs)
        self.calls = []
        self.closed = False
        FakeClient.made.append(self)

    def get_job(self, key):
        self.calls.append(("get_job", key))
        if key == K2:
            raise http_error(404, "GET", f"/management-server/jobs/{key}", code="not_found",
                             um_message="no such job", target="key")
        if key == K3:
            # A server that repeats the password in its error message (cut at 200 characters by the client).
            raise UMHTTPError(500, "GET", f"/management-server/jobs/{key}", um_message="bad login " + PASSWORD)
        return {"key": key, "state": "completed", "status": "normal"}

    def iter_records(self, path, params, limit=None):
        self.calls.append(("iter_records", path, params, limit))
        return iter([{"key": K1}, {"key": K2}][:limit])

    def close(self):
        self.closed = True


@pytest.fixture
def lookup(monkeypatch):
    FakeClient.made = []
    for var in ("UM_HOSTNAME", "UM_USERNAME", "UM_PASSWORD", "UM_HTTP_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(_options, "UMClient", FakeClient)
    return lookup_loader.get("aiqum.jobs.um_job")


CONN = {"hostname": "um.example.com", "username": "admin", "password": PASSWORD}


def test_one_job_per_key(lookup):
    assert lookup.run([K1], variables={}, **CONN) == [{"key": K1, "state": "completed", "status": "normal"}]
    (client,) = FakeClient.made
    assert client.args[:3] == ("um.example.com", "admin", PASSWORD) and client.closed
    assert client.args[3]["validate_certs"] is True and client.args[3]["request_timeout"] == 30


def test_a_filtered_list_without_terms(lookup):
    jobs = lookup.run([], variables={}, type="provision_lun_create", state="running|aborting",
                      order_by="submit_time asc", max_records=1, **CONN)
    assert jobs == [{"key": K1}]
    assert FakeClient.made[0].calls == [("iter_records", "/management-server/jobs",
                                         {"type": "provision_lun_create", "state": "running|aborting",
                                          "order_by": "submit_time asc"}, 1)]


def test_connection_from_um_variables_and_aliases(lookup, monkeypatch):
    monkeypatch.setenv("UM_HOSTNAME", "um-env.example.com")
    monkeypatch.setenv("UM_HTTP_PORT", "9443")
    lookup.run([K1], variables={}, user="ontap_user", **{"pass": PASSWORD})
    args = FakeClient.made[0].args
    assert args[:3] == ("um-env.example.com", "ontap_user", PASSWORD) and args[3]["port"] == 9443


def test_unknown_key_fails_in_one_line_without_the_password(lookup):
    """Issue 18: the lookup words a 404 as the modules do."""
    with pytest.raises(AnsibleLookupError) as err:
        lookup.run([K1, K2], variables={}, **CONN)
    text = str(err.value)
    assert text == f"aiqum.jobs.um_job: {not_found_message(K2)}"
    assert PASSWORD not in text and FakeClient.made[0].closed


def test_a_password_the_server_repeats_is_masked(lookup):
    """Issue 18: the lookup printed a password that a server's error message repeated."""
    with pytest.raises(AnsibleLookupError) as err:
        lookup.run([K3], variables={}, **CONN)
    assert "bad login ********" in str(err.value) and PASSWORD not in str(err.value)


def test_feature_flags_and_the_validate_certs_warning_as_for_modules(lookup, monkeypatch, tmp_path):
    """Issue 18: the lookup had no feature_flags (so no trace) and no validate_certs warning."""
    warned = []
    monkeypatch.setattr(um_job_lookup, "display", type("D", (), {"warning": staticmethod(warned.append)}))
    trace = tmp_path / "trace.log"
    lookup.run([K1], variables={}, validate_certs=False, request_timeout=0.5,
               feature_flags={"trace_apis": True, "trace_file": str(trace)}, **CONN)
    (client,) = FakeClient.made
    assert client.trace is not None and client.trace.path == str(trace)
    assert client.args[3]["validate_certs"] is False and client.args[3]["request_timeout"] == 0.5
    assert any("validate_certs is false" in w for w in warned) and any("trace_apis is on" in w for w in warned)


def test_ranges_are_the_modules_ranges(lookup, monkeypatch):
    with pytest.raises(AnsibleLookupError, match=r"request_timeout '0.01' is out of range: give a number of seconds from 0.1"):
        lookup.run([K1], variables={}, request_timeout=0.01, **CONN)
    monkeypatch.setenv("UM_HTTP_PORT", "70000")
    with pytest.raises(AnsibleLookupError, match=r"UM_HTTP_PORT='70000' is out of range: set UM_HTTP_PORT to a TCP port"):
        lookup.run([K1], variables={}, **CONN)


def test_bad_key_and_missing_connection(lookup):
    with pytest.raises(AnsibleLookupError, match="is not a UM job key"):
        lookup.run(["a/b"], variables={}, **CONN)
    with pytest.raises(AnsibleLookupError, match=r"missing hostname \(or UM_HOSTNAME\), password \(or UM_PASSWORD\)"):
        lookup.run([K1], variables={}, username="admin")
