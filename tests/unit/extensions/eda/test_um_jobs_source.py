# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aiqum.jobs.um_jobs event source (options, events, its loop) with a fake client: no HTTP, no real sleep."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import json
import logging
import re
import types
from pathlib import Path

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils import _options
from ansible_collections.aiqum.jobs.plugins.module_utils._table import JOBS_PATH
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConnectionError, UMHTTPError, UMTLSError

SOURCE_FILE = Path(__file__).resolve().parents[4] / "extensions" / "eda" / "plugins" / "event_source" / "um_jobs.py"
T0 = 1_800_000_000.0
PASSWORD = "Eda-pw-5ecret!"


def load_source():
    spec = importlib.util.spec_from_file_location("um_jobs_source_under_test", SOURCE_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def src(monkeypatch):
    for name in ("UM_HOSTNAME", "UM_USERNAME", "UM_PASSWORD", "UM_HTTP_PORT", "UM_CA_PATH", "UM_VALIDATE_CERTS",
                 "UM_REQUEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return load_source()


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="milliseconds")


def job(key, ts, status="normal", state="completed", **extra):
    doc = {"key": key, "name": f"Create LUN {key}", "type": "provision_lun_create", "state": state,
           "status": status, "submit_time": iso(ts - 5), "complete_time": iso(ts)}
    doc.update(extra)
    return doc


class FakeClient:
    """Answers iter_records from a list of jobs like UM would (state filter, order_by ... desc, pages);
    `script` holds exceptions to raise on the next calls (None: answer)."""

    origin = "https://um.example.com"

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.jobs: list[dict] = []
        self.calls: list[dict] = []
        self.script: list[BaseException | None] = []
        self.closed = False

    def iter_records(self, path, params=None):
        assert path == JOBS_PATH
        self.calls.append(dict(params))
        if self.script:
            failure = self.script.pop(0)
            if failure is not None:
                raise failure
        states = set(params["state"].split("|")) if "state" in params else None
        field = params["order_by"].split()[0]
        rows = [j for j in reversed(self.jobs) if (states is None or j["state"] in states) and j.get(field)]
        rows.sort(key=lambda j: j[field], reverse=True)  # ties: the newest created first, as UM lists them
        yield from rows

    def close(self):
        self.closed = True


def test_options_come_from_the_environment_and_are_checked(src, monkeypatch, tmp_path):
    monkeypatch.setenv("UM_HOSTNAME", "um.example.com")
    monkeypatch.setenv("UM_USERNAME", "eda")
    monkeypatch.setenv("UM_PASSWORD", PASSWORD)
    monkeypatch.setenv("UM_HTTP_PORT", "8443")
    monkeypatch.setenv("UM_VALIDATE_CERTS", "yes")
    opts = src.read_options({"hostname": "", "type": ["provision_lun_create", "provision_file_share_*"],
                             "name": "Create LUN", "interval": "5", "include_started": "true",
                             "state_file": str(tmp_path / "s.json"), "eda_feedback_queue": object()})
    conn = opts["connection"]
    assert conn.hostname == "um.example.com" and conn.http_port == 8443 and conn.validate_certs is True
    assert opts["interval"] == 5.0 and opts["include_started"] is True and opts["page_size"] == 200
    assert opts["filters"] == {"type": "provision_lun_create|provision_file_share_*", "name": "Create LUN",
                               "status": None, "parent_job_key": None}
    defaults = src.read_options({"hostname": "h", "username": "u", "password": "p", "status": "", "type": []})
    assert defaults["connection"].validate_certs is True and defaults["state_file"] is None
    assert defaults["filters"] == dict.fromkeys(("type", "name", "status", "parent_job_key"))


@pytest.mark.parametrize("args, message", [
    ({}, "missing hostname (or UM_HOSTNAME), username (or UM_USERNAME), password (or UM_PASSWORD)"),
    ({"hostname": "h", "username": "u"}, "missing password (or UM_PASSWORD)"),
    ({"hostname": "h", "username": "u", "password": "p", "intervall": 5}, "unknown option(s) intervall"),
    ({"hostname": "h", "username": "u", "password": "p", "page_size": 5000}, "page_size must be a number from 1 to 1000"),
    ({"hostname": "h", "username": "u", "password": "p", "interval": "often"}, "interval must be a number"),
    ({"hostname": "h", "username": "u", "password": "p", "validate_certs": "maybe"},
     "validate_certs 'maybe' is not a boolean"),
    ({"hostname": "h", "username": "u", "password": "p", "request_timeout": 0.01},
     "request_timeout '0.01' is out of range: give a number of seconds from 0.1 to 3600"),
    ({"hostname": "h", "username": "u", "password": "p", "type": [{"a": 1}]}, "type must be a string or a list of strings"),
    ({"hostname": "h", "username": "u", "password": "p", "name": "a&max_records=1"}, "name must be a string"),
    ({"hostname": "h", "username": "u", "password": "p", "state_file": "/no/such/dir/s.json"}, "its folder does not exist"),
])
def test_bad_options_give_one_line_saying_what_to_do(src, args, message):
    with pytest.raises(src.OptionError) as err:
        src.read_options(args)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("status, state, outcome, action, failed", [
    ("normal", "completed", "normal", "ok", False),
    ("warning", "completed", "warning", "warn", False),
    ("partial_failures", "completed", "partial_failures", "warn", False),
    ("error", "completed", "error", "fail", True),
    ("normal", "aborted", "aborted", "fail", True),
    ("weird", "completed", "unknown", "fail", True),
    ("error", "ERROR", "error", "fail", True),  # a server that writes the vendor's prose in state
])
def test_each_outcome_by_the_job_table(src, status, state, outcome, action, failed):
    opts = src.read_options({"hostname": "h", "username": "u", "password": "p"})
    source = src.Source(opts, FakeClient(), src._collection_imports())
    doc = job("k1", T0, status=status, state=state,
              job_results=[{"name": "lunKey", "value": "lun-1"}],
              task_reports=[{"name": "Create", "failure_reason": "no space"}] if failed else [])
    event = source.event("ended", doc)["um_job"]
    assert (event["outcome"], event["action"], event["failed"]) == (outcome, action, failed)
    assert event["key"] == "k1" and event["outputs"] == {"lunKey": "lun-1"} and event["job"] == doc
    assert event["failure_reasons"] == (["task 'Create': no space"] if failed else [])
    assert event["message"].startswith(f"job k1 (Create LUN k1) ended: {outcome}")


def test_switches_change_the_action_like_um_job_wait(src):
    opts = src.read_options({"hostname": "h", "username": "u", "password": "p",
                             "fail_on_partial_failures": True, "warn_on_warning": False})
    source = src.Source(opts, FakeClient(), src._collection_imports())
    assert source.event("ended", job("k", T0, "partial_failures"))["um_job"]["failed"] is True
    assert source.event("ended", job("k", T0, "warning"))["um_job"]["action"] == "ok"


def test_the_list_is_filtered_and_ordered_by_um(src):
    opts = src.read_options({"hostname": "h", "username": "u", "password": "p", "type": "provision_*",
                             "status": ["error", "partial_failures"], "parent_job_key": "p1", "page_size": 50})
    source = src.Source(opts, FakeClient(), src._collection_imports())
    assert source.params("ended") == {
        "type": "provision_*", "status": "error|partial_failures", "parent_job_key": "p1",
        "state": "completed|COMPLETED|aborted|ABORTED|normal|NORMAL|error|ERROR|partial_failures|PARTIAL_FAILURES|"
                 "warning|WARNING", "order_by": "complete_time desc",
        "max_records": 50}
    assert source.params("started") == {
        "type": "provision_*", "parent_job_key": "p1", "order_by": "submit_time desc", "max_records": 50}


class Stop(Exception):
    pass


BASE = {"hostname": "um.example.com", "username": "eda", "password": PASSWORD, "interval": 10,
        "max_retry_delay": 40, "lookback": 0}


def test_main_reports_new_jobs_once_and_keeps_going_through_an_outage(src, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    state = tmp_path / "um_jobs.json"
    args = dict(BASE, state_file=str(state))

    def before(c):
        c.jobs[:] = [job("old", T0), job("running", T0, state="running", complete_time=None)]

    def ends_two(c):
        c.jobs += [job("a", T0 + 10, "error"), job("b", T0 + 10)]

    def outage(c):
        c.script[:] = [UMConnectionError("GET /management-server/jobs: cannot reach https://um.example.com"),
                       UMHTTPError(503, "GET", "/management-server/jobs")]
        c.jobs.append(job("during", T0 + 20, "partial_failures"))

    client = FakeClient()
    before(client)
    steps = [ends_two, lambda c: None, outage, lambda c: None, lambda c: None, lambda c: None]
    _c, sleeps, events = run_main_with(src, monkeypatch, args, client, steps)
    assert [(e["key"], e["outcome"]) for e in events] == [("a", "error"), ("b", "normal"),
                                                          ("during", "partial_failures")]
    # Looks every 10 s; after failures the one retry rule's jittered backoff from the interval (5-10 s, then
    # 10-20 s); back to 10 s after the recovery.
    assert sleeps[:2] == [pytest.approx(10, abs=0.5)] * 2
    assert 5 <= sleeps[3] <= 10 <= sleeps[4] <= 20 and sleeps[5] == pytest.approx(10, abs=0.5)
    assert all(len(call) == 3 and call["max_records"] == 200 for call in client.calls)  # one list call per look
    assert "look 2 failed: GET /management-server/jobs: HTTP 503" in caplog.text
    assert re.search(r"nothing is lost, next look in \d+\.\ds", caplog.text)
    assert "answers again after 2 failed look(s)" in caplog.text
    assert PASSWORD not in caplog.text and client.closed
    saved = json.loads(state.read_text())
    assert saved["source"] == "aiqum.jobs.um_jobs" and set(saved["ended"]["seen"]) >= {"during"}

    # A restart with the state file: what ended meanwhile comes, nothing is repeated.
    client.jobs.append(job("while-stopped", T0 + 30, "error"))
    client.script.clear()
    _c, _s, events = run_main_with(src, monkeypatch, args, client, [lambda c: None])
    assert [e["key"] for e in events] == ["while-stopped"]


def run_main_with(src, monkeypatch, args, client, steps):
    monkeypatch.setattr(_options, "UMClient", lambda *a, **kw: client)
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) > len(steps):
            raise Stop()
        steps[len(sleeps) - 1](client)
        await real_sleep(0)

    monkeypatch.setattr(src, "asyncio", types.SimpleNamespace(sleep=fake_sleep, to_thread=asyncio.to_thread))
    queue: asyncio.Queue = asyncio.Queue()

    async def go():
        with pytest.raises(Stop):
            await src.main(queue, dict(args))

    asyncio.run(go())
    events = []
    while not queue.empty():
        events.append(queue.get_nowait()["um_job"])
    return client, sleeps, events


def test_include_started_reports_starts_before_ends(src, monkeypatch):
    client = FakeClient()
    client.jobs[:] = [job("old", T0)]

    def starts_and_ends(c):
        c.jobs.append(job("quick", T0 + 10, "error"))
        c.jobs.append(job("slow", T0 + 60, state="running", complete_time=None))

    _c, _s, events = run_main_with(src, monkeypatch, dict(BASE, include_started=True), client,
                                   [starts_and_ends, lambda c: None])
    assert [(e["event"], e["key"]) for e in events] == [("started", "quick"), ("started", "slow"), ("ended", "quick")]
    assert events[0]["outcome"] is None and events[0]["failed"] is False
    assert [c["order_by"] for c in client.calls] == ["submit_time desc", "complete_time desc"] * 3


@pytest.mark.parametrize("failure, text", [
    (UMHTTPError(401, "GET", "/management-server/jobs"), "HTTP 401, authentication failed"),
    (UMHTTPError(403, "GET", "/management-server/jobs"), "HTTP 403"),
    (UMTLSError("TLS certificate of https://um.example.com could not be verified: give ca_path"), "give ca_path"),
])
def test_a_first_look_that_cannot_heal_stops_with_one_line(src, monkeypatch, failure, text):
    client = FakeClient()
    client.script[:] = [failure]
    monkeypatch.setattr(_options, "UMClient", lambda *a, **kw: client)
    with pytest.raises(SystemExit) as err:
        asyncio.run(src.main(asyncio.Queue(), dict(BASE)))
    assert str(err.value).startswith("aiqum.jobs.um_jobs: ") and text in str(err.value)
    assert "\n" not in str(err.value) and PASSWORD not in str(err.value) and client.closed


def test_after_a_good_look_even_401_is_retried(src, monkeypatch, caplog):
    client = FakeClient()

    def lose_auth(c):
        c.script[:] = [UMHTTPError(401, "GET", "/management-server/jobs")]
        c.jobs.append(job("later", T0 + 5, "error"))

    _c, sleeps, events = run_main_with(src, monkeypatch, dict(BASE), client, [lose_auth, lambda c: None])
    assert 5 <= sleeps[1] <= 10 and [e["key"] for e in events] == ["later"]
    assert "look 1 failed" in caplog.text


def test_bad_option_or_damaged_state_file_stops_with_one_line(src, monkeypatch, tmp_path):
    monkeypatch.setattr(_options, "UMClient", FakeClient)
    with pytest.raises(SystemExit, match="^aiqum.jobs.um_jobs: lookback must be a number"):
        asyncio.run(src.main(asyncio.Queue(), dict(BASE, lookback=-1)))
    state = tmp_path / "s.json"
    state.write_text(json.dumps({"format": 1, "ended": {"time_field": "complete_time", "seen": "x"}}))
    with pytest.raises(SystemExit, match="is damaged .*delete it to start from now"):
        asyncio.run(src.main(asyncio.Queue(), dict(BASE, state_file=str(state))))


def test_a_prose_warning_with_a_complete_time_is_an_end_event(src, monkeypatch):
    """Issue 18: the source kept its own list of ended states; a job ending in the prose state WARNING with a
    complete_time never gave an event, while um_job_wait said it ended with status warning."""
    client = FakeClient()
    client.jobs[:] = [job("old", T0)]

    def ends(c):
        c.jobs.append(job("prose", T0 + 10, status="normal", state="WARNING"))
        c.jobs.append(job("still", T0 + 10, state="warning", complete_time=None))

    _c, _s, events = run_main_with(src, monkeypatch, dict(BASE), client, [ends, lambda c: None])
    assert [(e["key"], e["outcome"], e["action"]) for e in events] == [("prose", "warning", "warn")]


def test_401_after_good_looks_gets_two_more_tries_then_stops_naming_the_user(src, monkeypatch, caplog):
    """Issue 18: the event source retried a 401 forever (directory services lock accounts)."""
    client = FakeClient()
    refused = UMHTTPError(401, "GET", "/management-server/jobs",
                          hint="authentication failed for user 'eda' on um.example.com: check username and password")

    def lose_auth(c):
        c.script[:] = [refused] * 10

    with pytest.raises(SystemExit) as err:
        run_main_with(src, monkeypatch, dict(BASE), client, [lose_auth] + [lambda c: None] * 10)
    assert "user 'eda' on um.example.com" in str(err.value) and "\n" not in str(err.value)
    assert len(client.calls) == 1 + 3, "one good look, then the 401 and two more tries"


def test_a_fault_of_the_source_ends_it_with_the_traceback_in_the_log(src, monkeypatch, caplog):
    """Issue 18: a programming error was retried forever; only the client's errors are looked at again."""
    client = FakeClient()

    def broken(c):
        c.script[:] = [KeyError("oops")]

    with pytest.raises(KeyError):
        run_main_with(src, monkeypatch, dict(BASE), client, [broken] + [lambda c: None] * 5)
    assert "stopped on an unexpected error" in caplog.text and "Traceback" in caplog.text
    assert len(client.calls) == 2


def test_a_password_a_server_repeats_is_masked_in_the_log(src, monkeypatch, caplog):
    """Issue 18: the event source logged a password that a server's error message repeated."""
    client = FakeClient()

    def echo(c):
        c.script[:] = [UMHTTPError(503, "GET", "/management-server/jobs", um_message=f"login {PASSWORD} busy")]

    run_main_with(src, monkeypatch, dict(BASE), client, [echo, lambda c: None])
    assert "look 1 failed" in caplog.text and PASSWORD not in caplog.text and "login ******** busy" in caplog.text


def test_retry_after_is_honoured_between_looks(src, monkeypatch):
    client = FakeClient()

    def busy(c):
        c.script[:] = [UMHTTPError(503, "GET", "/management-server/jobs", retry_after=7)]

    _c, sleeps, _e = run_main_with(src, monkeypatch, dict(BASE), client, [busy, lambda c: None, lambda c: None])
    assert sleeps[1] == 7
