# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ONTAP's jobs through UM's API gateway: the table's ONTAP column beside UM's, the one key form, and the waiter
on ONTAP's jobs (a fake clock and a scripted gateway: nothing here sleeps for real)."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError
from ansible_collections.aiqum.jobs.plugins.module_utils._report import job_line, progress_lines, summarize
from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitOptions, WaitState
from ansible_collections.aiqum.jobs.plugins.module_utils._table import (
    FORGOTTEN,
    NOT_FOUND,
    ONTAP,
    UM,
    action_for,
    check_key,
    check_keys,
    classify,
    failure_reasons,
    gateway_cluster_of,
    job_handle_of,
    ontap_key,
    ontap_parts,
    vocabulary_of,
)
from ansible_collections.aiqum.jobs.plugins.module_utils._waiter import JobWaiter
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import (
    CLUSTER,
    CLUSTER2,
    FakeClock,
    FakeGateway,
    FakeOntapJob,
    Reply,
    http_error,
    job,
)

pytestmark = pytest.mark.usefixtures("no_sleep")

U1 = "0a1b2c3d-0000-11ee-8c1a-005056a70001"
U2 = "0a1b2c3d-0000-11ee-8c1a-005056a70002"
U3 = "0a1b2c3d-0000-11ee-8c1a-005056a70003"
UM_KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
UM_RESOURCE_KEY = "4a2f7c1e-aaaa-11ee-8c1a-005056a7e001:type=lun,uuid=0d3c6b1e-bbbb-11ee-8c1a-005056a7e001"
HREF = f"/api/gateways/{CLUSTER}/cluster/jobs/{U1}"
KEY = f"ontap:{CLUSTER}:{U1}"


# -- the table: one table, two vocabularies ---------------------------------------------------------

@pytest.mark.parametrize("vocabulary, record, terminal, outcome, action", [
    # UM's column
    (UM, {"state": "running", "status": "normal"}, False, None, None),
    (UM, {"state": "completed", "status": "normal"}, True, "normal", "ok"),
    (UM, {"state": "completed", "status": "warning"}, True, "warning", "warn"),
    (UM, {"state": "completed", "status": "partial_failures"}, True, "partial_failures", "warn"),
    (UM, {"state": "completed", "status": "error"}, True, "error", "fail"),
    (UM, {"state": "aborted", "status": "error"}, True, "aborted", "fail"),
    # ONTAP's column, beside it
    (ONTAP, {"state": "queued"}, False, None, None),
    (ONTAP, {"state": "running"}, False, None, None),
    (ONTAP, {"state": "paused"}, False, None, None),
    (ONTAP, {"state": "success", "message": "success", "code": 0}, True, "success", "ok"),
    (ONTAP, {"state": "failure", "message": "Duplicate volume name v1.", "code": 917927}, True, "failure", "fail"),
    (ONTAP, {"state": "SUCCESS"}, True, "success", "ok"),
])
def test_one_table_two_vocabularies(vocabulary, record, terminal, outcome, action):
    verdict = classify(record, vocabulary)
    assert verdict.terminal is terminal and verdict.outcome == outcome and verdict.known_state
    if terminal:
        assert action_for(outcome) == action


def test_vocabulary_comes_from_the_handle_never_from_the_record():
    # ONTAP's words in a UM job are not an outcome, and UM's words in an ONTAP job are not either.
    assert not classify({"key": UM_KEY, "state": "success"}).terminal
    assert not classify({"key": UM_KEY, "state": "success"}).known_state
    assert not classify({"key": KEY, "state": "completed", "status": "normal"}).terminal
    assert not classify({"key": KEY, "state": "completed"}).known_state
    # The record's key names the vocabulary, and an explicit one wins.
    assert classify({"key": KEY, "state": "failure"}).outcome == "failure"
    assert classify({"state": "failure"}, ONTAP).outcome == "failure"
    assert vocabulary_of(KEY) == ONTAP and vocabulary_of(UM_KEY) == UM and vocabulary_of(UM_RESOURCE_KEY) == UM


def test_forgotten_and_not_found_fail():
    assert action_for(FORGOTTEN) == "fail" and action_for(NOT_FOUND) == "fail"


def test_ontap_failure_reason_is_message_and_code():
    reasons = failure_reasons({"key": KEY, "state": "failure", "message": "Duplicate\nvolume name v1.",
                               "code": 917927})
    assert reasons == ["ONTAP says: Duplicate volume name v1. (code 917927)"]
    assert failure_reasons({"key": UM_KEY, "message": "x", "code": 1}) == []


# -- the one key form ----------------------------------------------------------------------------------

@pytest.mark.parametrize("given", [
    KEY,
    HREF,
    f"https://um.example.com{HREF}",
    HREF[len("/api"):],
    {"uuid": U1, "_links": {"self": {"href": HREF}}},
    {"job": {"uuid": U1, "_links": {"self": {"href": HREF}}}},
    {"key": KEY, "state": "running"},
])
def test_ontap_job_in_any_form_becomes_its_key(given):
    assert check_key(given) == KEY
    assert ontap_parts(check_key(given)) == (CLUSTER, U1)


@pytest.mark.parametrize("key", [UM_KEY, UM_RESOURCE_KEY.replace("=", "").replace(",", ""), "85b6:-44:16e6:-6fac"])
def test_um_keys_are_never_mistaken_for_ontap(key):
    assert check_key(key) == key
    assert ontap_parts(key) is None and vocabulary_of(key) == UM


def test_um_resource_key_is_not_an_ontap_key():
    assert ontap_parts(UM_RESOURCE_KEY) is None and vocabulary_of(UM_RESOURCE_KEY) == UM


@pytest.mark.parametrize("bad", [f"ontap:{CLUSTER}", f"ontap:{CLUSTER}:{U1}/x", f"ontap:{CLUSTER}:{U1}:x",
                                 f"ontap:{CLUSTER}:a|b", "ontap::"])
def test_malformed_ontap_key_refused_in_one_line(bad):
    with pytest.raises(UMConfigError) as err:
        check_key(bad)
    assert "\n" not in str(err.value) and "ontap:<cluster uuid>:<job uuid>" in str(err.value)


def test_um_job_info_and_lookup_refuse_ontap_keys_in_one_line():
    for given in (KEY, HREF):
        with pytest.raises(UMConfigError) as err:
            check_key(given, ontap=False)
        assert "ONTAP job" in str(err.value) and "um_job_wait" in str(err.value) and "\n" not in str(err.value)
    assert check_key(UM_KEY, ontap=False) == UM_KEY


def test_keys_mixing_um_and_ontap_and_duplicates_by_form():
    assert check_keys([UM_KEY, HREF, ontap_key(CLUSTER, U2)]) == [UM_KEY, KEY, f"ontap:{CLUSTER}:{U2}"]
    with pytest.raises(UMConfigError):
        check_keys([KEY, HREF])  # the same job twice, in two forms


def test_job_handle_of_an_answer_through_the_gateway():
    answer = {"job": {"uuid": U1, "_links": {"self": {"href": HREF}}}}
    assert job_handle_of(answer, gateway=CLUSTER) == ("job.uuid", KEY, answer["job"])
    # No link: the path's cluster names it.
    assert job_handle_of({"job": {"uuid": U2}}, gateway=CLUSTER)[1] == f"ontap:{CLUSTER}:{U2}"
    # Not through the gateway: ONTAP's shape is not a UM job.
    assert job_handle_of(answer) is None
    assert job_handle_of({"job": {"key": UM_KEY}})[1] == UM_KEY


def test_gateway_cluster_of_path():
    assert gateway_cluster_of(f"/gateways/{CLUSTER}/storage/volumes") == CLUSTER
    assert gateway_cluster_of("/gateways") is None
    assert gateway_cluster_of("/storage-provider/luns") is None


# -- the resume state keeps "seen running" and ONTAP's outcomes ----------------------------------------

def test_state_carries_seen_running_and_ontap_outcomes():
    keys = [KEY, f"ontap:{CLUSTER}:{U2}", f"ontap:{CLUSTER}:{U3}", UM_KEY, f"ontap:{CLUSTER2}:{U1}"]
    state = WaitState(keys=keys, started=1000.0, deadline=2000.0)
    state.ended = {keys[0]: "success", keys[1]: "failure", keys[2]: FORGOTTEN}
    state.seen_running = {keys[4]}
    carried = state.carry()
    assert carried["codes"] == "sfg.r"
    again = WaitState.resume(carried, keys)
    assert again.ended == state.ended and again.seen_running == {keys[4]} and again.pending == [UM_KEY, keys[4]]


# -- the waiter on ONTAP's jobs ---------------------------------------------------------------------------

def gateway(*jobs, retention=300.0, um_jobs=(), **kw):
    clock = FakeClock()
    return clock, FakeGateway(clock, ontap=jobs, retention=retention, jobs=um_jobs, **kw)


def wait(clock, server, keys, state=None, **opts):
    waiter = JobWaiter(server, WaitOptions(**opts), clock=clock, sleep=clock.sleep)
    result = waiter.run(state or waiter.start(keys))
    assert result.polls == len(server.calls)
    assert all(c.retry is False for c in server.calls)
    # Never UM's long poll or history at ONTAP, and never a history request for ONTAP's jobs.
    assert all(c.poll_timeout is None for c in server.calls if c.kind.startswith("ontap"))
    return result


@pytest.mark.parametrize("duration", [round(0.5 + 0.25 * i, 2) for i in range(0, 119)])
def test_look_soon_then_back_off(duration):
    """Found within 1 s + 10 % of its age, and a 10 s job (or shorter) costs at most 8 looks."""
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, duration))
    result = wait(clock, server, [KEY])
    assert result.ended == {KEY: "success"} and result.pending == []
    found = result.elapsed
    assert found - duration <= 1.0 + 0.1 * found, (duration, found)
    if duration <= 10.0:
        assert server.looks_at(KEY) <= 8, (duration, server.looks_at(KEY))
    assert all(c.kind == "ontap_job" for c in server.calls)


def test_ten_second_job_started_just_now_costs_at_most_8_looks():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, 10.0))
    result = wait(clock, server, [KEY])
    assert server.looks_at(KEY) <= 8 and result.elapsed - 10.0 <= 2.0


def test_several_jobs_of_a_cluster_in_one_list_request_with_their_fields():
    jobs = [FakeOntapJob(CLUSTER, u, d) for u, d in ((U1, 3.0), (U2, 6.0), (U3, 9.0))]
    clock, server = gateway(*jobs)
    keys = [j.key for j in jobs]
    result = wait(clock, server, keys)
    assert result.ended == {k: "success" for k in keys}
    # One list request while several are pending; a plain GET once only the last one is.
    assert server.calls[0].kind == "ontap_list"
    assert all(c.kind == "ontap_list" or c.keys == (keys[2],) for c in server.calls)
    first = server.ontap_params[0]
    assert first["uuid"] == f"{U1}|{U2}|{U3}"
    assert {"state", "message", "code", "start_time"} <= set(first["fields"].split(","))
    assert len(server.calls) <= 9
    assert result.elapsed - 9.0 <= 1.0 + 0.1 * result.elapsed


def test_jobs_of_two_clusters_and_um_in_one_wait_are_batched_per_origin():
    ontap = [FakeOntapJob(CLUSTER, U1, 4.0), FakeOntapJob(CLUSTER, U2, 5.0), FakeOntapJob(CLUSTER2, U3, 6.0)]
    um = [job(UM_KEY, 5.0), job("85b642774a960362:-4405f3a8:16e686b7083:-6fac", 7.0)]
    clock, server = gateway(*ontap, um_jobs=um)
    keys = [j.key for j in ontap] + [j.key for j in um]
    result = wait(clock, server, keys)
    assert result.pending == [] and [result.ended[k] for k in keys] == ["success"] * 3 + ["normal"] * 2
    kinds = [c.kind for c in server.calls]
    assert "history" not in kinds
    # ONTAP: one list per cluster with several jobs, a plain GET for the lone job; UM: its list request.
    assert any(c.kind == "ontap_list" and set(c.keys) == {ontap[0].key, ontap[1].key} for c in server.calls)
    assert any(c.kind == "ontap_job" and c.keys == (ontap[2].key,) for c in server.calls)
    assert any(c.kind == "list" and set(c.keys) == {um[0].key, um[1].key} for c in server.calls)
    assert not any(c.kind.startswith("ontap") and UM_KEY in c.keys for c in server.calls)
    assert not any(c.kind in ("job", "list") and any(k.startswith("ontap:") for k in c.keys) for c in server.calls)


def test_failure_fails_with_ontaps_message_and_code():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, 2.0, outcome="failure", message="Duplicate volume name v1.",
                                         code=917927))
    result = wait(clock, server, [KEY])
    verdict = summarize(result)
    assert verdict.failed and verdict.outcomes == {KEY: "failure"}
    assert "Duplicate volume name v1." in verdict.msg and "917927" in verdict.msg and "\n" not in verdict.msg


def test_success_is_ok():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, 2.0))
    verdict = summarize(wait(clock, server, [KEY]))
    assert not verdict.failed and verdict.outcomes == {KEY: "success"} and "success" in verdict.msg


def test_paused_is_still_running_and_shown_as_such():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, 20.0, paused=(2.0, 12.0)))
    waiter = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep)
    state = waiter.start([KEY])
    waiter.run(state, until=clock() + 5.0)
    assert state.pending == [KEY] and state.jobs[KEY]["state"] == "paused"
    assert "paused" in job_line(state.jobs[KEY]) and "paused" in progress_lines(state)[0]
    assert not state.unknown_states
    waiter.run(state)
    assert state.ended == {KEY: "success"}


def test_job_seen_running_then_404_was_forgotten_never_a_success():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, 3.0), retention=0.0)
    result = wait(clock, server, [KEY])
    assert result.ended == {KEY: FORGOTTEN} and result.missing == []
    verdict = summarize(result)
    assert verdict.failed and "forgot" in verdict.msg and "\n" not in verdict.msg


def test_job_never_seen_404_is_not_found():
    clock, server = gateway()
    result = wait(clock, server, [KEY])
    assert result.missing == [KEY] and result.polls == 1
    verdict = summarize(result)
    assert verdict.failed and verdict.outcomes == {KEY: NOT_FOUND}
    assert "does not exist on cluster" in verdict.msg and "\n" not in verdict.msg


def test_one_forgotten_in_a_list_is_asked_for_directly():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, 4.0))
    k2 = f"ontap:{CLUSTER}:{U2}"
    result = wait(clock, server, [KEY, k2])
    assert result.ended == {KEY: "success"} and result.missing == [k2]
    assert [c.kind for c in server.calls][:2] == ["ontap_list", "ontap_job"]


def test_forgetting_rule_survives_a_progress_slice():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, 3.0), retention=0.0)
    waiter = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep)
    state = waiter.start([KEY])
    waiter.run(state, until=clock() + 2.0)
    carried = state.carry()
    assert carried["codes"] == "r"
    again = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep)
    resumed = again.run(WaitState.resume(carried, [KEY]))
    assert resumed.ended == {KEY: FORGOTTEN}


def test_unknown_cluster_is_ums_404_told_apart_from_ontaps():
    clock, server = gateway(clusters=())
    waiter = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep)
    with pytest.raises(UMConfigError) as err:
        waiter.wait([KEY])
    assert "does not reach cluster" in str(err.value) and "entity_not_found" in str(err.value)


def test_never_past_the_timeout():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, None))
    result = wait(clock, server, [KEY], timeout=25)
    assert result.timed_out and result.pending == [KEY]
    assert result.elapsed == pytest.approx(25.0, abs=1e-6)
    assert all(c.end <= 25.0 + 1e-9 for c in server.calls)


def test_long_running_job_looks_are_spaced_but_never_beyond_the_cap():
    clock, server = gateway(FakeOntapJob(CLUSTER, U1, 600.0))
    result = wait(clock, server, [KEY])
    assert result.ended == {KEY: "success"}
    assert result.elapsed - 600.0 <= 30.0
    assert max(s for _w, s in clock.sleeps) <= 30.0
    assert server.looks_at(KEY) < 60


@pytest.mark.parametrize("status", [400, 404])
def test_a_gateway_without_the_job_list_is_asked_job_by_job(status):
    jobs = [FakeOntapJob(CLUSTER, U1, 3.0), FakeOntapJob(CLUSTER, U2, 4.0)]
    clock, server = gateway(*jobs)
    server.faults[0] = http_error(status, f"/gateways/{CLUSTER}/cluster/jobs", "Unexpected argument fields.",
                                  target="fields")
    result = wait(clock, server, [j.key for j in jobs])
    assert result.ended == {jobs[0].key: "success", jobs[1].key: "success"}
    kinds = [c.kind for c in server.calls]
    assert kinds[0] == "ontap_list" and "ontap_list" not in kinds[1:], "the list is not asked again in this run"


def test_listed_records_without_their_state_are_asked_for_directly():
    jobs = [FakeOntapJob(CLUSTER, U1, 3.0), FakeOntapJob(CLUSTER, U2, 4.0)]
    clock, server = gateway(*jobs)
    server.faults[0] = Reply([{"uuid": U1}, {"uuid": U2}])  # fields ignored: only the uuids
    result = wait(clock, server, [j.key for j in jobs])
    assert result.ended == {jobs[0].key: "success", jobs[1].key: "success"}
    assert [c.kind for c in server.calls][:3] == ["ontap_list", "ontap_job", "ontap_job"]


def test_unknown_cluster_through_the_list_is_still_told_apart():
    clock, server = gateway(clusters=())
    waiter = JobWaiter(server, WaitOptions(), clock=clock, sleep=clock.sleep)
    with pytest.raises(UMConfigError) as err:
        waiter.wait([KEY, f"ontap:{CLUSTER}:{U2}"])
    assert "does not reach cluster" in str(err.value)
