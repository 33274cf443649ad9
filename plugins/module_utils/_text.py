# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text that came from a server or from a user, made safe before it reaches a message or a terminal.

A server (or a proxy pretending to be one) chooses every byte of a job's name, an error message or a
header. Printed raw, ESC[2K, a carriage return or a fake `ok: [localhost]` line would rewrite the user's
terminal. Everything such text goes through here first. Plain Python: nothing from Ansible.
"""

from __future__ import annotations

import re
import typing as t

# Longest piece of server text that one message line shows.
DEFAULT_LIMIT = 200

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://|//)?.*@", re.DOTALL)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def one_line(value: t.Any, limit: int = DEFAULT_LIMIT) -> str:
    """`value` as printable text on one line: control characters (ESC, CR, LF, DEL, C1...), format and
    separator characters and lone surrogates shown as `\\xNN` escapes, cut at `limit` characters with an ellipsis.

    For any text a server sent (job names, UM's error messages, task failure reasons) before it goes into a
    message, a warning or a progress line.
    """
    text = value if isinstance(value, str) else str(value)
    out = []
    size = 0
    for char in text:
        piece = char if char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF else _escape(char)
        if size + len(piece) > limit:
            out.append("...")
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


def mask_userinfo(value: t.Any, limit: int = DEFAULT_LIMIT) -> str:
    """A user-given value (hostname, path) for a message: everything up to its last '@' masked, since it may
    hold `user:password@` and a password may itself hold '@'; then made one line."""
    text = value if isinstance(value, str) else str(value)
    return one_line(_USERINFO.sub(lambda m: (m.group(1) or "") + "***@", text, count=1), limit)


# How deep a server's JSON may nest before the deeper part is replaced by a note. UM's own answers nest about
# six levels; Ansible's result encoder fails well before 1000.
MAX_DEPTH = 32
TOO_DEEP = "(nested too deep: not shown)"


def tame_json(value: t.Any, max_depth: int = MAX_DEPTH) -> t.Any:
    """Decoded JSON made safe to return as a task result: lone surrogates (which no UTF-8 encoder accepts,
    Ansible's included) become U+FFFD in strings and keys, and anything nested deeper than `max_depth` is
    replaced by a short note, so no server can make the module or Ansible's encoder fail on its answer."""
    if isinstance(value, str):
        return _no_surrogates(value)
    if isinstance(value, (list, dict)) and max_depth <= 0:
        return TOO_DEEP
    if isinstance(value, list):
        return [tame_json(v, max_depth - 1) for v in value]
    if isinstance(value, dict):
        return {_no_surrogates(str(k)): tame_json(v, max_depth - 1) for k, v in value.items()}
    return value


def _no_surrogates(text: str) -> str:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text
