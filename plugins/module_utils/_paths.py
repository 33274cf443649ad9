# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What may be sent where: the checks on a path under /api, a path parameter and a host name.

Plain Python, nothing from Ansible and nothing from requests: every path a user gives, every `_links.next` UM
gives and every job key passes here before anything is sent.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, unquote

from ._errors import UMConfigError
from ._text import mask_userinfo


def encode_segment(value: str) -> str:
    """Percent-encode one path parameter (job keys hold ':'), so nothing in it can change the path."""
    return quote(str(value), safe="")


def _dot_segment(segment: str) -> bool:
    """Whether a path segment is, or hides, a '.' or '..' segment for some server: percent-encoded once or
    twice (`%2e%2e`, `%252e`), followed by a servlet path parameter (`..;x`), or joined by an encoded slash
    or backslash (`..%2Fx`)."""
    seen = segment
    for _round in range(3):
        for part in re.split(r"[/\\]", seen):
            if part.split(";", 1)[0] in (".", ".."):
                return True
        decoded = unquote(seen)
        if decoded == seen:
            break
        seen = decoded
    return False


def check_api_path(path: str) -> str:
    """Normalise a path under /api (`/storage-provider/luns`, `storage-provider/luns`, `/api/...`).

    Refuses absolute URLs, `..` segments in any disguise and embedded queries, so a path can never leave the
    API. User paths, `_links.next` from UM and job keys all go through here before they are sent.
    """
    if not isinstance(path, str) or not path.strip():
        raise UMConfigError("path is empty: give a path under /api, for example /storage-provider/luns")
    p = path.strip()
    if "://" in p or p.startswith("//"):
        raise UMConfigError(f"path '{mask_userinfo(p)}' is a URL: give only the path under /api (for example "
                            "/storage-provider/luns); the server comes from hostname and http_port")
    if any(c in p for c in "?#"):
        raise UMConfigError(f"path '{mask_userinfo(p)}' holds '?' or '#': give query parameters in the query option")
    if any(ord(c) < 33 or ord(c) > 126 for c in p):
        raise UMConfigError(f"path '{mask_userinfo(p)}' holds spaces, control or non-ASCII characters: "
                            "percent-encode path parameters or pass them in query")
    if not p.startswith("/"):
        p = "/" + p
    if p == "/api" or p.startswith("/api/"):
        p = p[4:] or "/"
    segments = p.split("/")
    if any(_dot_segment(s) for s in segments):
        raise UMConfigError(f"path '{mask_userinfo(path)}' holds a '.' or '..' segment (perhaps percent-encoded or with "
                            "';'): give the path under /api as it is")
    if any(ord(c) < 32 or ord(c) == 127 for c in unquote(unquote(p))):
        raise UMConfigError(f"path '{mask_userinfo(path)}' holds a percent-encoded control character: give the path "
                            "under /api as it is")
    return p


_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


def check_hostname(hostname: str) -> str:
    """Accept a host name or address only: a scheme, path, port or user belongs in other options (or nowhere)."""
    host = (hostname or "").strip() if isinstance(hostname, str) or hostname is None else str(hostname).strip()
    if not host:
        raise UMConfigError("hostname is empty: give UM's host name or address (or set UM_HOSTNAME)")
    if "://" in host:
        raise UMConfigError(f"hostname '{mask_userinfo(host)}' holds a scheme: give only the host name or address, "
                            "HTTPS is always used")
    if any(c in host for c in "/?#@ \t") or not host.isprintable():
        raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not a host name or address: give only the host, "
                            "for example um.example.com")
    if host.startswith("["):
        if not host.endswith("]"):
            raise UMConfigError(f"hostname '{mask_userinfo(host)}' holds a port or is not a bracketed IPv6 address: give "
                                "only the address (for example ::1) and the port in http_port")
        host = host[1:-1]
        if not _is_ipv6(host):
            raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not an IPv6 address: give UM's host name or address")
        return host
    if ":" in host:
        if host.count(":") == 1:
            raise UMConfigError(f"hostname '{mask_userinfo(host)}' holds a port: give the port in http_port")
        if not _is_ipv6(host):
            raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not a host name or an IPv6 address: give only the "
                                "host, and the port in http_port")
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not a valid host name: check its spelling") from None
    labels = ascii_host[:-1].split(".") if ascii_host.endswith(".") else ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise UMConfigError(f"hostname '{mask_userinfo(host)}' is not a valid host name (empty label, a label longer "
                            "than 63 characters, or a character a host name cannot hold): check its spelling")
    return host


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True
