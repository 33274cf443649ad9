# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a request failed, in words a user can act on: proxies, TLS handshakes, certificates (and the names a
certificate holds), and the short reason buried in requests' and urllib3's nested exceptions.

Plain Python, nothing from Ansible. No message holds a URL with user info, a password or a header.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import typing as t
from urllib.parse import urlsplit

from ._text import one_line

try:
    import requests
    import urllib3
except ImportError:  # pragma: no cover - the client reports the missing library before anything here runs
    pass


def proxy_message(origin: str, method: str, shown: str, exc: Exception, proxies: t.Any) -> tuple[str, bool]:
    """The message for a proxy failure, and whether the proxy answered (refused) rather than was unreachable."""
    proxy = None
    try:
        chosen = requests.utils.select_proxy(origin, proxies or {})
        if chosen:
            parts = urlsplit(chosen if "://" in chosen else "http://" + chosen)
            proxy = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    except ValueError:
        proxy = None
    where = f"the proxy {one_line(proxy, 100)}" if proxy else "the proxy"
    text = str(exc)
    answered = re.search(r"Tunnel connection failed: (\d{3})([^'\")]*)", text)
    if answered:
        status = answered.group(1)
        words = one_line(answered.group(2).strip(), 60)
        advice = {"407": "the proxy wants credentials: put them in HTTPS_PROXY (http://user:password@proxy:port)",
                  "403": "the proxy does not allow connections to UM: ask for it to be allowed, or list UM in "
                         "NO_PROXY"}.get(status, "check HTTPS_PROXY and NO_PROXY")
        return (f"{method} {shown}: {where} refused to connect to {origin} (CONNECT answered HTTP {status}"
                f"{' ' + words if words else ''}); nothing reached UM: {advice}"), True
    return (f"{method} {shown}: cannot reach {where} ({one_line(_reason(exc), 120)}); nothing reached UM: check "
            "HTTPS_PROXY and NO_PROXY in the environment of the host that runs the module"), False


def tls_message(origin: str, host: str, port: int, ca_path: str | None, verify: bool | str, timeout: float,
                exc: Exception) -> tuple[str, bool]:
    """The message for a TLS failure, and whether it is about the certificate (or CA file) rather than a
    handshake that broke off."""
    why = _reason(exc)
    low = str(exc).lower()
    if "expired" in low:
        return (f"TLS certificate of {origin} has expired (or the clock of the host that runs the module is "
                "wrong): renew UM's certificate (or fix the clock); nothing was sent"), True
    if "hostname mismatch" in low or "doesn't match" in low or "not valid for" in low:
        names = certificate_names(origin, host, port, verify, timeout)
        holds = f" (it names {', '.join(one_line(n, 80) for n in names[:8])})" if names else ""
        return (f"TLS certificate of {origin} is not issued for '{host}'{holds}: set hostname to a "
                "name the certificate holds (or have UM's certificate reissued); nothing was sent"), True
    if "certificate verify failed" not in low and "certificate" not in low:
        return (f"TLS handshake with {origin} failed: {why}; nothing was sent. Check that http_port is UM's "
                "HTTPS port and that no proxy or firewall in between breaks TLS"), False
    if ca_path and ("no certificate or crl found" in low or "pem lib" in low):
        return (f"the CA file {one_line(ca_path)} holds no PEM certificate: give in ca_path (UM_CA_PATH) the "
                "PEM file of the CA that signed UM's certificate; nothing was sent"), True
    if ca_path:
        return (f"TLS certificate of {origin} could not be verified with the CA file {one_line(ca_path)}: "
                f"{why}. Give the CA certificate that signed UM's certificate in ca_path (UM_CA_PATH)."), True
    return (f"TLS certificate of {origin} could not be verified: {why}. If UM uses a self-signed or "
            "private-CA certificate, give that CA certificate's PEM file in ca_path (or UM_CA_PATH)."), True


def certificate_names(origin: str, host: str, port: int, verify: bool | str, timeout: float) -> list[str]:
    """The DNS names and addresses UM's certificate holds, for a hostname-mismatch message: one more TLS
    handshake (no request), verified against the same CAs with only the name check off. Best effort."""
    if requests.utils.get_environ_proxies(origin):
        return []  # through a proxy: not worth a CONNECT of our own for a message
    try:
        # The CAs requests itself used: ca_path, else REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else its own bundle.
        cafile = verify if isinstance(verify, str) else (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or requests.certs.where())
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.check_hostname = False
        with socket.create_connection((host, port), timeout=min(5.0, timeout)) as raw:
            with ctx.wrap_socket(raw) as tls:
                cert = tls.getpeercert() or {}
    except (OSError, ValueError):
        return []
    names = [value for kind, value in cert.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    if not names:
        names = [value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName"]
    return [str(n) for n in names]


def _caused_by(exc: Exception, kinds: tuple[type, ...]) -> bool:
    """Whether `exc` or an error it wraps (requests and urllib3 nest them) is one of `kinds`."""
    seen = set()
    cur: t.Any = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, kinds):
            return True
        if isinstance(cur, urllib3.exceptions.MaxRetryError):
            cur = cur.reason
            continue
        cur = (cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None) \
            or cur.__cause__ or cur.__context__
    return False


def _reason(exc: Exception) -> str:
    """A short reason without URLs (which could carry user info) or nested reprs, made one printable line."""
    return one_line(_raw_reason(exc), 160)


def _raw_reason(exc: Exception) -> str:
    cur: t.Any = exc
    for _depth in range(6):
        if isinstance(cur, urllib3.exceptions.MaxRetryError) and cur.reason is not None:
            cur = cur.reason
        elif cur.args and isinstance(cur.args[0], BaseException):
            cur = cur.args[0]
        else:
            break
    if isinstance(cur, urllib3.exceptions.NameResolutionError):
        return "the host name does not resolve"
    text = str(cur)
    for marker in ("Connection refused", "certificate verify failed", "timed out", "Name or service not known",
                   "No route to host", "Connection reset", "hostname mismatch", "doesn't match",
                   "Remote end closed connection"):
        if marker.lower() in text.lower():
            detail = text[text.lower().index(marker.lower()):].split("'", 1)[0]
            # Drop OpenSSL's source location and what follows it: "(_ssl.c:1006)".
            return re.split(r"\s*\(_ssl\.c:|\)", detail, maxsplit=1)[0].strip(" :(")
    return text.rsplit(": ", 1)[-1][:160] if text else type(cur).__name__
