# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a job template's playbook through ansible-runner the way AWX/Tower does, against the simulator.

AWX hands ansible-runner a private data directory: project/ (the playbook), inventory/, env/extravars
(extra variables and survey answers) and env/envvars (what credential injectors put in the environment,
here the UM_* variables of awx/credential_type.yml, password included). This test builds that directory,
waits for UM to be idle with the wait_idle role, runs three LUN creations through the run_operation role (a long normal job, a partial-failures job and an
error job, in that order) and reads what AWX would show: the job events.

Run: .venv/bin/python -m pytest tests/awx -q
The collection is taken from AIQUM_COLLECTIONS_PATH, else from build/collections (laid by
`bash scripts/test.sh none`), else a private copy of this tree is laid under the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

ansible_runner = pytest.importorskip("ansible_runner")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "simulator"))
from umsim_launch import SimNotReady, SimProcess  # noqa: E402  pylint: disable=wrong-import-position
IDENT = "awx-job-1"
Inject = Callable[[dict[str, Any], Path], dict[str, str]]
# Excluded when laying a private copy, as scripts/lib.sh does.
LAY_EXCLUDES = {".git", ".venv", "build", "dist", ".ansible", "__pycache__", ".pytest_cache", "output", "results"}


def _collections_path(tmp_path: Path) -> Path:
    """A directory holding ansible_collections/aiqum/jobs."""
    given = os.environ.get("AIQUM_COLLECTIONS_PATH")
    if given:
        return Path(given)
    laid = ROOT / "build" / "collections"
    if (laid / "ansible_collections" / "aiqum" / "jobs" / "galaxy.yml").is_file():
        return laid
    private = tmp_path / "collections"
    shutil.copytree(ROOT, private / "ansible_collections" / "aiqum" / "jobs",
                    ignore=lambda _d, names: [n for n in names if n in LAY_EXCLUDES or n.endswith(".tar.gz")])
    return private


@pytest.fixture(scope="module")
def password() -> str:
    """A password that cannot turn up by chance, so finding it anywhere means it leaked."""
    return "Awx-Secret-" + secrets.token_hex(12)


@pytest.fixture(scope="module")
def umsim(tmp_path_factory: pytest.TempPathFactory, password: str) -> Iterator[dict[str, Any]]:
    """The simulator with this test's job rules and storage_admin password, started by the one launcher
    (tests/simulator/umsim_launch.py); stopped by its PID at the end."""
    sim = SimProcess(tmp_path_factory.mktemp("umsim") / "state", "--rules", str(HERE / "umsim-rules.json"),
                     env={"UMSIM_STORAGE_ADMIN_PASSWORD": password})
    try:
        sim.start()
    except SimNotReady as exc:
        pytest.fail(f"simulator did not start: {exc}")
    try:
        yield sim.info()
    finally:
        sim.stop()


def _run_job(tmp: Path, umsim: dict[str, Any], password: str, inject: Inject, luns: list[str],
             verbosity: int = 0) -> dict[str, Any]:
    """Build the private data directory as AWX does, run the playbook once, and collect what it left."""
    collections = _collections_path(tmp)
    pdd = tmp / "private_data_dir"
    (pdd / "project").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    (pdd / "env").mkdir()
    shutil.copy(HERE / "project" / "site.yml", pdd / "project" / "site.yml")
    (pdd / "inventory" / "hosts").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    # Survey answers / extra variables of the job template.
    (pdd / "env" / "extravars").write_text(json.dumps({
        "awx_test_luns": [{"name": name} for name in luns],
        "run_operation_progress_interval": 2,
        "run_operation_timeout": 60,
    }))
    # What the job's "NetApp Active IQ Unified Manager" credential injects (awx/credential_type.yml, rendered
    # as AWX renders it: the pasted CA certificate goes to a file under env/, UM_CA_PATH points at it).
    envvars = inject({"hostname": umsim["host"], "port": str(umsim["port"]), "username": "storage_admin",
                      "password": password, "ca_certificate": Path(umsim["ca_file"]).read_text()}, pdd)
    assert envvars["UM_PASSWORD"] == password and Path(envvars["UM_CA_PATH"]).parent == pdd / "env"
    # Plus what AWX itself sets for a job: where the collections are.
    envvars.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_NOCOLOR": "true",
    })
    (pdd / "env" / "envvars").write_text(json.dumps(envvars))
    (pdd / "env" / "settings").write_text(json.dumps({"job_timeout": 120, "suppress_ansible_output": True}))
    # ansible-playbook of this virtual environment, whatever PATH the test was started with.
    saved_path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{saved_path}"
    try:
        started = time.monotonic()
        runner = ansible_runner.run(private_data_dir=str(pdd), playbook="site.yml", ident=IDENT, quiet=True,
                                    verbosity=verbosity or None)
        took = time.monotonic() - started
    finally:
        os.environ["PATH"] = saved_path
    artifacts = pdd / "artifacts" / IDENT
    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"),
                                                        key=lambda p: int(p.name.split("-", 1)[0]))]
    print(f"ansible-runner took {took:.1f}s")
    return {"runner": runner, "pdd": pdd, "artifacts": artifacts, "events": events,
            "stdout": (artifacts / "stdout").read_text()}


@pytest.fixture(scope="module")
def awx_run(tmp_path_factory: pytest.TempPathFactory, umsim: dict[str, Any], password: str,
            inject: Inject) -> dict[str, Any]:
    """The job: a long normal job (progress lines), a partial-failures job, an error job (fails the job)."""
    return _run_job(tmp_path_factory.mktemp("awx"), umsim, password, inject, ["awx-long", "awx-partial", "awx-error"])


@pytest.fixture(scope="module")
def awx_run_verbose(tmp_path_factory: pytest.TempPathFactory, umsim: dict[str, Any], password: str,
                    inject: Inject) -> dict[str, Any]:
    """The same job template with verbosity 3 (-vvv), as users set it to debug a job; one short job."""
    return _run_job(tmp_path_factory.mktemp("awx-vvv"), umsim, password, inject, ["awx-partial"], verbosity=3)


def _stdout_of(events: list[dict]) -> str:
    return "\n".join(e.get("stdout", "") for e in events)


def _task_events(events: list[dict], event: str, task_part: str) -> list[dict]:
    return [e for e in events if e.get("event") == event and task_part in e.get("event_data", {}).get("task", "")]


def test_job_fails_on_the_error_job_only(awx_run: dict[str, Any]) -> None:
    runner = awx_run["runner"]
    assert runner.status == "failed", awx_run["stdout"][-3000:]
    assert runner.rc == 2
    assert (awx_run["artifacts"] / "status").read_text() == "failed"
    stats = [e for e in awx_run["events"] if e["event"] == "playbook_on_stats"]
    assert len(stats) == 1
    assert stats[0]["event_data"]["failures"] == {"localhost": 1}


def test_progress_lines_while_the_long_job_runs(awx_run: dict[str, Any]) -> None:
    lines = [line for e in awx_run["events"] for line in e.get("stdout", "").splitlines()
             if "[localhost] waiting: job " in line and "running" in line]
    assert len(lines) >= 2, _stdout_of(awx_run["events"])[-3000:]
    assert all("(Create LUN)" in line and "s elapsed" in line for line in lines)
    # Each line is its own event, shown live in AWX's job output.
    assert len({e["uuid"] for e in awx_run["events"] if "[localhost] waiting: job " in e.get("stdout", "")}) >= 2


def test_normal_job_summary(awx_run: dict[str, Any]) -> None:
    ok = [e for e in _task_events(awx_run["events"], "runner_on_ok", "Report the outcome")
          if "Create LUN awx-long" in str(e["event_data"]["res"].get("msg"))]
    assert len(ok) == 1
    msg = ok[0]["event_data"]["res"]["msg"]
    assert " ended normal in " in msg and "outputs: lunKey=" in msg


def test_partial_failures_warning(awx_run: dict[str, Any]) -> None:
    events = awx_run["events"]
    text = _stdout_of(events)
    assert "[WARNING]: job " in text and "ended with status partial_failures" in text, text[-3000:]
    assert "QoS policy group 'gold' does not exist" in text
    started = _task_events(events, "runner_on_ok", "Start the operation and wait for its job | Create LUN awx-partial")
    assert len(started) == 1
    # The warning is in the task's result (AWX lists it with the task) and in its output line.
    warnings = started[0]["event_data"]["res"].get("warnings", [])
    assert any("ended with status partial_failures: task 'Set QoS policy'" in w for w in warnings), warnings
    assert started[0]["stdout"].startswith("[WARNING]: job ") and "partial_failures" in started[0]["stdout"]
    reported = [e for e in _task_events(events, "runner_on_ok", "Report the outcome")
                if "Create LUN awx-partial" in str(e["event_data"]["res"].get("msg"))]
    assert len(reported) == 1
    assert "ended with PARTIAL_FAILURES" in reported[0]["event_data"]["res"]["msg"]


def test_error_job_fails_with_its_reason(awx_run: dict[str, Any]) -> None:
    failed = _task_events(awx_run["events"], "runner_on_failed", "Fail the play, the operation failed")
    assert len(failed) == 1
    msg = failed[0]["event_data"]["res"]["msg"]
    assert msg.startswith("Create LUN awx-error FAILED (ERROR): job ")
    assert "aggregate aggr1 has not enough free space (40 GB asked, 12 GB free)" in msg
    assert "aggregate aggr1 has not enough free space" in failed[0]["stdout"]
    assert not failed[0]["event_data"].get("ignore_errors")


def test_wait_idle_waits_without_a_retry_line_per_look(awx_run: dict[str, Any]) -> None:
    """An `until` loop shows "FAILED - RETRYING" (a runner_retry event) for every look in AWX's output."""
    events = awx_run["events"]
    assert not [e for e in events if e["event"] == "runner_retry"], "runner_retry events in AWX's output"
    assert "RETRYING" not in _stdout_of(events)
    reported = [e for e in events if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "Report"]
    assert len(reported) == 1, _stdout_of(events)[:3000]
    msg = reported[0]["event_data"]["res"]["msg"]
    # It found the short job, waited for exactly that job, and looked again: two looks, not one per second.
    assert msg == "Unified Manager runs no jobs in state running|aborting (looked 2 times)", msg


def test_a_failed_job_is_one_failed_event(awx_run: dict[str, Any]) -> None:
    """AWX lists each runner_on_failed event in red: the failed job is reported once, by the role's summary,
    not first as a fatal of the module task and then again by the role."""
    failed = [e for e in awx_run["events"] if e["event"] == "runner_on_failed"]
    assert [e["event_data"]["task"] for e in failed] == ["Fail the play, the operation failed"], \
        [(e["event_data"]["task"], e["event_data"]["res"].get("msg")) for e in failed]
    assert "fatal:" not in _stdout_of([e for e in awx_run["events"] if "awx-error" in e.get("event_data", {}).get("task", "")])
    started = _task_events(awx_run["events"], "runner_on_ok", "Start the operation and wait for its job | Create LUN awx-error")
    assert len(started) == 1, "the module task of the error job ends ok; its outcome is in the result"
    assert started[0]["event_data"]["res"]["outcomes"] == {started[0]["event_data"]["res"]["job_key"]: "error"}


@pytest.mark.parametrize("run", ["awx_run", "awx_run_verbose"])
def test_password_is_nowhere_but_runner_own_files(run: str, request: pytest.FixtureRequest, password: str) -> None:
    """The password may only be in the input env/envvars and in ansible-runner's own record of the process
    environment (artifacts/<ident>/command); see docs/awx.md. Also with -vvv."""
    job = request.getfixturevalue(run)
    pdd: Path = job["pdd"]
    allowed = {pdd / "env" / "envvars", job["artifacts"] / "command"}
    secret = password.encode()
    leaks = [str(p.relative_to(pdd)) for p in pdd.rglob("*")
             if p.is_file() and p not in allowed and secret in p.read_bytes()]
    assert not leaks
    assert job["events"]
    assert password not in job["stdout"]
    assert password not in json.dumps(job["events"])
    # The exception is real: runner does write it there (so the scan above would have found a leak).
    assert all(secret in p.read_bytes() for p in allowed)
    # Events do carry the module results with their arguments; the password, injected through UM_PASSWORD and read
    # by the modules from the environment, is not among them, or masked if it were.
    invoked = [e["event_data"]["res"]["invocation"]["module_args"] for e in job["events"]
               if "module_args" in (e.get("event_data", {}).get("res", {}).get("invocation") or {})]
    assert any("hostname" in args for args in invoked), "no module arguments in the events to check"
    assert all(args.get("password") in (None, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER") for args in invoked)


def test_verbose_job_shows_the_request(awx_run_verbose: dict[str, Any]) -> None:
    """-vvv really was on (so the password check above covered verbose output)."""
    assert awx_run_verbose["runner"].status == "successful", awx_run_verbose["stdout"][-3000:]
    assert "EXEC" in awx_run_verbose["stdout"] or "ESTABLISH LOCAL CONNECTION" in awx_run_verbose["stdout"]
