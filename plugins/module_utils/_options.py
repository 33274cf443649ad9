# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reader of connection options, for every entry point: the modules, the lookup and the event source.

Each entry point hands in the values it was given (a module's params, a lookup's options, a rulebook's source
arguments); this reader applies the aliases (`user`, `pass`), the `UM_*` environment variables for what was not
given (an empty variable counts as unset), the defaults, the types and ranges, `feature_flags`, and says which
warnings the entry point must show. Every problem is one line naming the option or the variable and what to give.
The module argspec is derived from the same table, so names, aliases and `no_log` cannot drift.
"""

from __future__ import annotations

import math
import os
import socket
import typing as t
from dataclasses import dataclass, field

from ansible.module_utils.parsing.convert_bool import boolean

from ._client import UMClient
from ._errors import UMConfigError
from ._flags import FeatureFlags
from ._secrets import Secrets


@dataclass(frozen=True)
class Option:
    name: str
    kind: str                      # str, path, int, float, bool, dict
    env: str | None = None         # the UM_* variable read when the option is not given
    default: t.Any = None
    aliases: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    required: bool = False
    secret: bool = False
    hint: str = ""                 # what to give, for a value out of range or of the wrong kind


OPTIONS: tuple[Option, ...] = (
    Option("hostname", "str", "UM_HOSTNAME", required=True),
    Option("username", "str", "UM_USERNAME", aliases=("user",), required=True),
    Option("password", "str", "UM_PASSWORD", aliases=("pass",), required=True, secret=True),
    Option("validate_certs", "bool", "UM_VALIDATE_CERTS", default=True),
    Option("http_port", "int", "UM_HTTP_PORT", low=1, high=65535, hint="a TCP port from 1 to 65535 (443 when unset)"),
    Option("ca_path", "path", "UM_CA_PATH"),
    Option("request_timeout", "float", "UM_REQUEST_TIMEOUT", default=30.0, low=0.1, high=3600,
           hint="a number of seconds from 0.1 to 3600, for example 30"),
    Option("feature_flags", "dict"),
)
NAMES = tuple(o.name for o in OPTIONS)
_ANSIBLE_TYPES = {"str": "str", "path": "path", "int": "int", "float": "float", "bool": "bool", "dict": "dict"}


def argument_spec() -> dict[str, dict[str, t.Any]]:
    """The modules' argspec for the connection options (mirrored by the `connection` doc fragment).

    No defaults and no fallbacks here: what was not given stays None, so that this reader, not Ansible, applies
    the UM_* variables and the defaults the same way for modules, the lookup and the event source.
    """
    spec: dict[str, dict[str, t.Any]] = {}
    for o in OPTIONS:
        entry: dict[str, t.Any] = {"type": _ANSIBLE_TYPES[o.kind]}
        if o.aliases:
            entry["aliases"] = list(o.aliases)
        if o.secret:
            entry["no_log"] = True
        spec[o.name] = entry
    return spec


@dataclass
class Connection:
    """Connection settings read and checked, with the secrets they hold and the warnings to show."""
    hostname: str
    username: str
    password: str
    http_port: int | None
    validate_certs: bool
    ca_path: str | None
    request_timeout: float
    flags: FeatureFlags
    secrets: Secrets = field(default_factory=Secrets)

    def warnings(self) -> list[str]:
        """What the entry point must show once (a task, a lookup call, a source start)."""
        out = []
        if self.flags.trace_apis:
            out.append(f"feature_flags.trace_apis is on: every HTTP exchange with UM is appended to "
                       f"{self.flags.trace_file} on {socket.gethostname()} (credentials masked); turn it off when done")
        if not self.validate_certs:
            out.append(f"validate_certs is false: the TLS certificate of {self.hostname} is not verified, so anyone on "
                       "the network path could impersonate UM and read the password; give UM's CA certificate in "
                       "ca_path instead")
        return out

    def client(self) -> UMClient:
        """A client for these settings, tracing when asked, masking this connection's secrets."""
        client = UMClient(self.hostname, self.username, self.password, port=self.http_port,
                          validate_certs=self.validate_certs, ca_path=self.ca_path,
                          request_timeout=self.request_timeout)
        client.secrets = self.secrets
        client.trace = self.flags.tracer(self.secrets)
        return client


def _given(value: t.Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


_WANT = {"bool": "a boolean (true or false)", "dict": "a dictionary", "str": "a string", "path": "a file path"}


def _convert(o: Option, value: t.Any, source: str) -> t.Any:
    """`value` as the option's kind. `source` is the option's name or the UM_* variable it came from."""
    want = _WANT.get(o.kind) or o.hint or "a number"
    shown = "(hidden)" if o.secret else repr(str(value).strip()[:40])
    if source == o.name:
        label, fix = f"{o.name} {shown}", ""
    else:
        label, fix = f"{source}={shown}", f": correct {source}, or unset it and give {o.name}"
    try:
        if o.kind in ("str", "path"):
            if isinstance(value, (dict, list, bool)):
                raise ValueError
            return os.path.expanduser(str(value).strip()) if o.kind == "path" else str(value)
        if o.kind == "bool":
            return boolean(value.strip() if isinstance(value, str) else value, strict=True)
        if o.kind == "dict":
            if not isinstance(value, t.Mapping):
                raise ValueError
            return dict(value)
        if isinstance(value, bool):
            raise ValueError
        number = float(value.strip() if isinstance(value, str) else value)
        if not math.isfinite(number) or (o.kind == "int" and number != int(number)):
            raise ValueError
    except (TypeError, ValueError):
        raise UMConfigError(f"{label} is not {want}{fix}") from None
    if (o.low is not None and number < o.low) or (o.high is not None and number > o.high):
        give = f": give {want}" if source == o.name else f": set {source} to {want}, or unset it and give {o.name}"
        raise UMConfigError(f"{label} is out of range{give}")
    return int(number) if o.kind == "int" else number


def read_connection(values: t.Mapping[str, t.Any], env: t.Mapping[str, str] | None = None) -> Connection:
    """Read the connection options from `values` (names or aliases), then the environment, then the defaults."""
    env = os.environ if env is None else env
    read: dict[str, t.Any] = {}
    missing = []
    for o in OPTIONS:
        value, source = None, o.name
        for name in (o.name, *o.aliases):
            if _given(values.get(name)):
                value, source = values[name], o.name
                break
        if value is None and o.env and _given(env.get(o.env)):
            value, source = env[o.env], o.env
        if value is None:
            if o.required:
                missing.append(f"{o.name} (or {o.env})")
            read[o.name] = o.default
            continue
        read[o.name] = _convert(o, value, source)
    if missing:
        raise UMConfigError(f"missing {', '.join(missing)}: give them as options (for modules, also in "
                            "module_defaults for group/aiqum.jobs.um) or set the UM_* environment variables")
    flags = FeatureFlags.from_option(read.pop("feature_flags"))
    secrets = Secrets()
    secrets.add_basic_auth(read["username"], read["password"])
    return Connection(flags=flags, secrets=secrets, **read)
