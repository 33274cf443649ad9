"""UM's query syntax on list filters, shared by the job list and every object collection.

A filter is ``<field>=<query value>``; the field may be dotted (``svm.name``).  A value holds
alternatives separated by ``|`` (OR).  Each alternative is one of:

- ``"text"``: the literal text (quotes keep ``* | < > ! ..`` from being read as operators);
- ``!x``: anything but ``x`` (``x`` may itself be any of the forms below);
- ``>x``, ``>=x``, ``<x``, ``<=x``: comparison, on number and time fields only;
- ``a..b``: inclusive range, on number and time fields only;
- text with ``*``: wildcard (only ``*`` is special), case-insensitive;
- anything else: equality, case-insensitive (numbers compare as numbers, times as instants).

Times are ISO 8601 with an offset and compare as instants (``+00:00`` and ``+05:30`` forms of one instant
are equal).  A value that cannot be read, or an operator on a field that does not take it, raises a 400
``ApiError`` naming the field: a filter never silently matches nothing because it was misread.  A record
without the field (e.g. ``complete_time`` of a running job) never matches, not even ``*`` or ``!x``.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable

from umsim_http import ApiError

STRING, NUMBER, TIME, BOOL = "string", "number", "time", "bool"
_COMPARE = (">=", "<=", ">", "<")
Matcher = Callable[[Any], bool]


def parse_time(text: str, field: str) -> float:
    """ISO 8601 with an offset -> epoch seconds; 400 otherwise."""
    raw = text.strip().replace(" ", "+")  # an unencoded '+' in a query string arrives as a space
    try:
        stamp = _dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter",
                       f"'{text}' is not an ISO 8601 time for '{field}' (e.g. 2026-11-27T10:00:00.000+00:00).",
                       field) from None
    if stamp.tzinfo is None:
        raise ApiError(400, "invalid_parameter",
                       f"The time '{text}' for '{field}' has no offset; add one (e.g. +00:00).", field)
    return stamp.timestamp()


def parse_number(text: str, field: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"'{text}' is not a number for '{field}'.", field) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ApiError(400, "invalid_parameter", f"'{text}' is not a finite number for '{field}'.", field)
    return value


def _operand(text: str, kind: str, field: str) -> float:
    return parse_time(text, field) if kind == TIME else parse_number(text, field)


def _as_number(value: Any, kind: str) -> float | None:
    """The record's value as a comparable number (epoch for times); None when it has none."""
    if value is None or isinstance(value, bool):
        return None
    if kind == NUMBER:
        return float(value) if isinstance(value, (int, float)) else None
    if isinstance(value, str):
        try:
            stamp = _dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return stamp.timestamp() if stamp.tzinfo is not None else None
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _alternative(alt: str, kind: str, field: str) -> Matcher:
    """One ``|``-separated alternative as a predicate on the record's raw value (never None)."""
    if len(alt) >= 2 and alt.startswith('"') and alt.endswith('"'):
        literal = alt[1:-1].casefold()
        return lambda v: (_text(v) or "").casefold() == literal
    if alt.startswith("!"):
        inner = _alternative(alt[1:], kind, field)
        return lambda v: not inner(v)
    for op in _COMPARE:
        if alt.startswith(op):
            if kind not in (NUMBER, TIME):
                raise ApiError(400, "invalid_parameter",
                               f"'{field}' is not a number or a time: the operator '{op}' does not apply to it.",
                               field)
            bound = _operand(alt[len(op):], kind, field)
            cmp = {">=": float.__ge__, "<=": float.__le__, ">": float.__gt__, "<": float.__lt__}[op]

            def compare(v: Any, bound: float = bound, cmp: Callable[[float, float], bool] = cmp) -> bool:
                n = _as_number(v, kind)
                return n is not None and cmp(n, bound)
            return compare
    if ".." in alt:
        if kind not in (NUMBER, TIME):
            raise ApiError(400, "invalid_parameter",
                           f"'{field}' is not a number or a time: the range '..' does not apply to it"
                           " (quote the value to match it as text).", field)
        low_text, _sep, high_text = alt.partition("..")
        low, high = _operand(low_text, kind, field), _operand(high_text, kind, field)
        if low > high:
            raise ApiError(400, "invalid_parameter", f"The range '{alt}' for '{field}' is empty (low > high).", field)

        def within(v: Any) -> bool:
            n = _as_number(v, kind)
            return n is not None and low <= n <= high
        return within
    if "*" in alt:
        pattern = re.compile(".*".join(re.escape(p) for p in alt.split("*")), re.I | re.S)
        return lambda v: pattern.fullmatch(_text(v) or "") is not None
    folded = alt.casefold()
    if kind == NUMBER:
        target = parse_number(alt, field)
        return lambda v: _as_number(v, kind) == target
    if kind == TIME:
        try:
            instant: float | None = parse_time(alt, field)
        except ApiError:
            instant = None  # not a full time: compare as text

        def same_time(v: Any) -> bool:
            text = _text(v)
            return text is not None and (text.casefold() == folded or
                                         (instant is not None and _as_number(v, kind) == instant))
        return same_time
    return lambda v: (_text(v) or "").casefold() == folded


def value_matcher(expr: str, kind: str = STRING, field: str = "value") -> Matcher:
    """A predicate on one field's value for a query value (see the module docstring)."""
    parts = expr.split("|")
    if kind == STRING and not any(p[:1] in ('"', "!", ">", "<") or "*" in p or ".." in p for p in parts):
        # Plain values on a text field (the common case, e.g. type=... over 10,000 jobs): one set lookup.
        exact = {p.casefold() for p in parts}
        return lambda v: v is not None and (v if isinstance(v, str) else _text(v) or "").casefold() in exact
    alternatives = [_alternative(alt, kind, field) for alt in parts]
    if len(alternatives) == 1:
        only = alternatives[0]
        return lambda v: v is not None and only(v)
    return lambda v: v is not None and any(a(v) for a in alternatives)


def dotted(record: dict[str, Any], path: str) -> Any:
    """``svm.name`` -> record["svm"]["name"]; a list on the way matches if any element has the value."""
    value: Any = record
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def record_predicate(path: str, expr: str, kind: str) -> Callable[[dict[str, Any]], bool]:
    match = value_matcher(expr, kind, path)
    if "." not in path:
        return lambda r: match(r.get(path))
    return lambda r: match(dotted(r, path))
