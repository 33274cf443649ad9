# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the AWX tests: the credential type of awx/, and its injectors rendered as AWX renders them."""

from __future__ import annotations

import os
import stat
import tempfile
import types
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parent.parent.parent
CREDENTIAL_TYPE = ROOT / "awx" / "credential_type.yml"


def inject_credential(credential_type: dict[str, Any], inputs: dict[str, Any], private_data_dir: Path) -> dict[str, str]:
    """The environment AWX gives a job for one credential of this type (as AWX's CredentialType.inject_credential).

    Inputs that were not given are absent from the namespace (undefined in the templates); a boolean field that
    was not given is False. Each file injector is rendered into a new file under <private_data_dir>/env, mode
    0600, whose path is `tower.filename` in the env injectors.
    """
    namespace: dict[str, Any] = dict(inputs)
    for field in credential_type["inputs"].get("fields", []):
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    tower = types.SimpleNamespace()
    env_dir = private_data_dir / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    for label, template in credential_type["injectors"].get("file", {}).items():
        data = sandbox.from_string(template).render(**namespace)
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as f:
            f.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." in label:
            if not hasattr(tower, "filename"):
                tower.filename = types.SimpleNamespace()
            setattr(tower.filename, label.split(".", 1)[1], path)
        else:
            tower.filename = path
    namespace["tower"] = tower
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in credential_type["injectors"].get("env", {}).items()}


@pytest.fixture(scope="session")
def credential_type() -> dict[str, Any]:
    with CREDENTIAL_TYPE.open() as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="session")
def inject(credential_type: dict[str, Any]) -> Callable[[dict[str, Any], Path], dict[str, str]]:
    """inject(inputs, private_data_dir) -> the UM_* environment of a credential with these inputs."""
    return lambda inputs, pdd: inject_credential(credential_type, inputs, pdd)
