# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client's retry loop and each attempt's time budget, against the loopback hostile server (issue 18).

Pauses between attempts go through a fake clock: no test here sleeps for real (a test waits only as long as a
hostile server holds an attempt, which is the point of those tests).
"""

from __future__ import annotations

import base64
import email.utils
import time

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import (
    UMConnectionError,
    UMError,
    UMHTTPError,
    UMOperationUncertain,
)
from ansible_collections.aiqum.jobs.tests.hostile_server import HostileServer, Reply
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import FakeClock

USER = "storage_admin"
PASSWORD = "Retry-S3cret!"
REQUEST_TIMEOUT = 2.0
KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
# A header of 3000 bytes sent a byte every 20 ms: 60 s of headers, unless the client stops listening.
SLOW_HEAD = {"head_delay": 0.02, "pad_head": 3000}


@pytest.fixture(scope="module")
def server(pki):
    made = HostileServer(pki["leaf"])
    yield made
    made.close()


@pytest.fixture
def um(server, monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    server.script(Reply(200, {}))
    yield server
    server.release.set()  # end whatever a hostile reply still holds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def client(make_client, clock):
    return make_client(clock=clock, sleep=clock.sleep)


def in_turn(*replies: Reply):
    """A handler answering the n-th request with the n-th reply (the last one from then on)."""
    calls: list = []

    def handler(req):
        calls.append(req)
        return replies[min(len(calls), len(replies)) - 1]
    return handler


def clean(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and PASSWORD not in text
    assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in text
    return text


# -- a retry has a budget of its own ------------------------------------------------------------------

def test_a_get_whose_first_try_times_out_is_answered_by_the_retry(um, make_client, clock):
    """Before: the retry shared the first try's budget, so its answer 'did not arrive whole within 2s'."""
    um.script(in_turn(Reply(None, hang=10), Reply(200, {"key": KEY, "state": "running"})))
    client = make_client(request_timeout=0.6, clock=clock, sleep=clock.sleep)
    started = time.monotonic()
    assert client.get_job(KEY)["state"] == "running"
    assert len(um.seen) == 2
    assert time.monotonic() - started < 2.0
    assert len(clock.sleeps) == 1  # one backoff pause, on the fake clock


def test_a_503_with_retry_after_then_a_good_answer_is_used(um, client, clock):
    """Before: urllib3 slept Retry-After inside the request's budget, and the good answer came too late to read."""
    um.script(in_turn(Reply(503, {"error": {"message": "starting"}}, {"Retry-After": "2"}), Reply(200, {"ok": 1})))
    assert client.get("/admin/backup-settings") == {"ok": 1}
    assert len(um.seen) == 2
    assert [s for _w, s in clock.sleeps] == [2.0], "Retry-After is honoured, on the injected sleep"


def test_retry_after_as_an_http_date_is_measured_against_the_answers_date(um, client, clock):
    """The server's clock may be far from ours: its Date and its Retry-After date are compared with each other."""
    served = 978307200.0  # 2001-01-01 00:00:00 GMT: 25 years behind this host's clock
    heads = {"Date": email.utils.formatdate(served, usegmt=True),
             "Retry-After": email.utils.formatdate(served + 3, usegmt=True)}
    um.script(in_turn(Reply(503, None, heads), Reply(200, {"ok": 2})))
    assert client.get("/x") == {"ok": 2}
    assert [s for _w, s in clock.sleeps] == [3.0]


def test_a_long_retry_after_is_capped(um, client, clock):
    um.script(in_turn(Reply(429, None, {"Retry-After": "3600"}), Reply(200, {})))
    assert client.get("/x") == {}
    assert [s for _w, s in clock.sleeps] == [10.0]


def test_retry_false_is_one_attempt(um, client, clock):
    um.script(Reply(503, None, {"Retry-After": "1"}))
    err = pytest.raises(UMHTTPError, client.get, "/x", retry=False).value
    assert err.status == 503 and err.retry_after == 1.0 and len(um.seen) == 1 and not clock.sleeps


def test_a_get_gives_up_after_its_tries_and_says_how_many(um, make_client, clock):
    um.script(Reply(500, {"error": {"message": "Internal error."}}))
    client = make_client(read_retries=2, clock=clock, sleep=clock.sleep)
    err = pytest.raises(UMHTTPError, client.get, "/x").value
    assert len(um.seen) == 3 and len(clock.sleeps) == 2
    assert clean(err).endswith("tried 3 times in " + f"{clock.slept:.0f}s")


def test_within_bounds_every_attempt_and_pause_of_one_call(um, make_client):
    """The waiter passes what is left of its deadline: the last attempt gets only what remains of it."""
    um.script(Reply(None, hang=10))
    client = make_client(request_timeout=1.0, read_retries=5, sleep=lambda seconds: None)
    started = time.monotonic()
    err = pytest.raises(UMConnectionError, client.get, "/x", within=1.6).value
    took = time.monotonic() - started
    assert 1.4 <= took <= 2.3, took
    assert "did not answer within" in clean(err) and len(um.seen) == 2


# -- writes are never sent twice ----------------------------------------------------------------------

@pytest.mark.parametrize("reply", [Reply(None), Reply(503, None, {"Retry-After": "0"}),
                                   Reply(200, {"job": {"key": KEY}}, **SLOW_HEAD)],
                         ids=["answer lost", "503", "slow headers"])
def test_a_write_that_reached_um_is_not_sent_again(um, make_client, clock, reply):
    um.script(reply)
    client = make_client(request_timeout=1.0, clock=clock, sleep=clock.sleep)
    with pytest.raises((UMOperationUncertain, UMHTTPError)) as info:
        client.request("POST", "/storage-provider/luns", body={"name": "lun1"})
    clean(info.value)
    assert [s.method for s in um.seen] == ["POST"] and not clock.sleeps


def test_a_write_that_was_not_sent_is_tried_again(um, client, clock):
    um.handshake = "reset"  # every TLS handshake is reset: nothing is ever sent
    err = pytest.raises(UMConnectionError, client.request, "POST", "/storage-provider/luns", body={"n": 1}).value
    assert err.sent is False and "nothing was sent" in clean(err)
    assert um.connections == 4 and len(clock.sleeps) == 3 and um.seen == []


# -- a 401 --------------------------------------------------------------------------------------------

def test_a_401_before_the_credentials_worked_is_not_retried(um, client):
    um.script(Reply(401, None))
    err = pytest.raises(UMHTTPError, client.get, "/x").value
    assert len(um.seen) == 1 and f"user '{USER}' on 127.0.0.1" in clean(err)


def test_a_401_after_the_credentials_worked_gets_two_more_tries_per_client(um, client):
    um.script(Reply(200, {}))
    client.get("/x")
    um.script(Reply(401, None))
    err = pytest.raises(UMHTTPError, client.get, "/x").value
    assert len(um.seen) == 3 and client.auth_failures == 2
    assert f"user '{USER}' on 127.0.0.1" in clean(err)
    um.script(Reply(401, None))
    pytest.raises(UMHTTPError, client.get, "/x")
    assert len(um.seen) == 1, "the two more tries are per task, not per request"


def test_a_401_is_never_retried_on_a_write(um, client):
    client.get("/x")
    um.script(Reply(401, None))
    pytest.raises(UMHTTPError, client.request, "POST", "/storage-provider/luns", body={"n": 1})
    assert len(um.seen) == 1


# -- one budget per attempt: connect, headers and body ------------------------------------------------

def test_slow_headers_end_at_the_attempts_budget(um, make_client):
    """Before: only the body was bounded; headers a byte at a time held the request for a minute."""
    um.script(Reply(200, {"key": KEY}, **SLOW_HEAD))
    client = make_client(request_timeout=1.0)
    started = time.monotonic()
    err = pytest.raises(UMConnectionError, client.get_job, KEY, retry=False).value
    took = time.monotonic() - started
    assert 0.9 <= took <= 2.0, took
    assert clean(err).endswith("UM did not answer within 1s (request_timeout)")
    assert err.sent is True


def test_slow_headers_then_a_good_answer(um, make_client, clock):
    um.script(in_turn(Reply(200, {"key": KEY}, **SLOW_HEAD), Reply(200, {"key": KEY, "state": "completed"})))
    client = make_client(request_timeout=0.8, clock=clock, sleep=clock.sleep)
    started = time.monotonic()
    assert client.get_job(KEY)["state"] == "completed"
    assert time.monotonic() - started < 2.0 and len(um.seen) == 2


def test_a_tls_handshake_that_trickles_is_bounded_too(um, make_client):
    um.handshake = "hang"
    client = make_client(request_timeout=0.5, read_retries=0)
    started = time.monotonic()
    err = pytest.raises(UMConnectionError, client.get, "/x").value
    assert time.monotonic() - started < 1.5 and err.sent is False and "nothing was sent" in clean(err)


def test_every_failure_is_a_client_error_in_one_line(um, make_client, clock):
    client = make_client(request_timeout=0.5, read_retries=1, clock=clock, sleep=clock.sleep)
    for reply in (Reply(200, {"k": 1}, **SLOW_HEAD), Reply(None, hang=5), Reply(200, b'{"k": ', cut_after=None),
                  Reply(200, b"x" * 100, byte_delay=0.02)):
        um.script(reply)
        with pytest.raises(UMError) as info:
            client.get("/x")
        clean(info.value)
        um.release.set()
