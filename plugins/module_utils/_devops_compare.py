# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether Jira already stores what a DevOps task would send (``skip_unchanged``).

Jira accepts a re-sent entity and reports it accepted, so a module cannot tell from the reply whether anything
changed; it has to read the entity by key first and compare. The comparison is made to err towards sending: any
doubt counts as a difference, and a needless send only costs a request.

- Fields the module or Jira fill on every run are not compared, at any depth: ``updateSequenceNumber``,
  ``updateSequenceId``, ``lastUpdated`` and ``schemaVersion`` (the module fills them with the current time and
  ``1.0``; Jira adds ``schemaVersion`` when it was not sent), and a deployment's ``commands`` (an instruction to
  Jira, such as starting gating, not part of what it stores).
- Lists of plain values (issue keys, association values) are compared in any order; lists of objects in order.
- Date-times are compared as instants (``...Z`` and ``...+00:00``, with or without milliseconds); a number and
  its text (``42`` and ``"42"``) are the same.
- A field Jira has that would not be sent is a difference (sending would remove it), unless it is empty.
"""
from __future__ import annotations

import re
from datetime import datetime

IGNORED = frozenset(("updateSequenceNumber", "updateSequenceId", "lastUpdated", "schemaVersion"))
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def _instant(text):
    if not isinstance(text, str) or not _DATE_TIME.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _empty(value):
    return value is None or value == [] or value == {} or value == ""


def _scalar_key(value):
    """A value in a form where equal meanings compare equal; used to sort and compare lists of plain values."""
    instant = _instant(value)
    if instant is not None:
        return ("t", instant.timestamp())
    if isinstance(value, bool) or value is None:
        return ("v", repr(value))
    if isinstance(value, (int, float, str)):
        return ("s", str(value))
    return ("v", repr(value))


def same(sent, stored, ignored=IGNORED):
    """True when ``stored`` (Jira's reply to a read by key) holds ``sent`` under the rules above."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return False
        for name, value in sent.items():
            if name in ignored:
                continue
            if name not in stored:
                if _empty(value):
                    continue
                return False
            if not same(value, stored[name], ignored):
                return False
        return all(name in sent or name in ignored or _empty(value) for name, value in stored.items())
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(sent) != len(stored):
            return False
        if all(not isinstance(v, (dict, list)) for v in sent + stored):
            return sorted(map(_scalar_key, sent)) == sorted(map(_scalar_key, stored))
        return all(same(a, b, ignored) for a, b in zip(sent, stored))
    if isinstance(stored, (dict, list)):
        return False
    return _scalar_key(sent) == _scalar_key(stored)
