#!/usr/bin/env python
"""umsim: a Unified Manager (AIQUM) REST API simulator for tests, demos and benchmarks.

Usage (contract: docs/simulator-spec.md, guide: docs/simulator.md):

    python tests/simulator/umsim.py [--host 127.0.0.1] [--port 0] [--state-dir DIR] [--http]
                                    [--long-poll honour|ignore|reject] [--rules FILE] [--ready-file FILE]

This file only wires things together: arguments, the loopback-only socket, TLS material, the aiohttp
server and the signal-driven shutdown.  The model, storage, API and control channel live in the sibling
``umsim_*.py`` modules.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import os
import resource
import signal
import socket
import ssl
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    import trustme  # noqa: E402,F401  pylint: disable=unused-import
    from aiohttp import web  # noqa: E402
except ImportError as _missing:  # a one-line hint, not a traceback
    sys.stderr.write(f"umsim: error: the Python package '{_missing.name}' is missing; install the simulator's "
                     f"requirements: pip install -r {Path(__file__).resolve().parent / 'requirements.txt'}\n")
    sys.exit(2)

from umsim_api import Simulator, default_users  # noqa: E402
from umsim_control import LONG_POLL_MODES, Config  # noqa: E402
from umsim_http import ApiError  # noqa: E402
from umsim_store import Store  # noqa: E402

log = logging.getLogger("umsim")

LISTEN_BACKLOG = 2048
CERT_IDENTITIES = ("127.0.0.1", "localhost", "::1")


class StartupError(Exception):
    """A problem that stops the simulator before it is ready (reported on stderr, exit code 2)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="umsim", description="Unified Manager REST API simulator (loopback only).")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    p.add_argument("--state-dir", help="directory for umsim.sqlite and the TLS files (default: a new temp dir)")
    p.add_argument("--http", action="store_true", help="serve plain HTTP instead of HTTPS")
    p.add_argument("--long-poll", choices=LONG_POLL_MODES, default="honour",
                   help="what to do with ?poll_timeout= on job GETs (default honour)")
    p.add_argument("--rules", help="JSON file with a list of job rules to load at start")
    p.add_argument("--ready-file", help="also write the ready information as JSON to this file")
    return p.parse_args(argv)


def loopback_address(host: str) -> tuple[str, int]:
    """Return (address to bind, address family); refuse anything that is not loopback.

    The simulator has fixed, published passwords and an unauthenticated control channel, so it must
    never be reachable from another machine.
    """
    name = host.strip("[]")
    if name.lower() == "localhost":
        return "127.0.0.1", socket.AF_INET
    try:
        addr = ipaddress.ip_address(name)
    except ValueError:
        raise StartupError(f"--host {host!r} is not an IP address or 'localhost'; umsim binds loopback only") from None
    if not addr.is_loopback:
        raise StartupError(f"refusing to bind {host!r}: umsim binds only loopback addresses (127.0.0.0/8, ::1)")
    return str(addr), socket.AF_INET6 if addr.version == 6 else socket.AF_INET


def ensure_tls(state: Path) -> tuple[Path, Path, Path]:
    """CA + server certificate in the state dir; created once and reused so clients keep verifying."""
    ca_file, ca_key = state / "ca.pem", state / "ca-key.pem"
    cert_file, key_file = state / "server.pem", state / "server-key.pem"
    if ca_file.exists() and cert_file.exists() and key_file.exists():
        return ca_file, cert_file, key_file
    if ca_file.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(ca_file.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="umsim test CA")
        ca.cert_pem.write_to_path(str(ca_file))
        _write_private(ca_key, ca.private_key_pem.bytes())
    leaf = ca.issue_cert(*CERT_IDENTITIES, common_name="umsim")
    cert_file.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    _write_private(key_file, leaf.private_key_pem.bytes())
    return ca_file, cert_file, key_file


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def raise_fd_limit() -> None:
    """Thousands of held long polls need as many sockets; lift the soft limit to the hard one."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
    except (ValueError, OSError):
        pass


def load_rules(sim: Simulator, path: str) -> None:
    try:
        rules = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise StartupError(f"cannot read --rules {path}: {exc}") from None
    if not isinstance(rules, list):
        raise StartupError(f"--rules {path} must hold a JSON list of rules")
    for i, spec in enumerate(rules):
        try:
            sim.rules.add(spec)
        except ApiError as exc:
            raise StartupError(f"--rules {path}: rule {i}: {exc.message}") from None


async def serve(args: argparse.Namespace) -> int:
    bind_addr, family = loopback_address(args.host)
    state = Path(args.state_dir or tempfile.mkdtemp(prefix="umsim-")).resolve()
    state.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = ensure_tls(state)
    ssl_ctx = None
    if not args.http:
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(str(cert_file), str(key_file))

    store = Store(state / "umsim.sqlite")
    sim = Simulator(store, Config(long_poll=args.long_poll), default_users(os.environ))
    if args.rules:
        load_rules(sim, args.rules)

    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bind_addr, args.port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot bind {bind_addr}:{args.port}: {exc}") from None
    port = sock.getsockname()[1]

    server = web.Server(sim.handle, access_log=None, handler_cancellation=False)
    runner = web.ServerRunner(server, shutdown_timeout=2.0)
    await runner.setup()
    site = web.SockSite(runner, sock, ssl_context=ssl_ctx, backlog=LISTEN_BACKLOG)
    await site.start()  # listen() has been called once this returns

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    url_host = f"[{bind_addr}]" if family == socket.AF_INET6 else bind_addr
    url = f"{'http' if args.http else 'https'}://{url_host}:{port}"
    if args.ready_file:
        info = {"url": url, "host": bind_addr, "port": port, "ca_file": str(ca_file), "pid": os.getpid(),
                "state_dir": str(state)}
        tmp = Path(args.ready_file + ".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(args.ready_file)
    sys.stdout.write(f"umsim ready url={url} ca={ca_file} pid={os.getpid()}\n")
    sys.stdout.flush()

    await stop.wait()
    sim.sleeper.wake_all()   # held long polls answer now instead of delaying the shutdown
    await runner.cleanup()
    store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="umsim: %(levelname)s %(message)s", stream=sys.stderr)
    args = parse_args(argv)
    raise_fd_limit()
    try:
        return asyncio.run(serve(args))
    except StartupError as exc:
        print(f"umsim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
