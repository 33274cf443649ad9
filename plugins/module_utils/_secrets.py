# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiqum.jobs maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one set of secrets of a task (or a lookup, or an event source), applied to everything it writes.

What an entry point was told is secret goes in: the password, Ansible's `no_log` values, and values a request
body or query holds under secret-looking names (a datasource's password, a token...). Out of it come masked
text and masked data for task messages, results, lookup errors, event source logs and the API trace.

A server may repeat a secret in another form than it was given: the `Authorization` value it received
(Base64 of `user:password`), a JSON-escaped or percent-encoded password in an error message. Each secret is
masked in all of these forms, and always before any text is cut to length, so no prefix of a secret survives.

Plain Python, nothing from Ansible.
"""

from __future__ import annotations

import base64
import json
import re
import typing as t
from urllib.parse import quote, quote_plus

MASK = "********"

# Names under which a body, a query or a header holds a secret, wherever they appear (the one pattern).
SECRET_NAMES = re.compile(r"pass(word|wd|phrase)?$|secret|token|private_?key|api_?key|credential|"
                          r"^authorization$|^proxy-authorization$|^cookie$|^set-cookie$|^x-auth-token$",
                          re.IGNORECASE)


def secret_name(name: t.Any) -> bool:
    """Whether a field, parameter or header of this name holds a secret."""
    return bool(SECRET_NAMES.search(str(name)))


def _b64_forms(raw: bytes) -> set[str]:
    std = base64.b64encode(raw).decode("ascii")
    url = base64.urlsafe_b64encode(raw).decode("ascii")
    return {std, std.rstrip("="), url, url.rstrip("=")}


class Secrets:
    """A set of secret strings, each masked in every form a server or a log could show it in."""

    def __init__(self, values: t.Iterable[t.Any] = ()) -> None:
        self._values: set[str] = set()
        self._forms: list[str] = []
        for value in values:
            self.add(value)

    def __bool__(self) -> bool:
        return bool(self._values)

    @property
    def values(self) -> frozenset[str]:
        """The secrets as given (for Ansible's no_log_values)."""
        return frozenset(self._values)

    def add(self, value: t.Any) -> None:
        """A secret value; numbers count as their text. Empty values and booleans are nothing to hide."""
        if value is None or isinstance(value, (bool, dict, list)):
            return
        text = str(value)
        if not text or text in self._values:
            return
        self._values.add(text)
        forms = {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], quote(text, safe=""),
                 quote_plus(text, safe=""), repr(text)[1:-1]}
        forms |= _b64_forms(text.encode("utf-8"))
        self._add_forms(forms)

    def add_basic_auth(self, username: t.Any, password: t.Any) -> None:
        """The password, and the Authorization value HTTP Basic makes of it, however a server shows it back."""
        self.add(password)
        if password in (None, ""):
            return
        raw = f"{'' if username is None else username}:{password}".encode("utf-8")
        self._add_forms(_b64_forms(raw))

    def add_from(self, data: t.Any) -> None:
        """The values a body, a query or headers hold under secret-looking names, at any depth."""
        if isinstance(data, t.Mapping):
            for name, value in data.items():
                if secret_name(name) and not isinstance(value, (dict, list)):
                    self.add(value)
                else:
                    self.add_from(value)
        elif isinstance(data, (list, tuple)):
            for item in data:
                self.add_from(item)

    def _add_forms(self, forms: t.Iterable[str]) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._forms = sorted(set(self._forms) | {f for f in forms if f}, key=len, reverse=True)

    def mask(self, text: t.Any, replacement: str = MASK) -> str:
        """`text` with every form of every secret replaced by the mask."""
        out = text if isinstance(text, str) else str(text)
        for form in self._forms:
            if form in out:
                out = out.replace(form, replacement)
        return out

    def masked(self, data: t.Any, by_name: bool = True, replacement: str = MASK) -> t.Any:
        """A copy of decoded JSON with secrets masked inside every string (keys included) and, with `by_name`
        (what was or will be sent: a body, a query), values under secret-looking names replaced too. A server's
        answer is masked with `by_name=False`: a `token_count` there is data, not a secret."""
        if not self._forms and not by_name:
            return data
        if isinstance(data, str):
            return self.mask(data, replacement) if self._forms else data
        if isinstance(data, t.Mapping):
            out = {}
            for name, value in data.items():
                key = self.mask(name, replacement) if isinstance(name, str) and self._forms else name
                if by_name and secret_name(name) and not isinstance(value, (dict, list)) and value not in (None, "") \
                        and not isinstance(value, bool):
                    out[key] = replacement
                else:
                    out[key] = self.masked(value, by_name, replacement)
            return out
        if isinstance(data, (list, tuple)):
            return [self.masked(v, by_name, replacement) for v in data]
        return data
