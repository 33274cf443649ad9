# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a wait means for the task, in words: the verdict over a finished wait, the timeout message and the
progress lines. Plain Python, nothing from Ansible.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ._state import WaitState
from ._table import (
    ABORTED,
    FORGOTTEN,
    NOT_FOUND,
    ONTAP,
    UNKNOWN,
    _lower,
    action_for,
    classify,
    failure_reasons,
    ontap_parts,
    task_progress,
    vocabulary_of,
)
from ._text import one_line


def plural(count: int, noun: str) -> str:
    """'1 job', '2 jobs'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def describe(job: t.Mapping[str, t.Any]) -> str:
    """'KEY (NAME)' for messages; server text is made safe for one line."""
    name = job.get("name") or (job.get("description") if vocabulary_of(job.get("key")) == ONTAP else None)
    key = one_line(job.get("key"), 120)
    return f"{key} ({one_line(name, 120)})" if name else key


def job_line(job: t.Mapping[str, t.Any], elapsed: float | None = None) -> str:
    """One job as a progress line: key, name, state (and outcome once ended), tasks done."""
    verdict = classify(job)
    done, total = task_progress(job)
    text = f"job {describe(job)}: {one_line(verdict.state or 'unknown', 40)}"
    if verdict.terminal and verdict.outcome and verdict.outcome != verdict.state:
        text += f" ({verdict.outcome})"
    if total:
        text += f", tasks {done}/{total}"
    if elapsed is not None:
        text += f", {elapsed:.0f}s elapsed"
    return text


@dataclass
class Summary:
    """What a finished wait means for the task: fail or not, the message, the warnings."""
    failed: bool
    msg: str
    warnings: list[str]
    outcomes: dict[str, str | None]


def not_found_message(key: str) -> str:
    """The one wording for a job key UM (or, for an ONTAP job, the cluster) does not know (HTTP 404), for every entry
    point."""
    parts = ontap_parts(key)
    if parts is not None:
        return (f"ONTAP job {parts[1]} does not exist on cluster {parts[0]} (HTTP 404 through UM's API gateway, never "
                "seen by this wait): the key is wrong, or the job ended more than ONTAP keeps it (about 300 s) ago; "
                "its outcome cannot be read, so check what it was to change")
    return (f"job {one_line(key, 120)} does not exist on UM (HTTP 404): check the key; aiqum.jobs.um_job_info "
            "lists recent jobs")


def forgotten_message(key: str, job: t.Mapping[str, t.Any] | None = None) -> str:
    """A job seen running that ONTAP then answered 404 for: it ended and ONTAP forgot it before it was looked at."""
    shown = describe(job) if job else one_line(key, 120)
    return (f"ONTAP job {shown} was seen running, then ONTAP answered 404 for it: it ended and ONTAP forgot it (ONTAP "
            "keeps an ended job about 300 s) before it was looked at again, so its outcome is unknown and not counted "
            "a success; check what it was to change")


def summarize(state: WaitState, fail_on_partial: bool = False, warn_on_warning: bool = True) -> Summary:
    """The task's verdict over a wait, by the table: fail on error/abort/unknown/timeout, warn on the rest."""
    keys = state.keys
    failures: list[str] = []
    warnings = [f"job {one_line(k, 120)} reports state '{one_line(s, 40)}', which this collection does not know; "
                "it was treated as still running" for k, s in state.unknown_states.items()]
    outcomes: dict[str, str | None] = {}
    for key in keys:
        if key in state.missing:
            outcomes[key] = NOT_FOUND
            failures.append(not_found_message(key))
            continue
        job = state.jobs.get(key)
        if key in state.ended:
            # Decided when the job was seen ending (perhaps in an earlier progress slice).
            outcome, status = state.ended[key], _lower((job or {}).get("status"))
        elif job is not None and classify(job).terminal:
            verdict = classify(job)
            outcome, status = verdict.outcome or UNKNOWN, verdict.status
        else:
            outcomes[key] = classify(job).outcome if job is not None else None
            continue
        outcomes[key] = outcome
        shown = describe(job) if job is not None else one_line(key, 120)
        action = action_for(outcome, fail_on_partial, warn_on_warning)
        if action == "ok":
            continue
        if outcome == FORGOTTEN:
            failures.append(forgotten_message(key, job))
            continue
        if outcome == UNKNOWN:
            text = f"job {shown} ended with status '{one_line(status or '(none)', 40)}', which is " \
                   "not a known outcome; treating it as a failure"
        elif outcome == ABORTED:
            text = f"job {shown} was aborted"
        else:
            text = f"job {shown} ended with status {outcome}"
        reasons = failure_reasons(job) if job is not None else []
        if reasons:
            text += ": " + "; ".join(reasons)
        (failures if action == "fail" else warnings).append(text)
    if failures:
        msg = "; ".join(failures)
        if len(keys) > 1:
            msg = f"{len(failures)} of {plural(len(keys), 'job')} failed: {msg}"
        if state.pending:
            msg += f"; {plural(len(state.pending), 'job')} still running at the end of the wait"
    elif state.pending:
        msg = timeout_message(state)
    elif len(keys) == 1:
        job = state.jobs.get(keys[0])
        msg = f"job {describe(job) if job else one_line(keys[0], 120)} ended with status {outcomes[keys[0]]}"
    else:
        msg = f"all {len(keys)} jobs ended: " + ", ".join(
            f"{n} {o}" for o, n in sorted(_count(outcomes.values()).items()))
    return Summary(bool(failures) or bool(state.pending), msg, warnings, outcomes)


def timeout_message(state: WaitState) -> str:
    """What is still running at the deadline, the keys to resume with, and the last error."""
    parts = []
    for k in state.pending:
        job = state.jobs.get(k)
        parts.append(job_line(job, state.elapsed).replace("job ", "", 1) if job else f"{k} (never seen)")
    msg = (f"timed out after {state.timeout:g}s with {len(state.pending)} of {plural(len(state.keys), 'job')} still "
           f"running: {'; '.join(parts)}")
    if state.last_error:
        msg += f". Last error: {one_line(state.last_error)}"
    return msg + ". The jobs go on in UM; resume with aiqum.jobs.um_job_wait and keys from 'pending'."


def _count(values: t.Iterable[str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out


# How many jobs a progress report names, beyond its summary line.
PROGRESS_NAMED = 10


def progress_lines(state: WaitState) -> list[str]:
    """The lines to print after a slice: one job's line, or for many jobs one summary line plus the jobs that ended
    during the slice (on the first report, the jobs that had already ended); then, while requests fail, why."""
    if len(state.keys) == 1:
        key = state.keys[0]
        job = state.jobs.get(key)
        out = [job_line(job, state.elapsed) if job else f"job {key}: not seen yet, {state.elapsed:.0f}s elapsed"]
    else:
        counts: dict[str, int] = {}
        for key in state.keys:
            sig = NOT_FOUND if key in state.missing else state.ended.get(key, "running")
            counts[sig] = counts.get(sig, 0) + 1
        # Records of jobs that ended in earlier slices do not travel: those present ended during this slice.
        ended = [job_line(state.jobs[k]) for k in state.keys if k in state.ended and k in state.jobs]
        ended += [f"job {one_line(k, 120)}: not found" for k in state.missing]
        running = counts.pop("running", 0)
        summary = f"{running} of {plural(len(state.keys), 'job')} running"
        summary += "".join(f", {n} {o}" for o, n in sorted(counts.items()))
        out = [f"{summary}, {state.elapsed:.0f}s elapsed"]
        out += ["  " + line for line in ended[:PROGRESS_NAMED]]
        if len(ended) > PROGRESS_NAMED:
            out.append(f"  ... and {len(ended) - PROGRESS_NAMED} more ended")
    if state.failures and state.last_error:
        out.append(f"  {plural(state.failures, 'request')} failed, retrying: {one_line(state.last_error)}")
    return out
