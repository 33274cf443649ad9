# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""um_job_wait's timeout holds against a server that sends its headers a byte at a time: main() with the real
client and the real waiter (real clock) against the hostile server (tests/hostile_server.py)."""

from __future__ import annotations

import time

import pytest

from ansible_collections.aiqum.jobs.plugins.modules import um_job_wait
from ansible_collections.aiqum.jobs.tests.hostile_server import HostileServer, Reply

KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
PASSWORD = "P@ssw0rd!-slow-head"


@pytest.fixture
def server(pki, monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    made = HostileServer(pki["leaf"])
    yield made
    made.close()


@pytest.mark.parametrize("long_poll", ["auto", "never"])
def test_a_wait_ends_at_its_timeout_however_slowly_the_headers_come(server, pki, run_module, long_poll):
    """Before: only the body was bounded; headers a byte every 20 ms (60 s of them) held `timeout: 5` for 60 s."""
    server.script(Reply(200, {"key": KEY, "state": "running", "status": "normal"}, head_delay=0.02, pad_head=3000))
    args = {"hostname": "127.0.0.1", "http_port": server.port, "username": "storage_admin", "password": PASSWORD,
            "ca_path": pki["ca_file"], "key": KEY, "timeout": 5, "long_poll": long_poll}
    started = time.monotonic()
    code, result, out = run_module(um_job_wait.main, args)
    took = time.monotonic() - started
    server.release.set()
    assert 4.5 <= took <= 7.5, took
    assert code == 1 and result["timed_out"] is True and result["pending"] == [KEY]
    assert "did not answer within" in result["msg"] and "\n" not in result["msg"]
    assert PASSWORD not in out
    assert server.seen, "the requests reached the server"
