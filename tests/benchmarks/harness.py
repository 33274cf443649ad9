# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building blocks of the benchmark suite: simulators, playbook runs, timing, memory, statistics.

Nothing here knows a scenario; tests/benchmarks/scenarios.py composes these pieces. Every process this
module starts is tracked and ended by its own PID (never by name).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PLAYBOOKS = HERE / "playbooks"
CALLBACKS = HERE / "callback_plugins"
USER, PASSWORD = "admin", "Admin-pass-1"

if str(ROOT / "tests" / "simulator") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "simulator"))
from umsim_launch import SimNotReady, SimProcess  # noqa: E402  pylint: disable=wrong-import-position
from umsim_testlib import lun_body  # noqa: E402  pylint: disable=wrong-import-position


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------

def summary(values: t.Sequence[float | None]) -> dict[str, t.Any]:
    """Median, min and max of the runs that produced a value (None = a run that failed)."""
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def percentile(values: t.Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: the value a real request saw)."""
    vals = sorted(values)
    if not vals:
        return float("nan")
    rank = max(1, math.ceil(pct / 100.0 * len(vals)))
    return vals[min(rank, len(vals)) - 1]


def iso_epoch(text: str) -> float:
    """UM's ISO 8601 with offset ('2026-11-27T10:00:00.000+00:00') to a Unix time."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------------

def machine_info() -> dict[str, t.Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from ansible.release import __version__ as ansible_version  # pylint: disable=import-outside-toplevel
    except ImportError:  # pragma: no cover
        ansible_version = "unknown"
    return {
        "hostname": socket.gethostname(),
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ansible_core": ansible_version,
        "requests": requests.__version__,
    }


def load_now() -> dict[str, float]:
    one, five, fifteen = os.getloadavg()
    return {"load1": round(one, 2), "load5": round(five, 2), "load15": round(fifteen, 2),
            "cpu_percent": psutil.cpu_percent(interval=0.5)}


def git_info() -> dict[str, t.Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10,
                                  check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    dirty = git("status", "--porcelain", "--", "plugins", "meta")
    return {"commit": git("rev-parse", "HEAD") or None, "plugins_dirty": bool(dirty)}


# ---------------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------------

class Simulator:
    """One bundled simulator, started with the one launcher (tests/simulator/umsim_launch.py), stopped by PID."""

    def __init__(self, state_dir: Path, long_poll: str = "honour", http: bool = False) -> None:
        self._starts = 0
        self.state_dir = state_dir
        if state_dir.exists():
            shutil.rmtree(state_dir)
        extra = ["--long-poll", long_poll] + (["--http"] if http else [])
        self._sim = SimProcess(state_dir, *extra)
        try:
            self._sim.start(60)
        except SimNotReady as exc:
            raise RuntimeError(f"simulator did not start: {exc}") from None
        self.url: str = self._sim.url
        self.host: str = self._sim.host
        self.port: int = self._sim.port
        self.ca_file: str | None = self._sim.ca_file
        self.pid: int = self._sim.pid
        self.long_poll = long_poll
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would replace verify
        self.http.verify = self.ca_file if self.ca_file and self.url.startswith("https") else True
        self.http.auth = (USER, PASSWORD)
        self._proc = psutil.Process(self.pid)

    # -- control channel ---------------------------------------------------------------------
    def ctl(self, method: str, path: str, body: t.Any = None) -> t.Any:
        resp = self.http.request(method, f"{self.url}/_umsim{path}", json=body, timeout=120, verify=self.http.verify)
        resp.raise_for_status()
        return resp.json()

    def counters(self) -> dict[str, t.Any]:
        return self.ctl("GET", "/counters")

    def reset_counters(self) -> None:
        self.ctl("DELETE", "/counters")

    def bulk_jobs(self, count: int, job: dict[str, t.Any], spread: list[float] | None = None,
                  seed: int | None = None) -> list[str]:
        body: dict[str, t.Any] = {"count": count, "job": job}
        if spread is not None:
            body["spread"] = spread
        if seed is not None:
            body["seed"] = seed
        return self.ctl("POST", "/jobs", body)["keys"]

    # -- the API -----------------------------------------------------------------------------
    def api(self, method: str, path: str, **kw: t.Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/api{path}", timeout=150, verify=self.http.verify, **kw)

    def start_job(self, script: dict[str, t.Any], name: str = "bench") -> str:
        """Start a LUN creation (a unique LUN name: the simulator fails a second LUN of the same name)."""
        self._starts += 1
        resp = self.api("POST", "/storage-provider/luns", json=lun_body(f"{name}-{self._starts}"),
                        headers={"X-UMSim-Job": json.dumps(script)})
        resp.raise_for_status()
        return resp.json()["job"]["key"]

    def job(self, key: str) -> dict[str, t.Any]:
        resp = self.api("GET", f"/management-server/jobs/{key}")
        resp.raise_for_status()
        return resp.json()

    def cpu_seconds(self) -> float:
        try:
            times = self._proc.cpu_times()
            return times.user + times.system
        except psutil.Error:
            return float("nan")

    def connection_vars(self) -> dict[str, t.Any]:
        """What the benchmark playbooks take to reach this simulator (extra vars)."""
        return {"um_host": self.host, "um_port": self.port, "um_url": self.url, "um_ca": self.ca_file,
                "um_user": USER, "um_password": PASSWORD}

    def stop(self) -> None:
        self.http.close()
        self._sim.stop(30)


# ---------------------------------------------------------------------------------------------
# Running a playbook (or any command) and what it leaves behind
# ---------------------------------------------------------------------------------------------

@dataclass
class RunResult:
    rc: int
    started: float                  # wall clock, just before the process was started
    ended: float                    # wall clock, when the process had exited
    events: list[dict[str, t.Any]]  # the bench_timing callback's lines
    peak_rss: int | None            # bytes: peak of the summed RSS of the process tree (when sampled)
    cpu_seconds: float | None       # user+system of the tree (children reaped by the time it ended)
    log_file: Path
    stdout: str = ""

    def ok(self) -> bool:
        return self.rc == 0

    def tasks(self, event: str = "task_ok") -> list[dict[str, t.Any]]:
        return [e for e in self.events if e["event"] == event]

    def last(self, event: str, task_prefix: str = "") -> dict[str, t.Any] | None:
        found = [e for e in self.events if e["event"] == event and str(e.get("task") or "").startswith(task_prefix)]
        return found[-1] if found else None

    def first(self, event: str, task_prefix: str = "") -> dict[str, t.Any] | None:
        found = [e for e in self.events if e["event"] == event and str(e.get("task") or "").startswith(task_prefix)]
        return found[0] if found else None

    def span(self, task_prefix: str = "Measured") -> float | None:
        """Seconds from the start of the first measured task to the return of the last one."""
        start = self.first("task_start", task_prefix)
        end = self.last("task_ok", task_prefix)
        if not start or not end:
            return None
        return end["t"] - start["t"]


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop_event.is_set():
            total = 0
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.Error:
                break
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.samples += 1
            self._stop_event.wait(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join(timeout=5)
        return self.peak


class Runner:
    """Starts ansible-playbook (or a helper script) with the benchmark's environment, one per call."""

    def __init__(self, work: Path, collections_path: str) -> None:
        self.work = work
        self.collections_path = collections_path
        self._lock = threading.Lock()
        self._seq = 0
        self._live: dict[int, subprocess.Popen] = {}

    def _next(self, name: str) -> Path:
        with self._lock:
            self._seq += 1
            seq = self._seq
        run_dir = self.work / "runs" / f"{seq:04d}-{name}"
        run_dir.mkdir(parents=True, exist_ok=True)
        return run_dir

    def env(self, timing_file: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": self.collections_path,
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "bench_timing",
            "BENCH_TIMING_FILE": str(timing_file),
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        })
        return env

    def playbook(self, name: str, playbook: str, extra_vars: dict[str, t.Any], sample_memory: bool = False,
                 timeout: float = 3600.0, stop_after_items: int | None = None) -> RunResult:
        run_dir = self._next(name)
        vars_file = run_dir / "vars.json"
        vars_file.write_text(json.dumps(extra_vars))
        timing = run_dir / "timing.jsonl"
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(PLAYBOOKS / playbook),
               "-e", f"@{vars_file}"]
        return self._run(cmd, run_dir, self.env(timing), timing, sample_memory, timeout, stop_after_items)

    def command(self, name: str, cmd: list[str], timeout: float = 3600.0, sample_memory: bool = False) -> RunResult:
        run_dir = self._next(name)
        return self._run(cmd, run_dir, dict(os.environ), None, sample_memory, timeout)

    def _run(self, cmd: list[str], run_dir: Path, env: dict[str, str], timing: Path | None, sample_memory: bool,
             timeout: float, stop_after_items: int | None = None) -> RunResult:
        log_file = run_dir / "output.log"
        out_file = run_dir / "stdout.log"
        with open(out_file, "wb") as out, open(log_file, "wb") as err:
            started = time.time()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=str(run_dir),  # pylint: disable=consider-using-with
                                    stdin=subprocess.DEVNULL)
        with self._lock:
            self._live[proc.pid] = proc
        sampler = TreeSampler(proc.pid) if sample_memory else None
        if sampler:
            sampler.start()
        timer = threading.Timer(timeout, self._end, [proc])
        timer.daemon = True
        timer.start()
        if stop_after_items and timing is not None:
            threading.Thread(target=self._stop_after, args=(proc, timing, stop_after_items), daemon=True).start()
        # wait4, not wait: its rusage is the CPU time of the run's whole tree (ansible-playbook reaps its
        # workers and modules), per run even when runs overlap.
        _pid, status, usage = os.wait4(proc.pid, 0)
        ended = time.time()
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        with self._lock:
            self._live.pop(proc.pid, None)
        peak = sampler.stop() if sampler else None
        events: list[dict[str, t.Any]] = []
        if timing is not None and timing.exists():
            for line in timing.read_text().splitlines():
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass
        return RunResult(proc.returncode, started, ended, events, peak, usage.ru_utime + usage.ru_stime, log_file,
                         out_file.read_text(errors="replace"))

    def _stop_after(self, proc: subprocess.Popen, timing: Path, items: int) -> None:
        """End a loop once `items` of its items have returned (their results are in the timing file)."""
        while proc.returncode is None:
            try:
                done = timing.read_text().count('"item_ok"') if timing.exists() else 0
            except OSError:
                done = 0
            if done >= items:
                self._end(proc)
                return
            time.sleep(0.25)

    @staticmethod
    def _end(proc: subprocess.Popen) -> None:
        """End a run that overstayed, and its children, by PID (the thread in _run reaps it)."""
        try:
            kids = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            kids = []
        for p in [*kids, proc]:
            try:
                p.terminate()
            except (psutil.Error, OSError):
                pass

        def hard() -> None:
            if proc.returncode is None:
                try:
                    proc.kill()
                except OSError:
                    pass
        later = threading.Timer(10, hard)
        later.daemon = True
        later.start()

    def end_all(self) -> None:
        with self._lock:
            live = list(self._live.values())
        for proc in live:
            self._end(proc)


# ---------------------------------------------------------------------------------------------
# Staggering concurrent runs
# ---------------------------------------------------------------------------------------------

def on_timeline(plan: t.Sequence[tuple[float, t.Callable[[], dict[str, t.Any]]]]) -> tuple[list[dict[str, t.Any]], float]:
    """Run each (offset, fn) of `plan` in its own thread, `offset` seconds after a common start (1 s from now);
    return their results in plan order and the wall time of the whole."""
    t0 = time.monotonic() + 1.0

    def timed(offset: float, fn: t.Callable[[], dict[str, t.Any]]) -> dict[str, t.Any]:
        delay = t0 + offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return fn()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, len(plan))) as ex:
        futures = [ex.submit(timed, off, fn) for off, fn in plan]
        results = [fut.result() for fut in futures]
    return results, time.monotonic() - started


def stagger(durations: t.Sequence[float], gap: float) -> list[float]:
    """Start offsets for runs of the given lengths, so that no start or end lies within `gap` s of another.

    A start costs a CPU burst (ansible-playbook loads ~1-2 s) and an end is the moment being measured; keeping
    them apart lets I/O-bound waits overlap without one run's CPU work delaying another's measured return.
    Starts are in the order given.
    """
    events: list[float] = []
    offsets: list[float] = []
    s = 0.0
    for d in durations:
        while any(abs(s - e) < gap or abs(s + d - e) < gap for e in events):
            s = round(s + 0.1, 3)
        events += [s, s + d]
        offsets.append(s)
        s = round(s + gap, 3)
    return offsets


@dataclass
class Figure:
    """One measured quantity of one contender in one case, over several runs."""
    scenario: str
    case: str
    contender: str
    metric: str
    unit: str
    runs: list[float | None] = field(default_factory=list)
    target: str | None = None
    met: bool | None = None
    note: str | None = None
    estimated: bool = False

    def as_dict(self) -> dict[str, t.Any]:
        out = {"scenario": self.scenario, "case": self.case, "contender": self.contender, "metric": self.metric,
               "unit": self.unit, "runs": [None if v is None else round(float(v), 4) for v in self.runs]}
        stats = summary(self.runs)
        out.update({k: (None if v is None else round(v, 4)) if k != "n" else v for k, v in stats.items()})
        out["target"] = self.target
        out["met"] = self.met
        if self.note:
            out["note"] = self.note
        if self.estimated:
            out["estimated"] = True
        return out

    @property
    def median(self) -> float | None:
        return summary(self.runs)["median"]

    @property
    def max(self) -> float | None:
        return summary(self.runs)["max"]
