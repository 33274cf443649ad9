# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The um_job lookup through Ansible's plugin loader, with the client scripted."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.aiqum.jobs.plugins.lookup import um_job as um_job_lookup
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMHTTPError

K1 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
K2 = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff5"
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
            raise UMHTTPError(404, "GET", f"/management-server/jobs/{key}", code="not_found",
                              um_message="no such job", target="key")
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
    monkeypatch.setattr(um_job_lookup, "UMClient", FakeClient)
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
    with pytest.raises(AnsibleLookupError) as err:
        lookup.run([K1, K2], variables={}, **CONN)
    text = str(err.value)
    assert text.startswith("aiqum.jobs.um_job: GET /management-server/jobs/") and "HTTP 404" in text
    assert PASSWORD not in text and FakeClient.made[0].closed


def test_bad_key_and_missing_connection(lookup):
    with pytest.raises(AnsibleLookupError, match="is not a UM job key"):
        lookup.run(["a/b"], variables={}, **CONN)
    with pytest.raises(AnsibleLookupError, match=r"missing hostname \(or UM_HOSTNAME\), password \(or UM_PASSWORD\)"):
        lookup.run([K1], variables={}, username="admin")
