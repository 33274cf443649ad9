#!/usr/bin/env python
"""Start and stop the bundled UM simulator in the background for the shell scripts (demo, tests, release).

`start` launches tests/simulator/umsim.py (through tests/simulator/umsim_launch.py, the one launcher) in
its own session, waits until it is ready and prints its ready information: JSON (default) or, with
`--print env`, shell `export` lines for the demo playbook. `--integration-config FILE` also writes the
ansible-test integration config. `stop` ends that one process by the PID its ready file recorded.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "simulator"))
from umsim_launch import SimNotReady, SimProcess, stop_recorded  # noqa: E402  pylint: disable=wrong-import-position

# The simulator's default users (tests/simulator/umsim_api.py), as the integration targets use them.
INTEGRATION_USERS = {"um_username": "admin", "um_password": "Admin-pass-1",
                     "um_operator_username": "operator", "um_operator_password": "Operator-pass-1"}


def start(args: argparse.Namespace, extra: list[str]) -> int:
    sim = SimProcess(Path(args.state_dir).resolve(), *extra, port=args.port, ready_file=Path(args.ready_file).resolve(),
                     detach=True)
    try:
        sim.start(args.wait)
    except SimNotReady as exc:
        sys.stderr.write(f"simulator did not start: {exc}\n")
        return 1
    info = sim.info()
    if args.integration_config:
        cfg = {"um_hostname": info["host"], "um_port": info["port"], "um_ca_path": info["ca_file"],
               "um_sim_url": info["url"], "um_sim_state_dir": info["state_dir"], **INTEGRATION_USERS}
        Path(args.integration_config).write_text("---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in cfg.items()))
    if args.print == "env":
        env = {"UM_HOSTNAME": info["host"], "UM_HTTP_PORT": info["port"], "UM_CA_PATH": info["ca_file"],
               "UM_SIM_URL": info["url"]}
        print("".join(f"export {k}={shlex.quote(str(v))}\n" for k, v in env.items()), end="")
    else:
        print(json.dumps(info))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser("start", help="start the simulator; extra arguments after -- go to umsim.py")
    p_start.add_argument("--state-dir", required=True)
    p_start.add_argument("--ready-file", required=True)
    p_start.add_argument("--port", type=int, default=0)
    p_start.add_argument("--wait", type=float, default=30.0)
    p_start.add_argument("--print", choices=("json", "env"), default="json")
    p_start.add_argument("--integration-config", help="write the ansible-test integration config here")
    p_stop = sub.add_parser("stop")
    p_stop.add_argument("--ready-file", required=True)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    if args.cmd == "start":
        return start(args, extra)
    stop_recorded(Path(args.ready_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
