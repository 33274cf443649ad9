"""Start-up contract: command line, ready line/file, loopback only, TLS material, --http, restart."""

from __future__ import annotations

import json
import os
import subprocess
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from umsim_testlib import KEY_RE, UMSIM, lun_body


def test_ready_line_and_ready_file(start_sim, tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    state = tmp_path / "st"
    sim = start_sim("--ready-file", str(ready), state_dir=state)
    # Exact shape: https URL on 127.0.0.1, absolute ca path inside the state dir, our PID.
    assert sim.ready_line == f"umsim ready url=https://127.0.0.1:{sim.port} ca={state.resolve()}/ca.pem pid={sim.pid}"
    info = json.loads(ready.read_text())
    assert info == {"url": sim.url, "host": "127.0.0.1", "port": sim.port, "ca_file": str(state.resolve() / "ca.pem"),
                    "pid": sim.pid, "state_dir": str(state.resolve())}
    assert (state / "umsim.sqlite").exists()
    assert (state / "server.pem").exists() and (state / "server-key.pem").exists()
    # The server certificate verifies against the written CA, for 127.0.0.1 and for localhost.
    assert sim.http.get(f"{sim.url}/_umsim/health").json() == {"ok": True}
    r = requests.get(f"https://localhost:{sim.port}/_umsim/health", verify=sim.ca, timeout=10)
    assert r.json() == {"ok": True}
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{sim.url}/_umsim/health", timeout=10)  # system trust store does not know our CA
    assert sim.stop() == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "example.com"])
def test_refuses_non_loopback(host: str, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(UMSIM), "--host", host, "--state-dir", str(tmp_path / "s")], check=False,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "loopback" in proc.stderr


def test_http_mode(start_sim) -> None:
    sim = start_sim("--http")
    assert sim.url.startswith("http://127.0.0.1:")
    key = sim.start_job({"duration": 0.3})
    assert sim.wait_done(key)["state"] == "completed"
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url.replace("http://", "https://") + "/_umsim/health", verify=sim.ca, timeout=10)


def test_password_override_from_env(start_sim) -> None:
    sim = start_sim(env={"UMSIM_OPERATOR_PASSWORD": "op-2", "UMSIM_ADMIN_PASSWORD": "ad-2"},
                    passwords={"operator": "op-2", "admin": "ad-2"})
    assert sim.api("GET", "/management-server/jobs", user="operator").status_code == 200
    assert sim.api("GET", "/management-server/jobs", user="storage_admin").status_code == 200  # default kept
    old = requests.get(f"{sim.url}/api/management-server/jobs", auth=("admin", "Admin-pass-1"), verify=sim.ca)
    assert old.status_code == 401


def test_rules_file_and_long_poll_flag(start_sim, tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"method": "POST", "path": "/storage-provider/luns", "name": "bad-*",
                                  "job": {"status": "error", "duration": 0.3}}]))
    sim = start_sim("--rules", str(rules), "--long-poll", "reject")
    assert sim.ctl("GET", "/config")["long_poll"] == "reject"
    assert sim.ctl("GET", "/rules")["rules"][0]["name"] == "bad-*"
    key = sim.start_job(body=lun_body("bad-lun"))
    r = sim.api("GET", f"/management-server/jobs/{key}", params={"poll_timeout": 5})
    assert r.status_code == 400 and r.json()["error"]["target"] == "poll_timeout"
    time.sleep(0.4)
    assert sim.job(key)["status"] == "error"


def test_bad_rules_file_fails_start(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"path": "/x", "job": {"duration": "long"}}]))
    proc = subprocess.run([sys.executable, str(UMSIM), "--rules", str(rules), "--state-dir", str(tmp_path / "s")], check=False,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "duration" in proc.stderr


def test_restart_keeps_jobs_ca_and_timing(start_sim, tmp_path: Path) -> None:
    state = tmp_path / "persist"
    sim = start_sim(state_dir=state)
    ca_before = Path(sim.ca).read_bytes()
    cert_before = (state / "server.pem").read_bytes()
    done_key = sim.start_job({"duration": 0.3, "status": "warning"})
    key = sim.start_job({"duration": 2.0, "status": "error"})
    submitted = sim.job(key)
    assert submitted["state"] == "running"
    started = time.monotonic()
    sim.wait_done(done_key)
    assert sim.stop() == 0

    again = start_sim(state_dir=state)
    assert Path(again.ca).read_bytes() == ca_before
    assert (state / "server.pem").read_bytes() == cert_before
    # An old client that trusted the first CA keeps verifying the restarted server.
    s = requests.Session()
    s.trust_env = False
    s.verify = str(state / "ca.pem")
    assert s.get(f"{again.url}/_umsim/health", timeout=10).json() == {"ok": True}
    assert again.job(done_key)["status"] == "warning"
    job = again.job(key)
    assert job["submit_time"] == submitted["submit_time"]
    if time.monotonic() - started < 1.9:
        assert job["state"] == "running"
    final = again.wait_done(key)
    elapsed = time.monotonic() - started
    assert final["state"] == "completed" and final["status"] == "error"
    assert 1.8 < elapsed < 2.6, elapsed  # finished on its original schedule, across the restart
    keys = [j["key"] for j in again.api("GET", "/management-server/jobs").json()["records"]]
    assert set(keys) == {key, done_key}
    # New keys after the restart stay unique and well formed.
    new = again.start_job({"duration": 0.3})
    assert KEY_RE.match(new) and new not in keys


def test_sigterm_releases_held_long_polls(start_sim) -> None:
    sim = start_sim()
    key = sim.start_job({"duration": 60})
    result: dict[str, object] = {}

    def poll() -> None:
        try:
            result["r"] = requests.get(f"{sim.url}/api/management-server/jobs/{key}", params={"poll_timeout": 120},
                                       auth=("operator", "Operator-pass-1"), verify=sim.ca, timeout=30)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            result["e"] = exc

    t = threading.Thread(target=poll)
    t.start()
    deadline = time.monotonic() + 10
    while sim.ctl("GET", "/counters")["long_polls_open"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    started = time.monotonic()
    assert sim.stop() == 0
    assert time.monotonic() - started < 3
    t.join(10)
    r = result.get("r")
    assert r is not None, result
    assert r.status_code == 200 and r.json()["state"] == "running"


def test_sigint_also_stops_cleanly(start_sim) -> None:
    sim = start_sim()
    sim.start_job({"duration": 0.3})
    os.kill(sim.pid, signal.SIGINT)
    assert sim.proc.wait(10) == 0
    assert "Traceback" not in sim.stderr()


def test_missing_requirement_gives_a_one_line_hint(tmp_path: Path) -> None:
    """Without aiohttp the simulator says which package is missing and where its requirements are."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "aiohttp.py").write_text("raise ImportError('no aiohttp here', name='aiohttp')\n")
    env = {**os.environ, "PYTHONPATH": str(shadow)}
    proc = subprocess.run([sys.executable, str(UMSIM), "--state-dir", str(tmp_path / "s")], check=False, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "'aiohttp'" in lines[0] and "requirements.txt" in lines[0], proc.stderr
