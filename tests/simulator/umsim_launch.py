"""The one way to start and stop the bundled UM simulator (tests/simulator/umsim.py) as a process.

Used by scripts/simctl.py (the shell scripts), the simulator's tests (umsim_testlib.Sim), the reliability
suite (reltools.SimProc), the benchmark harness and the EDA test. The simulator is started exactly as a
user would start it and is ready when it prints its ready line on stdout
(``umsim ready url=... ca=... pid=...``). Stdout and stderr go to files next to the state folder, so a
simulator started for a shell script can outlive the Python process that started it (``detach=True``).
Only the process started here is ever signalled, by its PID.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

UMSIM = Path(__file__).resolve().parent / "umsim.py"
READY_RE = re.compile(r"^umsim ready url=(?P<url>https?://\S+) ca=(?P<ca>\S+) pid=(?P<pid>\d+)$")


class SimNotReady(RuntimeError):
    """The simulator exited or did not print its ready line in time."""


class SimProcess:
    """One simulator process: start (again, on the same port and state folder), kill, stop."""

    def __init__(self, state_dir: Path, *extra: str, port: int = 0, ready_file: Path | None = None,
                 env: dict[str, str] | None = None, python: str | None = None, detach: bool = False) -> None:
        self.state_dir = Path(state_dir)
        self.extra = list(extra)
        self.port = port
        self.ready_file = ready_file
        self.env = {**os.environ, **(env or {})}
        self.python = python or sys.executable
        self.detach = detach
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.ready_line = self.url = self.host = self.ca_file = ""
        self.pid = 0
        self.stdout_path = self.stderr_path = Path()

    def command(self) -> list[str]:
        ready = ["--ready-file", str(self.ready_file)] if self.ready_file else []
        return [self.python, str(UMSIM), "--port", str(self.port), "--state-dir", str(self.state_dir), *ready,
                *self.extra]

    def start(self, timeout: float = 30.0) -> SimProcess:
        """Start the simulator and wait for its ready line; raise SimNotReady with its stderr if it fails."""
        self.state_dir.parent.mkdir(parents=True, exist_ok=True)
        stamp = f"{self.state_dir.name}-{time.monotonic_ns()}"
        self.stdout_path = self.state_dir.parent / f"{stamp}.stdout.log"
        self.stderr_path = self.state_dir.parent / f"{stamp}.stderr.log"
        if self.ready_file:
            Path(self.ready_file).unlink(missing_ok=True)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         env=self.env, start_new_session=self.detach)
        deadline = time.monotonic() + timeout
        while True:
            text = self.stdout_path.read_text(errors="replace")
            if "\n" in text:
                break
            if self.proc.poll() is not None:
                raise SimNotReady(f"simulator exited with code {self.proc.returncode}: {self.stderr()[-2000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise SimNotReady(f"simulator not ready after {timeout:g}s: {self.stderr()[-2000:]}")
            time.sleep(0.02)
        self.ready_line = text.split("\n", 1)[0]
        m = READY_RE.match(self.ready_line)
        if not m or int(m["pid"]) != self.proc.pid:
            self.kill()
            raise SimNotReady(f"unexpected ready line: {self.ready_line!r}")
        self.url, self.ca_file, self.pid = m["url"], m["ca"], self.proc.pid
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "", int(parts.port or 0)
        self.starts += 1
        return self

    def info(self) -> dict[str, object]:
        """The simulator's ready information (the same keys as its --ready-file)."""
        return {"url": self.url, "host": self.host, "port": self.port, "ca_file": self.ca_file, "pid": self.pid,
                "state_dir": str(self.state_dir.resolve())}

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.is_file() else ""

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 30.0) -> int | None:
        """Send SIG to our process (by its PID) and reap it; return its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after TIMEOUT seconds; return the exit code (0 for a clean stop)."""
        if self.proc is None:
            return None
        try:
            return self.kill(signal.SIGTERM, timeout)
        except subprocess.TimeoutExpired:
            return self.kill(signal.SIGKILL, timeout)


def stop_recorded(ready_file: Path, timeout: float = 10.0) -> None:
    """Stop a simulator started by another process, by the PID its --ready-file recorded."""
    ready = Path(ready_file)
    if not ready.exists():
        return
    pid = int(json.loads(ready.read_text())["pid"])
    deadline = time.monotonic() + timeout
    sig = signal.SIGTERM
    try:
        while True:
            os.kill(pid, sig)  # raises ProcessLookupError once the process is gone
            sig = signal.SIGKILL if time.monotonic() > deadline else 0
            time.sleep(0.05)
    except ProcessLookupError:
        pass
    ready.unlink(missing_ok=True)
