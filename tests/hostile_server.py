# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hostile server for tests: one loopback listener that answers whatever a test scripts, byte by byte if asked.

Where the simulator behaves like UM, this one behaves like a broken or malicious UM, or a proxy in front of it:
any status line, any headers, any body (including bytes no HTTP library would write), a TLS handshake that
never completes or is reset, an answer cut off or trickled. Used by the unit tests (in-process, fast) and by the
reliability suite (through real Ansible tasks).

    server = HostileServer(trustme_leaf_cert)          # TLS; HostileServer(None) for plain HTTP (a proxy)
    server.script(lambda req: Reply(202, body=b"not json"))
    ... server.port, server.seen (every request read), server.connections (every TCP connection accepted)
    server.close()

A handler gets a `Request` and returns a `Reply` (or raw `bytes`, sent as they are). Handshake faults are set
with `server.handshake = "hang" | "reset" | "plain"` (plain: answer the TLS hello with a plain HTTP 400, as a
port that is not HTTPS does).
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
import typing as t
from dataclasses import dataclass, field


class Headers(dict):
    """Request headers: names kept lower-cased, looked up in any case."""

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name.lower() if isinstance(name, str) else name)

    def get(self, name: str, default: t.Any = None) -> t.Any:  # type: ignore[override]
        return super().get(name.lower(), default)


@dataclass
class Request:
    method: str
    target: str                  # the raw request target, query included
    headers: Headers             # names lower-cased, looked up in any case
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        """The raw request target (query included), as http.server names it."""
        return self.target

    def json(self) -> t.Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    """One answer. `body` may be bytes, str (UTF-8, surrogates passed through) or any JSON value.

    - `reason`: the reason phrase; `raw_status`: a whole status line instead (no CRLF), for broken ones.
    - `headers`: sent as given; Content-Length is added unless given or `length=False`.
    - `byte_delay`: seconds between the bytes of the answer (a trickle; of the body only with `head_first`);
      `cut_after`: close after that many bytes.
    - `head_delay`: seconds between the bytes of the status line and headers only (slow headers); the body then
      follows at once. `pad_head`: add a header of that many bytes, so a slow head lasts (bytes x head_delay).
    - `hang`: seconds to hold the connection open after the answer (or instead of it with `status=None`).
    - `reset`: end with a TCP reset instead of a clean close.
    - `endless`: send `body` as the first chunk of a chunked answer, then a blank chunk every `endless` seconds (a
      64 KiB one without pause when 0) until the test sets `release`, the client leaves or 30 s have passed.
    """
    status: int | None = 200
    body: t.Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    raw_status: str | None = None
    length: bool = True
    byte_delay: float = 0.0
    head_first: bool = False
    head_delay: float = 0.0
    pad_head: int = 0
    cut_after: int | None = None
    hang: float = 0.0
    reset: bool = False
    endless: float | None = None

    def encode(self) -> bytes:
        if self.status is None and self.raw_status is None:
            return b""
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8", "surrogatepass")
        else:
            data = json.dumps(self.body).encode("utf-8")
        line = self.raw_status if self.raw_status is not None else f"HTTP/1.1 {self.status} {self.reason or 'X'}"
        heads = dict(self.headers)
        if self.pad_head:
            heads["X-Pad"] = "p" * self.pad_head
        names = {k.lower() for k in heads}
        if "content-type" not in names and not isinstance(self.body, (bytes, str)):
            heads["Content-Type"] = "application/json"
        if self.endless is not None:
            heads["Transfer-Encoding"] = "chunked"
            names.add("transfer-encoding")
            data = b"%x\r\n%s\r\n" % (len(data), data)
        if self.length and "content-length" not in names and "transfer-encoding" not in names:
            heads["Content-Length"] = str(len(data))
        if "connection" not in names:
            heads["Connection"] = "close"
        head = line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in heads.items()) + "\r\n"
        return head.encode("latin-1", "replace") + data


Handler = t.Callable[[Request], t.Union[Reply, bytes]]


class HostileServer:
    """One listener on 127.0.0.1, a thread per connection; TLS with `cert` (a trustme LeafCert), plain without."""

    def __init__(self, cert: t.Any = None) -> None:
        self.seen: list[Request] = []
        self.connections = 0
        self.handshake = "ok"        # ok | hang | reset | plain
        self.release = threading.Event()
        self._handler: Handler = lambda req: Reply(200, {})
        self._lock = threading.Lock()
        self._ctx: ssl.SSLContext | None = None
        if cert is not None:
            self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cert.configure_cert(self._ctx)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    # -- what tests call --------------------------------------------------------------------------

    def script(self, handler: Handler | Reply | bytes) -> None:
        """Set how every following request is answered (a Reply or bytes: always that one), forgetting what was seen."""
        with self._lock:
            self.seen.clear()
            self.connections = 0
        self.handshake = "ok"
        self.release.clear()
        if isinstance(handler, (Reply, bytes)):
            fixed = handler
            self._handler = lambda req: fixed
        else:
            self._handler = handler

    def close(self) -> None:
        self.release.set()
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    # -- inside -------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            if self._ctx is not None:
                if self.handshake == "hang":
                    self.release.wait(30)
                    return
                if self.handshake == "reset":
                    _reset(conn)
                    return
                if self.handshake == "plain":
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                try:
                    conn = self._ctx.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client gave up on our certificate: nothing was sent
            request = _read_request(conn)
            if request is None:
                return
            with self._lock:
                self.seen.append(request)
            answer = self._handler(request)
            if isinstance(answer, bytes):
                reply, data = Reply(), answer
            else:
                reply, data = answer, answer.encode()
            if reply.cut_after is not None:
                data = data[:reply.cut_after]
            if reply.head_delay:
                head_end = data.find(b"\r\n\r\n") + 4
                for i in range(head_end):
                    conn.sendall(data[i:i + 1])
                    if self.release.wait(reply.head_delay):
                        return
                data = data[head_end:]
            if reply.byte_delay and reply.head_first:
                head_end = data.find(b"\r\n\r\n") + 4
                conn.sendall(data[:head_end])
                data = data[head_end:]
            if reply.byte_delay:
                for i in range(len(data)):
                    conn.sendall(data[i:i + 1])
                    if self.release.wait(reply.byte_delay):
                        break
            elif data:
                conn.sendall(data)
            if reply.endless is not None:
                self._endless(conn, reply.endless)
            if reply.hang:
                self.release.wait(reply.hang)
            if reply.reset:
                _reset(conn)
                return
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _endless(self, conn: socket.socket, delay: float) -> None:
        started = time.monotonic()
        piece = b" " if delay else b" " * 65536
        while not self.release.is_set() and time.monotonic() - started < 30:
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            if delay:
                self.release.wait(delay)


def _reset(conn: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0) rather than a clean FIN."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def _read_request(conn: socket.socket) -> Request | None:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buf += chunk
        if len(buf) > 1 << 20:
            return None
    head, _sep, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    headers = Headers()
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(parts[0], parts[1], headers, rest[:length])
