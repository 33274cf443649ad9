#!/usr/bin/env python
"""Start and stop the bundled UM simulator in the background for scripts (demo, tests, benchmarks).

`start` launches tests/simulator/umsim.py in its own session, waits for its ready file and prints the
ready JSON; `stop` ends that one process by the PID it recorded. Only the process we started is ever
signalled.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UMSIM = ROOT / "tests" / "simulator" / "umsim.py"


def start(args: argparse.Namespace, extra: list[str]) -> int:
    state = Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    ready = Path(args.ready_file).resolve()
    ready.unlink(missing_ok=True)
    cmd = [sys.executable, str(UMSIM), "--state-dir", str(state), "--ready-file", str(ready),
           "--port", str(args.port)] + extra
    log = open(state / "umsim.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.stderr.write(f"simulator exited early (rc {proc.returncode}); see {state / 'umsim.log'}\n")
            return 1
        if ready.exists():
            try:
                info = json.loads(ready.read_text())
            except ValueError:
                time.sleep(0.05)
                continue
            print(json.dumps(info))
            return 0
        time.sleep(0.05)
    proc.terminate()
    sys.stderr.write(f"simulator not ready after {args.wait}s; see {state / 'umsim.log'}\n")
    return 1


def stop(args: argparse.Namespace) -> int:
    ready = Path(args.ready_file)
    if not ready.exists():
        return 0
    pid = int(json.loads(ready.read_text())["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        ready.unlink(missing_ok=True)
        return 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    ready.unlink(missing_ok=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser("start", help="start the simulator; extra arguments after -- go to umsim.py")
    p_start.add_argument("--state-dir", required=True)
    p_start.add_argument("--ready-file", required=True)
    p_start.add_argument("--port", type=int, default=0)
    p_start.add_argument("--wait", type=float, default=30.0)
    p_stop = sub.add_parser("stop")
    p_stop.add_argument("--ready-file", required=True)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    return start(args, extra) if args.cmd == "start" else stop(args)


if __name__ == "__main__":
    sys.exit(main())
