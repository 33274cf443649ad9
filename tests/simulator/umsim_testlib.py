"""Helpers for the umsim tests: run the real simulator as a subprocess and talk HTTP(S) to it.

Kept out of conftest.py under its own unique name so tests can import it (``from conftest import`` would
pick up whichever conftest module pytest registered first when several test dirs are collected).
The simulator is started by umsim_launch (the one launcher every script and suite uses) and stopped with
SIGTERM by PID; every stop asserts exit code 0 and a clean stderr, so a crash or an unhandled exception
inside the simulator fails the test that caused it.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

import requests

# UMSIM is imported by the tests from here.
from umsim_launch import UMSIM, SimNotReady, SimProcess  # noqa: F401  pylint: disable=unused-import

KEY_RE = re.compile(r"^-?[0-9a-f]+:-?[0-9a-f]+:-?[0-9a-f]+:-?[0-9a-f]+$")

#: Seeded keys (docs/simulator-spec.md): cluster1's svm1 and the system-defined service level "Value".
SVM1_KEY = "4ea7a442-86d1-11e0-ae1c-000000000001:type=vserver,uuid=4ea7a442-86d1-11e0-5e1c-000000000101"
VALUE_PSL_KEY = "1b9e84ba-3f1c-4fa8-9f5c-000000000003"
_names = itertools.count(1)


def lun_body(name: str | None = None, size: int = 1 << 30, **extra: Any) -> dict[str, Any]:
    """A LUN body UM takes (unique name unless given): svm1, service level Value, size in bytes."""
    return {"name": name or f"lun{next(_names)}", "os_type": "linux", "svm": {"key": SVM1_KEY},
            "space": {"size": size}, "performance_service_level": {"key": VALUE_PSL_KEY}, **extra}


def share_body(name: str | None = None, size: int = 1 << 30, **extra: Any) -> dict[str, Any]:
    """A file share body UM takes (unique name unless given)."""
    return {"name": name or f"share{next(_names)}", "svm": {"key": SVM1_KEY}, "space": {"size": size},
            "performance_service_level": {"key": VALUE_PSL_KEY}, **extra}


PASSWORDS = {"operator": "Operator-pass-1", "storage_admin": "Storage-pass-1", "admin": "Admin-pass-1"}


class Sim(SimProcess):
    """A running simulator process (umsim_launch.SimProcess) plus a requests session that trusts its CA."""

    def __init__(self, state_dir: Path, *extra: str, env: dict[str, str] | None = None,
                 passwords: dict[str, str] | None = None, ready_timeout: float = 20.0) -> None:
        super().__init__(state_dir, *extra, env=env)
        self.passwords = dict(PASSWORDS, **(passwords or {}))
        try:
            self.start(ready_timeout)
        except SimNotReady as exc:
            raise AssertionError(str(exc)) from None
        self.ca = self.ca_file
        self.http = requests.Session()
        # REQUESTS_CA_BUNDLE in the environment would silently override Session.verify; ignore env.
        self.http.trust_env = False
        self.http.verify = self.ca

    # -- requests helpers ------------------------------------------------------------------------
    def api(self, method: str, path: str, user: str | None = "admin", prefix: str = "/api",
            **kw: Any) -> requests.Response:
        auth = (user, self.passwords[user]) if user else None
        kw.setdefault("timeout", 30)
        return self.http.request(method, f"{self.url}{prefix}{path}", auth=auth, **kw)

    def ctl(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(method, f"{self.url}/_umsim{path}", json=body, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    def start_job(self, script: dict[str, Any] | None = None, path: str = "/storage-provider/luns",
                  body: dict[str, Any] | None = None, user: str = "admin", method: str = "POST") -> str:
        headers = {"X-UMSim-Job": json.dumps(script)} if script is not None else {}
        if body is None:
            body = share_body() if path.endswith("/file-shares") else lun_body()
        r = self.api(method, path, user=user, json=body, headers=headers)
        assert r.status_code == 202, r.text
        key = r.json()["job"]["key"]
        assert KEY_RE.match(key), key
        return key

    def job(self, key: str, **params: Any) -> dict[str, Any]:
        r = self.api("GET", f"/management-server/jobs/{key}", user="operator", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_done(self, key: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for a job with the simulator's own long poll (exact end time, no sleep loop)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(key, poll_timeout=max(1, min(120, int(deadline - time.monotonic()) + 1)))
            if "complete_time" in job or time.monotonic() > deadline:
                return job

    def reset(self) -> None:
        self.ctl("DELETE", "/faults")
        self.ctl("DELETE", "/rules")
        self.ctl("POST", "/config", {"long_poll": "honour", "latency": 0, "discovery": 1.0,
                                     "ontap_job_retention": 300, "clock_skew": {}})
        self.ctl("DELETE", "/counters")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM by PID; the simulator must exit 0 with no traceback on stderr."""
        self.http.close()
        rc = super().stop(timeout)
        err = self.stderr()
        assert rc == 0, f"exit code {rc}; stderr: {err}"
        assert "Traceback" not in err and "ERROR" not in err, err
        return rc
