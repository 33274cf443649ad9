# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry rule (_retry.decide) and Retry-After (_retry.retry_after), as tables."""

from __future__ import annotations

import email.utils

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import (
    UMConfigError,
    UMConnectionError,
    UMOperationUncertain,
    UMProxyError,
    UMRedirectError,
    UMResponseError,
    UMResponseTooLarge,
    UMTLSError,
    http_error,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._retry import (
    MAX_AUTH_RETRIES,
    RETRY_AFTER_CAP,
    TRANSIENT_STATUSES,
    backoff,
    decide,
    retry_after,
)


def status(code: int, method: str = "GET", after: float | None = None):
    return http_error(code, method, "/x", retry_after=after)


def lost_answer():
    return UMConnectionError("GET /x: UM did not answer within 2s", sent=True)


def not_sent():
    return UMConnectionError("GET /x: cannot reach https://um: Connection refused (nothing was sent)", sent=False)


def unreadable():
    return UMResponseError("GET /x: UM answered HTTP 200 but its answer was cut off", status=200)


def HALF() -> float:  # pylint: disable=invalid-name
    """A fixed "random" for the jitter: 75 % of the backoff."""
    return 0.5


# -- which failures are retried -----------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(TRANSIENT_STATUSES))
@pytest.mark.parametrize("method", ["GET", "HEAD", "get"])
def test_reads_retry_every_transient_status(code, method):
    decision = decide(status(code, method), 1, method, True, rng=HALF)
    assert decision.retry and decision.delay > 0 and str(code) in decision.why


@pytest.mark.parametrize("code", [400, 403, 404, 405, 409, 501, 505])
def test_reads_do_not_retry_other_statuses(code):
    assert not decide(status(code), 1, "GET", True).retry


@pytest.mark.parametrize("code", sorted(TRANSIENT_STATUSES))
@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_writes_never_retry_a_status(code, method):
    decision = decide(status(code, method), 1, method, True)
    assert not decision.retry and "never sent again" in decision.why


@pytest.mark.parametrize("make", [lost_answer, unreadable], ids=["lost", "unreadable"])
def test_reads_retry_an_answer_lost_after_sending_writes_do_not(make):
    assert decide(make(), 1, "GET", True).retry
    assert not decide(make(), 1, "POST", True).retry


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_anything_not_sent_is_retried_for_every_method(method):
    decision = decide(not_sent(), 1, method, False, rng=HALF)
    assert decision.retry and decision.why == "nothing was sent"


def test_the_sent_argument_and_the_errors_own_sent_both_count():
    assert not decide(not_sent(), 1, "POST", True).retry, "the caller knows the request went out"
    assert not decide(lost_answer(), 1, "POST", False).retry, "the error knows the request went out"


@pytest.mark.parametrize("error", [
    UMTLSError("certificate"), UMProxyError("refused", answered=True), UMRedirectError("302", status=302),
    UMResponseTooLarge("big", status=200), UMConfigError("bad option"),
    UMOperationUncertain("POST /x: the answer was lost after the request was sent"),
], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_final_errors_are_never_retried(error, method):
    decision = decide(error, 1, method, False)
    assert not decision.retry and "final" in decision.why


def test_a_proxy_that_cannot_be_reached_may_come_back():
    assert decide(UMProxyError("down", answered=False), 1, "POST", False).retry


@pytest.mark.parametrize("error", [ValueError("bug"), KeyError("k"), RuntimeError("x")])
def test_only_the_clients_errors_are_retried(error):
    decision = decide(error, 1, "GET", False)
    assert not decision.retry and type(error).__name__ in decision.why


def test_tries_caps_the_attempts():
    assert decide(not_sent(), 3, "GET", False, tries=4).retry
    assert not decide(not_sent(), 4, "GET", False, tries=4).retry
    assert decide(not_sent(), 400, "GET", False).retry, "without tries the caller's deadline bounds"


# -- a 401 --------------------------------------------------------------------------------------------

def test_a_401_is_final_until_the_credentials_worked():
    decision = decide(status(401), 1, "GET", True)
    assert not decision.retry and "never worked" in decision.why


def test_a_401_after_the_credentials_worked_gets_max_auth_retries_more_tries():
    assert MAX_AUTH_RETRIES == 2
    assert decide(status(401), 1, "GET", True, auth_worked=True, auth_failures=0).retry
    assert decide(status(401), 1, "GET", True, auth_worked=True, auth_failures=1).retry
    decision = decide(status(401), 1, "GET", True, auth_worked=True, auth_failures=2)
    assert not decision.retry and "again after 2 more tries" in decision.why


def test_a_401_counts_across_attempts_not_just_this_one():
    # The count is the task's (auth_failures), whatever the attempt number of this request.
    assert not decide(status(401), 1, "GET", True, auth_worked=True, auth_failures=5).retry


def test_a_401_on_a_write_is_not_retried():
    assert not decide(status(401, "POST"), 1, "POST", True, auth_worked=True).retry


# -- when ---------------------------------------------------------------------------------------------

def test_retry_after_is_the_delay_and_is_capped():
    assert decide(status(503, after=2.0), 1, "GET", True).delay == 2.0
    assert decide(status(429, after=0.0), 1, "GET", True).delay == 0.0
    assert decide(status(503, after=3600.0), 1, "GET", True).delay == RETRY_AFTER_CAP


def test_without_retry_after_the_backoff_grows_is_capped_and_jittered():
    delays = [decide(not_sent(), n, "GET", False, rng=lambda: 1.0).delay for n in range(1, 8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert decide(not_sent(), 1, "GET", False, rng=lambda: 0.0).delay == 0.25
    assert decide(not_sent(), 3, "GET", False, rng=lambda: 1.0, base=0.1, cap=0.3).delay == pytest.approx(0.3)
    assert backoff(10 ** 6, rng=lambda: 1.0) == 8.0


# -- Retry-After --------------------------------------------------------------------------------------

def http_date(epoch: float) -> str:
    return email.utils.formatdate(epoch, usegmt=True)


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "5"}, 5.0), ({"Retry-After": " 0 "}, 0.0), ({"Retry-After": "1.5"}, 1.5),
    ({"Retry-After": "-3"}, 0.0), ({}, None), ({"Retry-After": ""}, None), ({"Retry-After": "soon"}, None),
    ({"Retry-After": "nan"}, None), (None, None),
])
def test_retry_after_seconds(headers, expected):
    assert retry_after(headers) == expected


def test_retry_after_date_against_the_answers_own_date():
    served = 978307200.0  # the server's clock says 2001; ours says otherwise
    headers = {"Date": http_date(served), "Retry-After": http_date(served + 7)}
    assert retry_after(headers, now=served + 10 ** 9) == 7.0


def test_retry_after_date_without_a_date_header_uses_the_local_clock():
    assert retry_after({"Retry-After": http_date(2_000_000_000)}, now=2_000_000_000 - 4) == 4.0
    assert retry_after({"Retry-After": http_date(2_000_000_000)}, now=2_000_000_000 + 60) == 0.0


def test_retry_after_date_with_an_unreadable_date_header_uses_the_local_clock():
    headers = {"Date": "yesterday", "Retry-After": http_date(2_000_000_000)}
    assert retry_after(headers, now=2_000_000_000 - 2) == 2.0


def test_a_retry_after_date_without_a_zone_is_not_used():
    assert retry_after({"Retry-After": "Sat, 01 Jan 2033 00:00:00"}, now=0) is None
