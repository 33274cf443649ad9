# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() against the scripted Unified Manager, on a fake clock."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import tempfile

import pytest
import trustme

from ansible.module_utils import basic as ansible_basic
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core 2.19 and later
    from ansible.module_utils import _internal as ansible_internal
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.16 to 2.18: a module reads its arguments from basic._ANSIBLE_ARGS
    ansible_internal = None

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = ansible_basic._ANSIBLE_ARGS
        ansible_basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            ansible_basic._ANSIBLE_ARGS = saved

from ansible_collections.aiqum.jobs.plugins.module_utils import _module, _options
from ansible_collections.aiqum.jobs.plugins.module_utils._client import UMClient
from ansible_collections.aiqum.jobs.plugins.module_utils._waiter import JobWaiter
from ansible_collections.aiqum.jobs.tests.unit.um_fakes import PASSWORD, FakeClock, FakeUM

# The client checks that ca_path is a readable file; its content is never used here (_send is scripted).
_fd, CA_FILE = tempfile.mkstemp(prefix="aiqum-unit-", suffix="-ca.pem")
os.close(_fd)
atexit.register(os.unlink, CA_FILE)

CONNECTION = {"hostname": "um.example.com", "username": "storage_admin", "password": PASSWORD,
              "ca_path": CA_FILE, "http_port": 8443}


@pytest.fixture
def um(monkeypatch, no_sleep):  # pylint: disable=unused-argument
    """The scripted UM behind the real UMClient: only its _send is replaced, and the waiter's clock.
    A test that leaves answers it scripted with `um.script(...)` unused fails at teardown."""
    clock = FakeClock()
    server = FakeUM(clock, latency=0.02)
    server.clients = []
    server.closed = 0

    class RecordingClient(UMClient):
        def __init__(self, *args, **kwargs):
            server.clients.append((args, kwargs))
            super().__init__(*args, **kwargs)

        def _send(self, method, url, shown, params, body, timeout, retry):
            return server.send(method, url, shown, params, body, timeout, retry)

        def close(self):
            server.closed += 1
            super().close()

    monkeypatch.setattr(_options, "UMClient", RecordingClient)
    monkeypatch.setattr(_module, "JobWaiter", functools.partial(JobWaiter, clock=clock, sleep=clock.sleep))
    yield server
    server.assert_scripted_used()  # at teardown: a scripted answer no request took fails the test


@pytest.fixture
def run_module(capsys, monkeypatch):
    """Call main() with module args; return (exit code, result dict, raw stdout)."""
    # AnsibleModule keeps warnings in a process-wide store: one module run per process in real life.
    # (a dict since ansible-core 2.19, a list before)
    monkeypatch.setattr(ansible_warnings, "_global_warnings", type(ansible_warnings._global_warnings)())
    monkeypatch.setattr(ansible_warnings, "_global_deprecations", type(ansible_warnings._global_deprecations)())
    if ansible_internal is not None:
        # A module's process is never the controller, even when a test has imported controller code (the
        # action plugins): its warnings belong in its result, not on the controller's display.
        monkeypatch.setattr(ansible_internal, "is_controller", False)

    def run(main, args, check_mode=False, drop=()):
        full = dict(CONNECTION)
        full.update(args)
        for name in drop:
            full.pop(name, None)
        if check_mode:
            full["_ansible_check_mode"] = True
        with patch_module_args(full):
            with pytest.raises(SystemExit) as exc:
                main()
        out = capsys.readouterr().out
        result = json.loads(out)
        code = exc.value.code or 0
        assert bool(code) == bool(result.get("failed")), (code, result)
        return code, result, out
    return run


# -- the real client against a loopback TLS server (tests/hostile_server.py) -------------------------------

@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """A test CA (its PEM in ca_file), a leaf for 127.0.0.1, one for other names (wrong) and another CA's PEM."""
    ca, other = trustme.CA(), trustme.CA()
    folder = tmp_path_factory.mktemp("pki")
    ca_file, other_file = folder / "um-ca.pem", folder / "other-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    other.cert_pem.write_to_path(str(other_file))
    return {"ca": ca, "ca_file": str(ca_file), "other_file": str(other_file),
            "leaf": ca.issue_cert("127.0.0.1", "localhost"), "wrong": ca.issue_cert("um.example.com", "um2.example.com")}


@pytest.fixture
def make_client(request, um, pki):
    """Make UMClients for the test module's `um` server (its USER, PASSWORD and REQUEST_TIMEOUT); closed after."""
    made = []
    module = request.module

    def make(password=None, **kw):
        args = {"port": um.port, "ca_path": pki["ca_file"], "request_timeout": module.REQUEST_TIMEOUT,
                "backoff_factor": 0.01}
        args.update(kw)
        client = UMClient("127.0.0.1", module.USER, module.PASSWORD if password is None else password, **args)
        made.append(client)
        return client
    yield make
    for client in made:
        client.close()
