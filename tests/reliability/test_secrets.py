# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets: the password and the Authorization header never appear; TLS is verified by default and its
failure says how to fix it; credentials never follow a redirect to another host.

Every ansible run of the whole suite is scanned by reltools.run_cases; this file adds a realistic playbook
run at -vvvv and the same playbook through ansible-runner (every artifact scanned), the TLS checks and the
redirect checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import trustme
import yaml

import reltools
from reltools import Canned, FakeUM, Row, script_for

from ansible_collections.aiqum.jobs.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._errors import UMError, UMTLSError
from ansible_collections.aiqum.jobs.plugins.module_utils._module import CONNECTION_ARGSPEC
from ansible_collections.aiqum.jobs.plugins.module_utils._options import read_connection

PLAY = """\
- name: A realistic play whose every output is searched for secrets
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/aiqum.jobs.um:
      hostname: "{{{{ um_hostname }}}}"
      http_port: "{{{{ um_port }}}}"
      username: admin
{password_line}      ca_path: "{{{{ um_ca }}}}"
      request_timeout: 3
  tasks:
    - name: Start a LUN and wait for it, with progress lines
      aiqum.jobs.um_request:
        method: POST
        path: /storage-provider/luns
        body: {{name: secret-lun, os_type: linux, svm: {{key: "4ea7a442-86d1-11e0-ae1c-000000000001:type=vserver,uuid=4ea7a442-86d1-11e0-5e1c-000000000101"}},
               performance_service_level: {{key: 1b9e84ba-3f1c-4fa8-9f5c-000000000003}}, space: {{size: 1073741824}}}}
        wait: true
        timeout: 60
        progress_interval: 2
      register: created

    - name: Wait on three jobs through a burst of 503s, with progress lines
      aiqum.jobs.um_job_wait:
        keys: "{{{{ burst_keys }}}}"
        timeout: 60
        poll_interval: 0.5
        progress_interval: 2

    - name: A wait that times out
      aiqum.jobs.um_job_wait:
        key: "{{{{ long_key }}}}"
        timeout: 2
        progress_interval: 0
      ignore_errors: true

    - name: A wrong password
      aiqum.jobs.um_job_info:
        password: "{{{{ wrong_password }}}}"
        max_records: 1
      ignore_errors: true

    - name: A CA file that did not sign the server's certificate
      aiqum.jobs.um_job_info:
        ca_path: "{{{{ other_ca }}}}"
        max_records: 1
      ignore_errors: true

    - name: A start whose answer is lost
      aiqum.jobs.um_request:
        method: POST
        path: /storage-provider/file-shares
        body: {{name: lost-share, svm: {{key: "4ea7a442-86d1-11e0-ae1c-000000000001:type=vserver,uuid=4ea7a442-86d1-11e0-5e1c-000000000101"}},
               performance_service_level: {{key: 1b9e84ba-3f1c-4fa8-9f5c-000000000003}}, space: {{size: 1073741824}}}}
      ignore_errors: true

    - name: A wait under async
      aiqum.jobs.um_job_wait:
        key: "{{{{ async_key }}}}"
        timeout: 30
      async: 60
      poll: 1

    - name: What users print
      ansible.builtin.debug:
        var: created
"""


def _prepare(sim: reltools.SimProc, workdir: Path, other_ca: str) -> dict[str, t.Any]:
    burst = [sim.start_job(script_for(o, 4.0)) for o in ("normal", "warning", "partial_failures")]
    sim.add_fault(kind="status", status=503, seconds=3.0, match={"method": "GET", "path": "/management-server/jobs*"})
    sim.add_fault(kind="drop_after", count=1, match={"method": "POST", "path": "/storage-provider/file-shares"})
    sim.ctl("POST", "/rules", {"method": "POST", "path": "/storage-provider/luns", "name": "secret-lun",
                               "job": {"duration": 4.0}})
    return {"um_hostname": sim.host, "um_port": sim.port, "um_ca": sim.ca, "burst_keys": burst,
            "long_key": sim.start_job(script_for("normal", 600.0)),
            "async_key": sim.start_job(script_for("normal", 2.0)),
            "wrong_password": reltools.WRONG_PASSWORD, "other_ca": other_ca}


def _check_play(results: dict[str, t.Any], source: str) -> None:
    """The play did what it says (so the scan covered real successes and real failures)."""
    created = results["created"]
    assert created.get("outcomes") and list(created["outcomes"].values()) == ["normal"], source
    for fragment in ("timed out", "HTTP 401", "could not be verified", "may have"):
        assert fragment in results["text"], f"{source}: no task output holds {fragment!r}"


def _vvvv_run(sim: reltools.SimProc, collections: Path, other_ca: str, scanned: dict[str, int]) -> None:
    """ansible-playbook -vvvv, the password in an extra-vars file as a vault-less user would have it."""
    work = reltools.new_tmp("secrets-vvvv-")
    extra = dict(_prepare(sim, work, other_ca), um_password=reltools.PASSWORD)
    (work / "extra.json").write_text(json.dumps(extra))
    (work / "play.yml").write_text(PLAY.format(password_line='      password: "{{ um_password }}"\n'))
    env = reltools.ansible_env(collections, work, ANSIBLE_ASYNC_DIR=str(work / "async"))
    proc = subprocess.run([str(reltools.VENV_BIN / "ansible-playbook"), "-vvvv", "-i", "localhost,", "-c", "local",
                           "-e", "@extra.json", "play.yml"], cwd=work, env=env, capture_output=True, text=True,
                          timeout=200, stdin=subprocess.DEVNULL, check=False)
    record = json.loads((work / "record.json").read_text())
    for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        reltools.assert_no_secret(f"ansible-playbook -vvvv {name}", text, "ansible -vvvv output")
    reltools.assert_no_secret("ansible-playbook -vvvv results", record, "task results")
    for path in sorted((work / "async").rglob("*")) if (work / "async").exists() else []:
        if path.is_file():
            reltools.assert_no_secret(f"async result {path.name}", path.read_text(errors="replace"), "async job files")
            scanned["async job files"] = scanned.get("async job files", 0) + 1
    results = {e["task"]: e["result"] for entries in record.values() for e in entries}
    results["created"] = results["Start a LUN and wait for it, with progress lines"]
    results["text"] = json.dumps(record)
    _check_play(results, "ansible-playbook -vvvv")
    assert "waiting: job" in proc.stdout, "no progress line was printed"
    assert "ESTABLISH LOCAL CONNECTION" in proc.stdout, "not a -vvvv run?"
    scanned["-vvvv outputs (stdout, stderr, results)"] = 3


def _runner_run(sim: reltools.SimProc, collections: Path, other_ca: str, scanned: dict[str, int]) -> list[str]:
    """ansible-runner, verbosity 4, the password only in the environment (UM_PASSWORD, the AWX way)."""
    import ansible_runner  # pylint: disable=import-outside-toplevel
    pdd = reltools.new_tmp("secrets-runner-")
    for sub in ("project", "inventory", "env"):
        (pdd / sub).mkdir()
    (pdd / "project" / "play.yml").write_text(PLAY.format(password_line=""))
    (pdd / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    (pdd / "env" / "extravars").write_text(json.dumps(_prepare(sim, pdd, other_ca)))
    envvars = {k: v for k, v in reltools.ansible_env(collections, pdd).items()
               if k.startswith("ANSIBLE_") and "CALLBACK" not in k}
    envvars.update({"UM_PASSWORD": reltools.PASSWORD, "ANSIBLE_ASYNC_DIR": str(pdd / "async"),
                    "PATH": f"{reltools.VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"})
    (pdd / "env" / "envvars").write_text(json.dumps(envvars))
    runner = ansible_runner.run(private_data_dir=str(pdd), playbook="play.yml", verbosity=4, quiet=True,
                                timeout=200)
    assert runner.rc == 0, f"runner rc={runner.rc} status={runner.status}: {runner.stdout.read()[-3000:]}"
    artifacts = pdd / "artifacts"
    files = [p for p in artifacts.rglob("*") if p.is_file()]
    for path in files:
        rel = path.relative_to(artifacts)
        # runner's own record of the command line and environment it was given holds the input by design
        if rel.name == "command":
            continue
        reltools.assert_no_secret(f"ansible-runner artifact {rel}", path.read_text(errors="replace"),
                                  "ansible-runner artifacts")
        scanned["ansible-runner artifact files"] = scanned.get("ansible-runner artifact files", 0) + 1
    for path in (pdd / "async").rglob("*") if (pdd / "async").exists() else []:
        if path.is_file():
            reltools.assert_no_secret(f"runner async {path.name}", path.read_text(errors="replace"), "async job files")
    events = [e for e in runner.events if e.get("event") in ("runner_on_ok", "runner_on_failed")]
    by_task = {e["event_data"]["task"]: e["event_data"]["res"] for e in events}
    by_task["created"] = by_task["Start a LUN and wait for it, with progress lines"]
    by_task["text"] = json.dumps(events)
    _check_play(by_task, "ansible-runner")
    assert any(f.parent.name == "job_events" for f in files), "runner wrote no job events"
    return sorted(str(p.relative_to(artifacts)) for p in files)


@pytest.mark.timeout(240)
def test_vvvv_and_ansible_runner_outputs_hold_no_secret(own_sim: t.Callable[..., reltools.SimProc],
                                                        collections: Path, tmp_path: Path) -> None:
    other = trustme.CA()
    other_ca = tmp_path / "other-ca.pem"
    other.cert_pem.write_to_path(str(other_ca))
    scanned: dict[str, int] = {}
    sims = [own_sim(), own_sim()]   # side by side: each run's faults stay on its own simulator
    with ThreadPoolExecutor(max_workers=2) as pool:
        vvvv = pool.submit(_vvvv_run, sims[0], collections, str(other_ca), scanned)
        runner = pool.submit(_runner_run, sims[1], collections, str(other_ca), scanned)
        vvvv.result()
        files = runner.result()
    reltools.RESULTS.add(Row("secrets", "-vvvv playbook run and ansible-runner (verbosity 4) artifacts; 8 tasks: "
                             "successes with progress lines, timeout, 401, TLS failure, lost answer, async, "
                             "debug of a result", 2, 2, 0, "-", 2,
                             f"outputs scanned: {scanned}; not scanned: runner's artifacts/<id>/command "
                             "(its record of the environment it was given)"))
    reltools.RESULTS.extra["runner_artifacts"] = files


def test_validate_certs_defaults_to_true_and_failure_says_how_to_fix(sim: reltools.SimProc) -> None:
    # The one option reader applies the default (so that UM_VALIDATE_CERTS can stand in for an option not given);
    # the argspec leaves it unset and the documentation says it.
    assert read_connection({"hostname": "um", "username": "u", "password": "p"}, env={}).validate_certs is True
    assert "default" not in CONNECTION_ARGSPEC["validate_certs"]
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)
    assert "else V(true)" in " ".join(doc["options"]["validate_certs"]["description"])
    messages = []
    for ca_path in (None, "other"):
        kwargs: dict[str, t.Any] = {}
        if ca_path:
            other = trustme.CA()
            path = reltools.new_tmp("other-ca-") / "ca.pem"
            other.cert_pem.write_to_path(str(path))
            kwargs["ca_path"] = str(path)
        client = UMClient(sim.host, reltools.USER, reltools.PASSWORD, port=sim.port, **kwargs)
        with pytest.raises(UMTLSError) as caught:
            client.get("/management-server/jobs", params={"max_records": 1})
        client.close()
        msg = str(caught.value)
        messages.append(msg)
        reltools.assert_no_secret("TLS failure message", msg, "waiter messages")
        assert reltools.one_line(msg) and "ca_path" in msg, msg
        # The fix offered first is the CA file; turning verification off is never the first suggestion.
        if "validate_certs" in msg:
            assert msg.index("ca_path") < msg.index("validate_certs"), msg
    reltools.RESULTS.add(Row("secrets", "validate_certs defaults to true; verification failure names ca_path first",
                             2, 2, 0, "-", 2, "the option reader's default and the doc say true; messages: "
                             + " | ".join(m[:150] for m in messages)))


def _redirect_server(ca: t.Any, status: int, target: str) -> FakeUM:
    return FakeUM(ca, {"*": lambda h: Canned(status, b"", {"Location": target + h.target})})


@pytest.mark.timeout(120)
def test_credentials_never_follow_a_redirect(collections: Path, tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    answer = {"records": [], "num_records": 0, "key": "x", "state": "completed", "status": "normal"}
    collector = FakeUM(ca, {"*": Canned(200, answer)})
    redirectors = [_redirect_server(ca, status, f"https://{host}:{collector.port}")
                   for status in (301, 302, 307, 308) for host in ("127.0.0.1", "localhost")]
    # A server that answers a list page whose `next` link points at another host.
    nexter = FakeUM(ca, {"/api/management-server/jobs": Canned(200, {
        "records": [{"key": "a"}], "num_records": 1, "total_records": 2,
        "_links": {"next": {"href": f"https://127.0.0.1:{collector.port}/api/management-server/jobs?offset=1"}}})})
    tried = 0
    right = 0
    try:
        for red in redirectors:
            client = UMClient("127.0.0.1", reltools.USER, reltools.PASSWORD, port=red.port, ca_path=str(ca_file),
                              request_timeout=5)
            calls: list[t.Callable[[], t.Any]] = [
                lambda c=client: c.get("/management-server/jobs"),
                lambda c=client: c.get_job("1:2:3:4"),
                lambda c=client: c.get_job("1:2:3:4", retry=False),
                lambda c=client: c.request("POST", "/storage-provider/luns", body={"name": "x"}),
                lambda c=client: c.request("DELETE", "/storage-provider/luns/abc"),
            ]
            for call in calls:
                tried += 1
                try:
                    call()
                    got = "no error"
                except UMError as exc:
                    got = str(exc)
                reltools.assert_no_secret("redirect message", got, "waiter messages")
                right += "redirect" in got
            client.close()
        client = UMClient("127.0.0.1", reltools.USER, reltools.PASSWORD, port=nexter.port, ca_path=str(ca_file))
        tried += 1
        try:
            list(client.iter_records("/management-server/jobs"))
            got = "no error"
        except UMError as exc:
            got = str(exc)
        right += "not a path under /api" in got
        client.close()
        # The modules, end to end, against a 302 to another port.
        red = redirectors[2]
        conn = {"hostname": "127.0.0.1", "http_port": red.port, "username": reltools.USER,
                "password": reltools.PASSWORD, "ca_path": str(ca_file), "request_timeout": 5}
        cases = {
            "get": {"module": "um_request", "args": {**conn, "path": "/storage-provider/luns"}},
            "post": {"module": "um_request", "args": {**conn, "method": "POST", "path": "/storage-provider/luns",
                                                      "body": {"name": "x"}, "wait": True}},
            "wait": {"module": "um_job_wait", "args": {**conn, "key": "1:2:3:4", "timeout": 3}},
            "waitmany": {"module": "um_job_wait", "args": {**conn, "keys": ["1:2:3:4", "1:2:3:5"], "timeout": 3}},
            "info": {"module": "um_job_info", "args": {**conn, "max_records": 5}},
            "next": {"module": "um_job_info", "args": {**conn, "http_port": nexter.port, "max_records": 5}},
        }
        run = reltools.run_cases(collections, reltools.new_tmp("redirect-"), cases, forks=6)
        for host in cases:
            res = run.result(host)
            tried += 1
            right += res.get("failed") is True and reltools.one_line(res.get("msg")) and reltools.no_traceback(res)
    finally:
        seen = list(collector.seen)
        for server in redirectors + [collector, nexter]:
            server.close()
    with_auth = [s.target for s in seen if "authorization" in s.headers]
    reltools.RESULTS.add(Row("secrets", "credentials never follow a redirect (301/302/307/308 to another port and "
                             "host name; a next link to another host)", tried, right, tried - right, "-", tried,
                             f"requests that reached the other host: {len(seen)}, with an Authorization header: "
                             f"{len(with_auth)}"))
    assert not with_auth, f"credentials followed a redirect: {with_auth}"
    assert right == tried, f"{tried - right} redirect cases did not fail clearly"
    assert os.environ.get("AIQUM_RELIABILITY_STRICT_REDIRECT") != "1" or not seen
