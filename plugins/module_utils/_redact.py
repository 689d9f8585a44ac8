# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep secrets out of everything a module returns or logs.

Ansible masks ``no_log`` option values, but tokens that arrive in responses (a fresh access token in a
header, a cookie) are unknown to it; this helper is the single place that strips both.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

MASK = "********"

# Header names whose values are always secret, whatever they contain.
SECRET_HEADERS = frozenset(
    h.lower()
    for h in (
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "X-Atlassian-Token-Secret",
        "X-Auth-Token",
        "X-Api-Key",
    )
)

# Keys in JSON or form bodies that carry secrets.
SECRET_KEYS = frozenset(
    (
        "password",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "clientsecret",
        "secret",
        "private_key",
        "oauth_token_secret",
        "oauth_verifier",
        "verifier",
        "code_verifier",
        "sharedsecret",
    )
)

# Credentials pasted into free text (exception strings, debug lines): "Basic <b64>", "Bearer <token>",
# "OAuth oauth_consumer_key=..., oauth_signature=...".
_AUTH_IN_TEXT = re.compile(
    r"(?i)\b(Basic|Bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*|\b(OAuth)\s+(?=(?:realm|oauth_\w+)=)[^\r\n]*"
)


def encoded_forms(value):
    """A secret as a server may echo it back: plain, JSON-escaped (ASCII or not), and URL-encoded (path or form)."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value),
        quote(value, safe=""),
        quote_plus(value),
        quote_plus(value, safe="/"),
    }
    # Lower-case percent escapes are as valid as upper-case ones (RFC 3986 2.1).
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), form) for form in forms}
    return {form for form in forms if len(form) >= 4}


class Redactor:
    """Masks known secret values anywhere in a nested structure."""

    def __init__(self, secrets=()):
        self._secrets = set()
        for value in secrets:
            self.add(value)

    def add(self, value):
        # Very short values would mask innocent text everywhere; Ansible uses the same cut-off idea.
        if isinstance(value, str) and len(value) >= 4:
            self._secrets.update(encoded_forms(value))

    @property
    def secrets(self):
        return frozenset(self._secrets)

    def text(self, value):
        if not isinstance(value, str):
            return value
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        return _AUTH_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + " " + MASK, value)

    def headers(self, headers):
        return {
            k: (MASK if k.lower() in SECRET_HEADERS else self.text(v)) for k, v in dict(headers or {}).items()
        }

    def data(self, value):
        if isinstance(value, dict):
            return {
                k: (MASK if isinstance(k, str) and k.lower() in SECRET_KEYS and v not in (None, "") else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return self.text(value)


def redact(value, secrets=()):
    """One-shot helper for callers that have no Redactor at hand."""
    return Redactor(secrets).data(value)
