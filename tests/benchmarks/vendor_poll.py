# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario 1 contender: the vendor's sample clients' way, GET the job, sleep 1 s, repeat until it ends.

    python vendor_poll.py URL KEY USER PASSWORD CA_FILE

Prints one JSON line when the job has ended: {"t_done": <wall clock when the end was seen>, "gets": n,
"state": ..., "status": ...}. Exit code 0 when the job ended, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
import time

import requests

TERMINAL = ("completed", "aborted")


def main(argv: list[str]) -> int:
    url, key, user, password, ca_file = argv[1:6]
    session = requests.Session()
    session.trust_env = False
    session.auth = (user, password)
    gets = 0
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        resp = session.get(f"{url}/api/management-server/jobs/{key}", verify=ca_file, timeout=30)
        gets += 1
        resp.raise_for_status()
        job = resp.json()
        if str(job.get("state", "")).lower() in TERMINAL:
            print(json.dumps({"t_done": time.time(), "gets": gets, "state": job.get("state"),
                              "status": job.get("status")}), flush=True)
            return 0
        time.sleep(1)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
