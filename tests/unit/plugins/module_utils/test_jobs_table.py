# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outcome table (classify / action_for / summarize), key validation and progress."""

from __future__ import annotations

import pytest

from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMConfigError, UMHTTPError
from ansible_collections.aiqum.jobs.plugins.module_utils._report import job_line
from ansible_collections.aiqum.jobs.plugins.module_utils._report import summarize as summarize_state
from ansible_collections.aiqum.jobs.plugins.module_utils._state import WaitState
from ansible_collections.aiqum.jobs.plugins.module_utils._table import (
    ABORTED,
    ERROR,
    MAX_KEY_LENGTH,
    PARTIAL,
    SUCCESS,
    UNKNOWN,
    WARNING,
    action_for,
    check_key,
    check_keys,
    classify,
    failure_reasons,
    results_of,
    task_progress,
)


def summarize(jobs, keys, pending=(), **switches):
    """The verdict over jobs as last seen, through the one summarize() every path uses."""
    state = WaitState(keys=list(keys), started=0.0, deadline=60.0, jobs=dict(jobs))
    state.ended = {k: classify(j).outcome for k, j in jobs.items() if k not in pending and classify(j).terminal}
    return summarize_state(state, **switches)


pytestmark = pytest.mark.usefixtures("no_sleep")

KEY = "2c6002305af315d6:-36e66c:16e3ae18e35:-7ff4"
KEY2 = "85b642774a960362:-4405f3a8:16e686b7083:-6fac"
KEY3 = "85b642774a960362:-4405f3a8:16e686b7083:-6fab"


def mkjob(key=KEY, state="completed", status="normal", **kw):
    out = {"key": key, "name": f"Create LUN {key[-4:]}", "state": state, "status": status}
    out.update(kw)
    return out


# -- classify ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, outcome", [
    ("normal", SUCCESS), ("warning", WARNING), ("partial_failures", PARTIAL), ("error", ERROR),
])
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_completed_takes_its_outcome_from_status_in_any_case(status, outcome, case):
    verdict = classify({"state": case("completed"), "status": case(status)})
    assert verdict.terminal is True
    assert verdict.outcome == outcome
    assert verdict.known_state is True
    assert verdict.state == "completed" and verdict.status == status


def test_values_are_trimmed():
    verdict = classify({"state": "  Completed ", "status": " ERROR\n"})
    assert (verdict.terminal, verdict.outcome) == (True, ERROR)


@pytest.mark.parametrize("status", ["normal", "error", "", None, "whatever"])
def test_aborted_is_terminal_and_a_failure_whatever_the_status(status):
    verdict = classify({"state": "ABORTED", "status": status})
    assert (verdict.terminal, verdict.outcome) == (True, ABORTED)
    assert action_for(verdict.outcome) == "fail"


@pytest.mark.parametrize("state, outcome", [
    ("NORMAL", SUCCESS), ("normal", SUCCESS), ("ERROR", ERROR), ("Partial_Failures", PARTIAL),
])
def test_prose_style_terminal_states(state, outcome):
    """Servers that follow the vendor's prose put the outcome in `state` itself."""
    verdict = classify({"state": state})
    assert (verdict.terminal, verdict.outcome, verdict.known_state) == (True, outcome, True)


def test_prose_warning_state_is_still_running():
    verdict = classify({"state": "WARNING", "status": "warning"})
    assert (verdict.terminal, verdict.outcome, verdict.known_state) == (False, None, True)


@pytest.mark.parametrize("state", ["running", "RUNNING", "aborting", "queued", "scheduled", "pending", "starting"])
def test_running_states_are_not_terminal(state):
    verdict = classify({"state": state, "status": "normal"})
    assert (verdict.terminal, verdict.outcome, verdict.known_state) == (False, None, True)


@pytest.mark.parametrize("state", ["suspended", "paused", "done", "finished", "", None, 42])
def test_unknown_states_are_not_terminal_and_flagged(state):
    verdict = classify({"state": state, "status": "normal"})
    assert verdict.terminal is False
    assert verdict.outcome is None
    assert verdict.known_state is False


def test_missing_fields_do_not_crash():
    verdict = classify({})
    assert (verdict.terminal, verdict.known_state, verdict.state, verdict.status) == (False, False, "", "")


@pytest.mark.parametrize("status", ["success", "ok", "", None, "failed", "NORMALISH"])
def test_completed_with_an_unknown_status_is_a_failure(status):
    verdict = classify({"state": "completed", "status": status})
    assert (verdict.terminal, verdict.outcome) == (True, UNKNOWN)
    assert action_for(verdict.outcome) == "fail"
    assert action_for(verdict.outcome, fail_on_partial=False, warn_on_warning=False) == "fail"


# -- action_for -------------------------------------------------------------------------------------

@pytest.mark.parametrize("outcome, default, partial_fails, warning_silenced", [
    (SUCCESS, "ok", "ok", "ok"),
    (WARNING, "warn", "warn", "ok"),
    (PARTIAL, "warn", "fail", "warn"),
    (ERROR, "fail", "fail", "fail"),
    (ABORTED, "fail", "fail", "fail"),
    (UNKNOWN, "fail", "fail", "fail"),
    ("something-new", "fail", "fail", "fail"),
])
def test_action_for_with_each_switch(outcome, default, partial_fails, warning_silenced):
    assert action_for(outcome) == default
    assert action_for(outcome, fail_on_partial=True) == partial_fails
    assert action_for(outcome, warn_on_warning=False) == warning_silenced


# -- summarize --------------------------------------------------------------------------------------

def test_summary_single_success():
    summary = summarize({KEY: mkjob()}, [KEY])
    assert summary.failed is False
    assert summary.warnings == []
    assert summary.outcomes == {KEY: SUCCESS}
    assert KEY in summary.msg and "normal" in summary.msg


def test_summary_error_names_each_failed_task_and_reason():
    tasks = [
        {"key": "t1", "name": "Create volume", "state": "completed", "status": "normal"},
        {"key": "t2", "name": "Create LUN", "state": "completed", "status": "error",
         "failure_reason": "Aggregate aggr1 has insufficient space."},
        {"key": "t3", "state": "completed", "status": "error", "failure_reason": "Rollback failed."},
    ]
    summary = summarize({KEY: mkjob(status="error", task_reports=tasks)}, [KEY])
    assert summary.failed is True
    assert KEY in summary.msg and "error" in summary.msg
    assert "task 'Create LUN': Aggregate aggr1 has insufficient space." in summary.msg
    assert "task 't3': Rollback failed." in summary.msg
    assert "Create volume" not in summary.msg
    assert "\n" not in summary.msg


def test_summary_partial_failures_warn_by_default():
    tasks = [{"name": "Map LUN", "state": "completed", "status": "error", "failure_reason": "igroup missing"}]
    summary = summarize({KEY: mkjob(status="partial_failures", task_reports=tasks)}, [KEY])
    assert summary.failed is False
    assert len(summary.warnings) == 1
    assert KEY in summary.warnings[0] and "partial_failures" in summary.warnings[0]
    assert "igroup missing" in summary.warnings[0]


def test_summary_partial_failures_fail_when_asked():
    summary = summarize({KEY: mkjob(status="PARTIAL_FAILURES")}, [KEY], fail_on_partial=True)
    assert summary.failed is True
    assert summary.warnings == []
    assert "partial_failures" in summary.msg


def test_summary_warning_warns_and_can_be_silenced():
    loud = summarize({KEY: mkjob(status="warning")}, [KEY])
    assert loud.failed is False and len(loud.warnings) == 1 and "warning" in loud.warnings[0]
    quiet = summarize({KEY: mkjob(status="warning")}, [KEY], warn_on_warning=False)
    assert quiet.failed is False and quiet.warnings == []
    assert quiet.outcomes == {KEY: WARNING}


def test_summary_aborted_and_unknown_status_messages():
    aborted = summarize({KEY: mkjob(state="aborted", status="normal")}, [KEY])
    assert aborted.failed and "was aborted" in aborted.msg
    odd = summarize({KEY: mkjob(status="great")}, [KEY])
    assert odd.failed and "'great'" in odd.msg and "not a known outcome" in odd.msg
    empty = summarize({KEY: mkjob(status=None)}, [KEY])
    assert empty.failed and "(none)" in empty.msg


def test_summary_many_jobs_counts_failures_and_outcomes():
    jobs = {KEY: mkjob(KEY), KEY2: mkjob(KEY2, status="error"), KEY3: mkjob(KEY3, status="warning")}
    summary = summarize(jobs, [KEY, KEY2, KEY3])
    assert summary.failed is True
    assert summary.msg.startswith("1 of 3 jobs failed: ")
    assert KEY2 in summary.msg and KEY not in summary.msg.replace(KEY2, "")
    assert summary.outcomes == {KEY: SUCCESS, KEY2: ERROR, KEY3: WARNING}
    assert len(summary.warnings) == 1 and KEY3 in summary.warnings[0]


def test_summary_many_jobs_all_ok():
    jobs = {KEY: mkjob(KEY), KEY2: mkjob(KEY2), KEY3: mkjob(KEY3, status="warning")}
    summary = summarize(jobs, [KEY, KEY2, KEY3], warn_on_warning=False)
    assert summary.failed is False
    assert summary.msg == "all 3 jobs ended: 2 normal, 1 warning"


def test_summary_of_a_wait_with_jobs_still_running_is_the_timeout():
    jobs = {KEY: mkjob(KEY), KEY2: mkjob(KEY2, state="running")}
    summary = summarize(jobs, [KEY, KEY2, KEY3], pending=[KEY2, KEY3])
    assert summary.failed is True
    assert summary.msg.startswith("timed out after 60s with 2 of 3 jobs still running: ")
    assert f"{KEY3} (never seen)" in summary.msg and "resume with aiqum.jobs.um_job_wait" in summary.msg
    assert summary.outcomes == {KEY: SUCCESS, KEY2: None, KEY3: None}


def test_summary_failure_wins_over_pending():
    jobs = {KEY: mkjob(KEY, status="error"), KEY2: mkjob(KEY2, state="running")}
    summary = summarize(jobs, [KEY, KEY2], pending=[KEY2])
    assert summary.failed is True
    assert "1 of 2 jobs failed" in summary.msg


def test_failure_reasons_and_results_ignore_garbage():
    job = mkjob(task_reports=["junk", {"name": "a"}, {"name": "b", "failure_reason": "boom"}],
                job_results=[{"name": "lunKey", "value": "lun-1"}, {"value": "no name"}, "junk", {"name": "x"}])
    assert failure_reasons(job) == ["task 'b': boom"]
    assert results_of(job) == {"lunKey": "lun-1", "x": None}
    assert results_of({"job_results": None}) == {}


# -- check_key / check_keys -----------------------------------------------------------------------

@pytest.mark.parametrize("key", [KEY, "85b642774a960362:-4405f3a8:16e686b7083:-6fac", "42", "a.b", "x" * MAX_KEY_LENGTH])
def test_valid_keys_pass(key):
    assert check_key(key) == key


def test_key_is_trimmed():
    assert check_key(f"  {KEY}\n") == KEY


@pytest.mark.parametrize("key, words", [
    ("", "empty"), ("   ", "empty"), ("\t\n", "empty"),
    (None, "not a string"), (42, "not a string"), (["a"], "not a string"),
    ("x" * (MAX_KEY_LENGTH + 1), "characters long"),
    ("abc/def", "'/'"), ("abc?x=1", "holds '=?'"), ("abc#frag", "'#'"), ("../admin", ".."), ("a..b", ".."),
    ("a b", "' '"), ("caf\u00e9", "\u00e9"), ("\u043a\u043b\u044e\u0447", "not a UM job key"),
    ("a|b", "'|'"), ("a%3Ab", "'%'"), ("a&b=c", "not a UM job key"), ("a\\b", "not a UM job key"),
])
def test_invalid_keys_are_refused_with_a_one_line_reason(key, words):
    with pytest.raises(UMConfigError) as err:
        check_key(key)
    msg = str(err.value)
    assert words in msg
    assert "\n" not in msg and "\r" not in msg


@pytest.mark.parametrize("key", ["a\nb", "a\rb", "a\x00b", "a\x1b[31mb", "x" * 30 + "\n" + "y" * 300])
def test_keys_with_control_characters_give_one_line_messages(key):
    with pytest.raises(UMConfigError) as err:
        check_key(key)
    msg = str(err.value)
    assert "\n" not in msg and "\r" not in msg and "\x00" not in msg and "\x1b" not in msg


def test_long_key_message_shows_only_a_prefix():
    with pytest.raises(UMConfigError) as err:
        check_key("k" * 5000)
    assert len(str(err.value)) < 300
    assert "5000" in str(err.value)


def test_check_keys_returns_trimmed_keys_in_order():
    assert check_keys([KEY3, f" {KEY} ", KEY2]) == [KEY3, KEY, KEY2]


def test_check_keys_refuses_empty():
    with pytest.raises(UMConfigError, match="keys is empty"):
        check_keys([])


@pytest.mark.parametrize("keys", [[KEY, KEY2, KEY], [KEY, f" {KEY}"]])
def test_check_keys_refuses_duplicates_naming_the_key(keys):
    with pytest.raises(UMConfigError) as err:
        check_keys(keys)
    assert KEY in str(err.value) and "more than once" in str(err.value)


def test_check_keys_names_the_bad_key():
    with pytest.raises(UMConfigError) as err:
        check_keys([KEY, "bad/key"])
    assert "bad/key" in str(err.value)


# -- progress --------------------------------------------------------------------------------------

def test_progress_from_task_reports():
    tasks = [{"state": "COMPLETED"}, {"state": "running"}, {"state": "completed"}, {"state": "aborted"}, "junk"]
    assert task_progress({"task_reports": tasks}) == (3, 5)


def test_progress_from_spawned_job_summary_wins_over_tasks():
    job = {"spawned_job_summary": {"total_jobs": 5, "running_jobs": 2, "completed_jobs": 2, "aborted_jobs": 1,
                                   "successful_jobs": 1, "failed_jobs": 1},
           "task_reports": [{"state": "running"}]}
    assert task_progress(job) == (3, 5)


def test_progress_summary_values_as_strings_and_clamped():
    assert task_progress({"spawned_job_summary": {"total_jobs": "4", "completed_jobs": "3"}}) == (3, 4)
    assert task_progress({"spawned_job_summary": {"total_jobs": 2, "completed_jobs": 5, "aborted_jobs": 1}}) == (2, 2)


def test_progress_empty_summary_falls_back_to_tasks():
    job = {"spawned_job_summary": {"total_jobs": 0}, "task_reports": [{"state": "completed"}, {"state": "queued"}]}
    assert task_progress(job) == (1, 2)


@pytest.mark.parametrize("job", [{}, {"task_reports": []}, {"task_reports": "x"}, {"spawned_job_summary": "x"},
                                 {"spawned_job_summary": {"total_jobs": "many"}}])
def test_progress_unknown_is_zero(job):
    assert task_progress(job) == (0, 0)


def test_job_line():
    job = mkjob(state="RUNNING", task_reports=[{"state": "completed"}, {"state": "running"}])
    line = job_line(job, 12.4)
    assert line == f"job {KEY} (Create LUN 7ff4): running, tasks 1/2, 12s elapsed"
    assert job_line({"key": KEY}, 3) == f"job {KEY}: unknown, 3s elapsed"


@pytest.mark.parametrize("job, outcome", [
    ({"state": "WARNING", "status": "normal", "complete_time": "2026-11-27T10:00:06.000+00:00"}, "warning"),
    ({"state": "Warning", "complete_time": "2026-11-27T10:00:06.000+00:00"}, "warning"),
    ({"state": "running", "status": "error", "complete_time": "2026-11-27T10:00:06.000+00:00"}, "error"),
    ({"state": "odd", "status": "odd", "complete_time": "2026-11-27T10:00:06.000+00:00"}, "unknown"),
])
def test_a_job_with_a_complete_time_has_ended_whatever_its_state_says(job, outcome):
    """Issue 10 (8): prose-style final states (WARNING in capitals) with complete_time end the wait."""
    verdict = classify(dict(job, key=KEY))
    assert verdict.terminal and verdict.outcome == outcome


@pytest.mark.parametrize("job", [{"state": "WARNING"}, {"state": "running", "complete_time": ""},
                                 {"state": "running", "complete_time": None}])
def test_without_a_complete_time_a_warning_state_is_still_running(job):
    assert not classify(dict(job, key=KEY)).terminal


def test_um_error_messages_become_one_capped_line():
    """Issue 10 (11): UM's error message can span lines and run long; msg stays one readable line."""
    err = UMHTTPError(500, "GET", "/management-server/jobs/x", code="1", um_message="Line one\n\tline two\r\n" + "z" * 900,
                      target="key\nx")
    text = str(err)
    assert "\n" not in text and "\r" not in text and "\t" not in text
    assert "UM says: Line one line two zzz" in text and text.endswith("... (target: key\\x0ax)")
    assert len(text) < 450
