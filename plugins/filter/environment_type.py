# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment_type filter; its documentation is in environment_type.yml.

Jira files a deployment under one of five environment types; CI systems only know the environment's name."""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

TYPES = ("development", "testing", "staging", "production", "unmapped")
# Checked in this order, each pattern a whole word of the name, digits allowed after it ("eu-prod-2", "uat1",
# "preprod"), so that "pre-prod" is staging before "prod" can make it production, and "product-demo" is no
# production.
DEFAULT_PATTERNS = (
    ("staging", ("stag(?:e|ing)?", "stg", "pre-?prod(?:uction)?", "uat")),
    ("production", ("prod(?:uction)?", "prd", "live")),
    ("testing", ("tests?", "testing", "qa")),
    ("development", ("dev(?:el(?:op(?:ment)?)?)?",)),
)
_WORD = r"(?<![a-z])(?:{})(?![a-z])"


def _compile(patterns):
    """User patterns: {type: [regex, ...]} (or a list of {type, patterns}), checked before the defaults."""
    if patterns in (None, {}, []):
        return []
    items = patterns.items() if isinstance(patterns, dict) else None
    if items is None:
        raise AnsibleFilterError("environment_type: patterns must be a dict of Jira environment type -> list of "
                                 f"regular expressions, not {type(patterns).__name__}")
    out = []
    for kind, regexes in items:
        if kind not in TYPES:
            raise AnsibleFilterError(f"environment_type: patterns key {kind!r} is not one of {', '.join(TYPES)}")
        regexes = [regexes] if isinstance(regexes, str) else regexes
        if not isinstance(regexes, (list, tuple)):
            raise AnsibleFilterError(f"environment_type: patterns[{kind}] must be a list of regular expressions")
        for index, regex in enumerate(regexes):
            try:
                out.append((kind, re.compile(str(regex), re.IGNORECASE)))
            except re.error as exc:
                raise AnsibleFilterError(f"environment_type: patterns[{kind}][{index}] {regex!r} is not a regular "
                                         f"expression: {exc}") from None
    return out


_DEFAULTS = [(kind, re.compile(_WORD.format("|".join(words)), re.IGNORECASE))
             for kind, words in DEFAULT_PATTERNS]


def environment_type(name, patterns=None, defaults=True):
    """Jira's environment type for an environment name: the first pattern that matches, else unmapped."""
    if not isinstance(name, str):
        raise AnsibleFilterError(f"environment_type: the environment name must be a string, not {type(name).__name__}")
    rules = _compile(patterns) + (_DEFAULTS if defaults else [])
    for kind, regex in rules:
        if regex.search(name):
            return kind
    return "unmapped"


class FilterModule:
    def filters(self):
        return {"environment_type": environment_type}
