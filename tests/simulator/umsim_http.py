"""Small HTTP helpers shared by the API and the control channel of umsim.

Every error the simulator sends has UM's shape ``{"error": {"code", "message", "target"?}}``; keeping
one helper for it makes sure no handler invents another shape.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

JSON_TYPE = "application/json"


class ApiError(Exception):
    """Raised by handlers; turned into an error body with the given HTTP status."""

    def __init__(self, status: int, code: str, message: str, target: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = headers or {}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Compact JSON with the application/json content type clients expect."""
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type=JSON_TYPE, headers=headers)


def error_body(code: str, message: str, target: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        err["target"] = target
    return {"error": err}


def error_response(status: int, code: str, message: str, target: str | None = None,
                   headers: dict[str, str] | None = None) -> web.Response:
    return json_response(error_body(code, message, target), status=status, headers=headers)


def from_api_error(exc: ApiError) -> web.Response:
    return error_response(exc.status, exc.code, exc.message, exc.target, exc.headers)


async def read_json_object(request: web.BaseRequest, *, allow_empty: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 ApiError (UM rejects anything else)."""
    raw = await request.read()
    if not raw.strip():
        if allow_empty:
            return {}
        raise ApiError(400, "invalid_body", "The request body must be a JSON object; it is empty.", "body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {exc}", "body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body",
                       f"The request body must be a JSON object, not {type(body).__name__}.", "body")
    return body
