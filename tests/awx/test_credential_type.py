# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential type (awx/credential_type.yml and .json): its shape and what its injectors produce."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

CREDENTIAL_TYPE = Path(__file__).resolve().parent.parent.parent / "awx" / "credential_type.yml"

Inject = Callable[[dict[str, Any], Path], dict[str, str]]
BASE = {"hostname": "um.example.com", "username": "storage_admin", "password": "pw"}
CONNECTION_OPTIONS = ("UM_HOSTNAME", "UM_USERNAME", "UM_PASSWORD", "UM_HTTP_PORT", "UM_VALIDATE_CERTS",
                      "UM_CA_PATH", "UM_REQUEST_TIMEOUT")


def test_json_is_the_yaml(credential_type: dict[str, Any]) -> None:
    assert json.loads(CREDENTIAL_TYPE.with_suffix(".json").read_text()) == credential_type


def test_shape(credential_type: dict[str, Any]) -> None:
    fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
    assert credential_type["kind"] in ("cloud", "net")  # the kinds AWX allows for custom types
    assert set(credential_type["inputs"]["required"]) == {"hostname", "username", "password"}
    assert fields["password"].get("secret") is True
    assert not any(f.get("secret") for i, f in fields.items() if i != "password")
    assert all(re.fullmatch(r"[a-z_]+", i) and f.get("label") and f["type"] in ("string", "boolean")
               for i, f in fields.items())
    # Every variable the modules read from the environment, and nothing else.
    assert set(credential_type["injectors"]["env"]) == set(CONNECTION_OPTIONS)
    assert "extra_vars" not in credential_type["injectors"]  # extra vars would show the password in the job


def test_minimal_credential(inject: Inject, tmp_path: Path) -> None:
    env = inject(BASE, tmp_path)
    assert env == {"UM_HOSTNAME": "um.example.com", "UM_USERNAME": "storage_admin", "UM_PASSWORD": "pw",
                   "UM_HTTP_PORT": "443", "UM_VALIDATE_CERTS": "true", "UM_REQUEST_TIMEOUT": "30", "UM_CA_PATH": ""}


@pytest.mark.parametrize("empty", ["", None])
def test_empty_optional_inputs_keep_safe_defaults(inject: Inject, tmp_path: Path, empty: Any) -> None:
    inputs = dict(BASE, port=empty, validate_certs=empty, request_timeout=empty, ca_certificate=empty, ca_path=empty)
    env = inject({k: v for k, v in inputs.items() if v is not None}, tmp_path)
    assert env["UM_HTTP_PORT"] == "443" and env["UM_VALIDATE_CERTS"] == "true" and env["UM_REQUEST_TIMEOUT"] == "30"
    assert env["UM_CA_PATH"] == ""


def test_ca_certificate_content_goes_to_a_private_file(inject: Inject, tmp_path: Path) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    env = inject(dict(BASE, ca_certificate=pem, ca_path="/ignored.pem", port="8443", validate_certs="false"), tmp_path)
    ca = Path(env["UM_CA_PATH"])
    assert ca.parent == tmp_path / "env" and ca.read_text() == pem
    assert ca.stat().st_mode & 0o777 == 0o600
    assert env["UM_HTTP_PORT"] == "8443" and env["UM_VALIDATE_CERTS"] == "false"


def test_ca_path(inject: Inject, tmp_path: Path) -> None:
    assert inject(dict(BASE, ca_path="/etc/pki/um-ca.pem"), tmp_path)["UM_CA_PATH"] == "/etc/pki/um-ca.pem"
