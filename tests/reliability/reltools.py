# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tools of the reliability suite: the simulator as a process we can kill, a programmable HTTPS server,
ansible-playbook runs with every result recorded, the secret scanner and the figures for docs/reliability.md.

Everything here talks only to loopback addresses and stops what it started, by PID.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = Path(os.environ.get("AIQUM_RELIABILITY_BUILD", str(ROOT / "build" / "reliability")))
PYTHON = os.environ.get("AIQUM_RELIABILITY_PYTHON", sys.executable)
VENV_BIN = Path(PYTHON).parent
CALLBACKS = HERE / "callback_plugins"

sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests" / "simulator")]
import layout  # noqa: E402  pylint: disable=wrong-import-position
from umsim_launch import SimNotReady, SimProcess  # noqa: E402  pylint: disable=wrong-import-position
sys.path.insert(0, str(ROOT / "tests"))
from hostile_server import HostileServer, Reply, Request  # noqa: E402  pylint: disable=wrong-import-position

# Distinctive passwords: any of them (or its HTTP Basic form) in any output is a leak.
PASSWORDS = {
    "admin": "Rel-Adm1n-Zq7xK2-pw",
    "storage_admin": "Rel-St0rage-Wv9yL4-pw",
    "operator": "Rel-0perator-Hn3mT8-pw",
}
USER = "admin"
PASSWORD = PASSWORDS[USER]
WRONG_PASSWORD = "Rel-Wr0ng-Pq5sD1-pw"


def secret_needles() -> dict[str, str]:
    """What must never appear in output: each password, its Basic credentials in base64, the header name."""
    needles = {"Authorization header name": "Authorization"}
    for user, pw in list(PASSWORDS.items()) + [("admin(wrong)", WRONG_PASSWORD)]:
        name = user.replace("(wrong)", "")
        needles[f"password of {user}"] = pw
        needles[f"Basic credentials of {user}"] = base64.b64encode(f"{name}:{pw}".encode()).decode()
        # The password inside a longer base64 run is caught by the two shifted encodings of it too.
        needles[f"base64 password of {user}"] = base64.b64encode(pw.encode()).decode().rstrip("=")[:-2]
    return needles



#: Seeded keys of the simulator (docs/simulator-spec.md): cluster1's svm1 and the service level "Value".
SIM_SVM_KEY = "4ea7a442-86d1-11e0-ae1c-000000000001:type=vserver,uuid=4ea7a442-86d1-11e0-5e1c-000000000101"
SIM_PSL_KEY = "1b9e84ba-3f1c-4fa8-9f5c-000000000003"
_LUN_NAMES = iter(range(1, 1 << 30))


SIM_CLUSTER_KEY = "4ea7a442-86d1-11e0-ae1c-000000000001:type=cluster,uuid=4ea7a442-86d1-11e0-ae1c-000000000001"


def share_body(name: str) -> dict:
    """A file share body the simulator takes."""
    return {"name": name, "svm": {"key": SIM_SVM_KEY}, "space": {"size": 1 << 30},
            "performance_service_level": {"key": SIM_PSL_KEY}}


def start_body(path: str, name: str) -> dict:
    """A body UM takes for a POST that starts a job on PATH (a name-only body for the other collections)."""
    if path == "/storage-provider/luns":
        return lun_body(name)
    if path == "/storage-provider/file-shares":
        return share_body(name)
    if path == "/datacenter/svm/svms":
        return {"name": name, "cluster": {"key": SIM_CLUSTER_KEY}}
    return {"name": name}


def lun_body(name: str | None = None) -> dict:
    """A LUN body the simulator takes (as UM would), with a unique name unless one is given."""
    return {"name": name or f"rel-lun-{next(_LUN_NAMES)}", "os_type": "linux", "svm": {"key": SIM_SVM_KEY},
            "space": {"size": 1 << 30}, "performance_service_level": {"key": SIM_PSL_KEY}}

class SecretScan:
    """Counts what was scanned; records every finding (a finding fails the test that produced it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items = 0
        self.chars = 0
        self.sources: dict[str, int] = {}
        self.findings: list[str] = []

    def scan(self, source: str, text: t.Any, kind: str) -> list[str]:
        if not isinstance(text, str):
            text = json.dumps(text, default=str)
        found = [f"{what} in {source}" for what, needle in secret_needles().items() if needle in text]
        with self.lock:
            self.items += 1
            self.chars += len(text)
            self.sources[kind] = self.sources.get(kind, 0) + 1
            self.findings.extend(found)
        return found


SCAN = SecretScan()


def assert_no_secret(source: str, text: t.Any, kind: str = "other") -> None:
    found = SCAN.scan(source, text, kind)
    assert not found, f"secret leaked: {found}"


# ---------------------------------------------------------------------------------------------------
# Seed and results
# ---------------------------------------------------------------------------------------------------

def _seed() -> int:
    raw = os.environ.get("AIQUM_RELIABILITY_SEED")
    return int(raw) if raw else random.SystemRandom().randrange(1, 10**9)


SEED = _seed()


def rng_for(name: str) -> random.Random:
    """One random stream per test, from the run's seed: a single test replays alone with the same seed."""
    return random.Random(f"{SEED}:{name}")


def scale(name: str, default: int) -> int:
    """Trial counts, overridable: AIQUM_RELIABILITY_TRIALS=30 raises the fault trials per kind."""
    return int(os.environ.get(name, default))


@dataclass
class Row:
    section: str
    case: str
    trials: int
    right: int
    wrong: int
    time_bound: str
    within_bound: int
    notes: str = ""
    seconds: float = 0.0


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    extra: dict[str, t.Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, row: Row) -> None:
        with self.lock:
            self.rows = [r for r in self.rows if (r.section, r.case) != (row.section, row.case)] + [row]


RESULTS = Results()


# ---------------------------------------------------------------------------------------------------
# The collection: a private copy, so concurrent `lay_collection` runs of other stages never pull it away
# ---------------------------------------------------------------------------------------------------

def lay_collection(dest_root: Path) -> Path:
    """Lay the collection at DEST/ansible_collections/aiqum/jobs (scripts/layout.py); return DEST."""
    layout.lay_collection(dest_root)
    return dest_root


# ---------------------------------------------------------------------------------------------------
# The simulator as a process: start, SIGKILL, restart on the same port and state dir, stop
# ---------------------------------------------------------------------------------------------------

class SimProc(SimProcess):
    """One umsim process we own (tests/simulator/umsim_launch.py). Restarts keep the port, the state dir and the CA."""

    def __init__(self, workdir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(workdir / "state", *extra, python=PYTHON,
                         env={**{f"UMSIM_{u.upper()}_PASSWORD": pw for u, pw in PASSWORDS.items()}, **(env or {})})
        self._local = threading.local()
        self.start()

    @property
    def ca(self) -> str:
        return self.ca_file

    @property
    def http(self) -> requests.Session:
        """One session per thread (requests sessions are not thread-safe)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
            session.verify = self.ca
        return session

    def restart(self) -> None:
        """Start again on the same port and state dir; retried briefly while the port is being released."""
        deadline = time.monotonic() + 15
        while True:
            try:
                self.start()
                return
            except SimNotReady:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self, timeout: float = 15.0) -> int | None:
        rc = super().stop(timeout)
        self.http.close()
        return rc

    # -- control channel and API helpers ---------------------------------------------------------------
    def ctl(self, method: str, path: str, body: t.Any = None) -> t.Any:
        r = self.http.request(method, f"{self.url}/_umsim{path}", json=body, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def add_fault(self, **spec: t.Any) -> dict:
        return self.ctl("POST", "/faults", spec)["faults"][0]

    def counters(self) -> dict:
        return self.ctl("GET", "/counters")

    def start_job(self, script: dict[str, t.Any], path: str = "/storage-provider/luns", method: str = "POST",
                  body: dict | None = None) -> str:
        r = self.http.request(method, f"{self.url}/api{path}", auth=(USER, PASSWORD), timeout=30,
                              json=lun_body() if body is None else body,
                              headers={"X-UMSim-Job": json.dumps(script)})
        assert r.status_code == 202, r.text
        return r.json()["job"]["key"]

    def made(self, path: str, name: str) -> str:
        """Create an object through a job that ends at once; return its key (for PATCH/DELETE trials)."""
        key = self.start_job({"duration": 0}, path=path, body=start_body(path, name))
        job = self.http.get(f"{self.url}/api/management-server/jobs/{key}", auth=(USER, PASSWORD), timeout=30).json()
        return job["job_results"][0]["value"]

    def bulk_jobs(self, count: int, script: dict[str, t.Any]) -> list[str]:
        return self.ctl("POST", "/jobs", {"count": count, "job": script})["keys"]

    def job(self, key: str) -> dict:
        r = self.http.get(f"{self.url}/api/management-server/jobs/{key}", auth=(USER, PASSWORD), timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def connection(self, **over: t.Any) -> dict[str, t.Any]:
        """Module connection options for this simulator."""
        conn = {"hostname": self.host, "http_port": self.port, "username": USER, "password": PASSWORD,
                "ca_path": self.ca}
        conn.update(over)
        return conn


def script_for(outcome: str, duration: float, **extra: t.Any) -> dict[str, t.Any]:
    """An X-UMSim-Job script that ends with this outcome (normal|warning|partial_failures|error|aborted)."""
    if outcome == "aborted":
        return {"duration": duration, "state": "aborted", **extra}
    return {"duration": duration, "status": outcome, **extra}


OUTCOMES = ("normal", "warning", "partial_failures", "error", "aborted")


class FirstPollWatcher:
    """Tells when the simulator has seen the first GET of a job (one thread polls the counters for all)."""

    def __init__(self, sim: SimProc, interval: float = 0.1) -> None:
        self.sim = sim
        self.interval = interval
        self.events: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def event(self, key: str) -> threading.Event:
        with self.lock:
            return self.events.setdefault(key, threading.Event())

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                seen = self.sim.counters()["by_job"]
            except (requests.RequestException, AssertionError):
                continue
            with self.lock:
                for key, ev in self.events.items():
                    if seen.get(key):
                        ev.set()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)


# ---------------------------------------------------------------------------------------------------
# A programmable HTTPS server on loopback (answers the simulator cannot give; redirect targets)
# ---------------------------------------------------------------------------------------------------

def Canned(status: int = 200, body: t.Any = b"", headers: dict[str, str] | None = None,  # pylint: disable=invalid-name
           content_type: str | None = "application/json") -> Reply:
    """One canned answer of FakeUM: a hostile_server Reply with a Content-Type (JSON unless told)."""
    heads = dict(headers or {})
    if content_type and status != 204:
        heads.setdefault("Content-Type", content_type)
    return Reply(status, body, heads)


class FakeUM(HostileServer):
    """HTTPS on 127.0.0.1 (the one loopback fake, tests/hostile_server.py) with a trustme CA, answering by path:
    `routes[path]` (or `routes["*"]`) -> a Reply (see Canned) or a callable(Request) -> Reply; 404 otherwise.
    `seen` records every request read (`authorization` tells whether that header came)."""

    def __init__(self, ca: t.Any, routes: dict[str, t.Any] | None = None) -> None:
        super().__init__(ca.issue_cert("127.0.0.1", "localhost"))
        self.routes: dict[str, t.Any] = dict(routes or {})
        self.script(self._route)

    def _route(self, req: Request) -> Reply:
        answer = self.routes.get(req.target.split("?", 1)[0]) or self.routes.get("*")
        if callable(answer):
            answer = answer(req)
        return answer or Canned(404, {"error": {"code": "not_found", "message": "no such route"}})


# ---------------------------------------------------------------------------------------------------
# ansible-playbook runs: one host per case, one task per module, every result recorded
# ---------------------------------------------------------------------------------------------------

MODULES = ("um_job_wait", "um_request", "um_job_info")


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: dict[str, dict[str, t.Any]]     # host -> the module task's result
    seconds: dict[str, float]                # host -> seconds the module task took
    started: dict[str, float]                # host -> epoch when the module task started
    wall: float
    workdir: Path

    def result(self, host: str) -> dict[str, t.Any]:
        assert host in self.results, f"no result for {host}; rc={self.rc}\n{self.stdout[-3000:]}\n{self.stderr[-3000:]}"
        return self.results[host]


def ansible_env(collections: Path, workdir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("ANSIBLE_", "UM_")):
            del env[name]
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_PYTHON_INTERPRETER": PYTHON,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp-local"),
        "ANSIBLE_REMOTE_TEMP": str(workdir / "tmp-remote"),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "reliability_record",
        "RELIABILITY_RECORD": str(workdir / "record.json"),
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    })
    env.update(extra)
    return env


def run_cases(collections: Path, workdir: Path, cases: dict[str, dict[str, t.Any]], *, forks: int = 8,
              verbosity: int = 0, timeout: float = 300, env: dict[str, str] | None = None,
              scan_name: str = "ansible-playbook") -> PlaybookRun:
    """Run each case {"module": ..., "args": {...}} as the one module task of its own inventory host.

    Hosts are localhost aliases (connection local), so `forks` of them run in parallel, like a real play
    over many inventory hosts that delegates to the controller. Output and results are scanned for secrets.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    inventory = {"all": {"hosts": {
        host: {"ansible_connection": "local", "ansible_python_interpreter": PYTHON,
               "case_module": case["module"], "case_args": case["args"]}
        for host, case in cases.items()}}}
    (workdir / "inventory.json").write_text(json.dumps(inventory))
    tasks = []
    for module in MODULES:
        if any(c["module"] == module for c in cases.values()):
            tasks.append(f"    - name: run {module}\n"
                         f"      aiqum.jobs.{module}: \"{{{{ case_args }}}}\"\n"
                         f"      when: case_module == '{module}'\n"
                         f"      ignore_errors: true\n")
    (workdir / "play.yml").write_text("- name: reliability cases\n  hosts: all\n  gather_facts: false\n"
                                      "  tasks:\n" + "".join(tasks))
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "inventory.json", "play.yml", "-f", str(forks)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=workdir, env=ansible_env(collections, workdir, **(env or {})),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    wall = time.monotonic() - started
    (workdir / "stdout.txt").write_text(proc.stdout)
    (workdir / "stderr.txt").write_text(proc.stderr)
    record_path = workdir / "record.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    results: dict[str, dict] = {}
    seconds: dict[str, float] = {}
    started_at: dict[str, float] = {}
    for host, entries in record.items():
        for entry in entries:
            if entry["status"] != "skipped":
                results[host] = entry["result"]
                seconds[host] = entry["seconds"]
                started_at[host] = entry["started"]
    assert_no_secret(f"{scan_name} stdout ({workdir.name})", proc.stdout, "ansible stdout")
    assert_no_secret(f"{scan_name} stderr ({workdir.name})", proc.stderr, "ansible stderr")
    assert_no_secret(f"{scan_name} results ({workdir.name})", record, "task results")
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results, seconds, started_at, wall, workdir)


def one_line(msg: t.Any) -> bool:
    return isinstance(msg, str) and bool(msg.strip()) and "\n" not in msg.strip()


def no_traceback(result: dict[str, t.Any]) -> bool:
    """No traceback and no crash. ansible-core 2.19 hides tracebacks by default, so a module that died of an
    unhandled exception shows only as a msg of "Task failed: Module failed: <exception text>"."""
    text = json.dumps(result, default=str)
    msg = str(result.get("msg", ""))
    return ("Traceback" not in text and "MODULE FAILURE" not in text and "module_stderr" not in result
            and not msg.startswith("Task failed") and "Module failed" not in msg)


# Each run works in its own directory, so two runs side by side never share a simulator's state or a copy.
RUN_DIR = BUILD / f"run-{os.getpid()}"


def clean_old_runs() -> None:
    """Remove the work directories of earlier runs whose process is gone (kept while it runs)."""
    if not BUILD.exists():
        return
    for old in BUILD.glob("run-*"):
        try:
            pid = int(old.name.split("-", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid() or Path(f"/proc/{pid}").exists():
            continue
        shutil.rmtree(old, ignore_errors=True)


def new_tmp(prefix: str) -> Path:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=RUN_DIR))
