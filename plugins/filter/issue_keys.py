# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The issue_keys filter; its documentation is in issue_keys.yml."""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean

DEFAULT_EXCLUDE = (
    "UTF-8", "UTF-16", "UTF-32", "ISO-8859", "ISO-2022", "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512", "MD-5",
    "AES-128", "AES-192", "AES-256", "RSA-2048", "RSA-4096", "TLS-1", "X-509", "WIN-1252", "CP-1252",
)
# Not preceded by a letter, digit or '_' of any script; the number is not followed by a letter or digit (an
# underscore may follow: feature/JJ-12_pink). The project part is matched case-insensitively only on request.
_KEY = r"(?<![^\W])([A-Z][A-Z0-9_]+)-([1-9][0-9]*)(?![^\W_])"
KEY_RE = re.compile(_KEY)
KEY_RE_ANY_CASE = re.compile(_KEY, re.IGNORECASE)


def _texts(value, where="input"):
    if value is None:
        return
    if isinstance(value, (bytes, bytearray)):
        yield to_text(bytes(value), encoding="utf-8", errors="surrogate_or_replace")
    elif isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _texts(item, f"{where}[{index}]")
    else:
        raise AnsibleFilterError(f"issue_keys: {where} must be a string or a list of strings, "
                                 f"not {type(value).__name__}")


_PROJECT_RE = re.compile(r"^[A-Z][A-Z0-9_]+$", re.IGNORECASE)
_EXCLUDE_RE = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$", re.IGNORECASE)


def _strings(value, option, pattern, what):
    """A string or a list of strings, each matching ``pattern``; anything else is named in the error."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise AnsibleFilterError(f"issue_keys: {option} must be a string or a list of strings, "
                                 f"not {type(value).__name__}")
    out = set()
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise AnsibleFilterError(f"issue_keys: {option}[{index}] must be a string, not {type(item).__name__}")
        if not pattern.match(item):
            raise AnsibleFilterError(f"issue_keys: {option}[{index}] {item!r} is not {what}")
        out.add(item.upper())
    return out


def issue_keys(value, projects=None, ignore_case=False, exclude=DEFAULT_EXCLUDE):
    """Jira issue keys found in ``value``, in order, each once."""
    allowed = _strings(projects, "projects", _PROJECT_RE, "a Jira project key (for example JJ)") \
        if projects not in (None, [], ()) else None
    try:
        ignore_case = boolean(ignore_case, strict=True)
    except TypeError:
        raise AnsibleFilterError(f"issue_keys: ignore_case must be true or false, not {ignore_case!r}") from None
    excluded = _strings(exclude, "exclude", _EXCLUDE_RE, "an issue key (for example UTF-8)") \
        if exclude is not None else set()
    pattern = KEY_RE_ANY_CASE if ignore_case else KEY_RE
    found = []
    seen = set()
    for text in _texts(value):
        for match in pattern.finditer(text):
            project = match.group(1)
            if ignore_case:
                project = project.upper()
            key = f"{project}-{match.group(2)}"
            if key in seen or key in excluded or (allowed is not None and project not in allowed):
                continue
            if not project.isascii():  # IGNORECASE lets some non-ASCII letters fold into A-Z
                continue
            seen.add(key)
            found.append(key)
    return found


class FilterModule:
    def filters(self):
        return {"issue_keys": issue_keys}
