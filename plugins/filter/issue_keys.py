# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: issue_keys
short_description: Extract Jira issue keys from branch names, commit messages and titles
version_added: 0.1.0
author: jiraops maintainers
description:
  - Finds Jira issue keys (C(PROJECT-123)) in a string or a list of strings (nested lists are walked), and returns
    them in the order they first appear, each once.
  - A key is a project key (an upper-case letter, then upper-case letters, digits or C(_), at least two characters
    in all), a dash and an issue number without leading zeros. It must not touch a letter or digit on either side,
    so C(feature/JJ-12-pink-logo), C(JJ-12_pink), C([JJ-12]) and C(https://jira.example.com/browse/JJ-12) all give
    C(JJ-12), while C(XJJ-12a) gives nothing.
  - Keys inside URLs are found like any other text, since a link to an issue names it.
  - Text may be any Unicode (commit messages in any language); a key touching a non-ASCII letter (C(ÄJJ-12)) is not
    a key. Byte strings are decoded as UTF-8.
  - Words that look like keys but never are (C(UTF-8), C(ISO-8859), C(SHA-256), ...) are left out by default,
    see O(exclude); a project allow-list (O(projects)) is the surest way to keep such words out.
options:
  _input:
    description: A string, or a list of strings (and of lists of strings). C(None) gives an empty list.
    type: raw
    required: true
  projects:
    description:
      - Only keep keys of these projects (for example V([JJ, OPS])). Compared in upper case.
    type: list
    elements: str
  ignore_case:
    description:
      - Also find keys written in lower or mixed case, as in branch names like C(feature/jj-12-pink-logo), and
        return them upper-cased. Off by default because Jira's own smart commits and branch linking only see
        upper-case keys, and lower-case words such as C(utf-8) or C(covid-19) would otherwise become keys.
    type: bool
    default: false
  exclude:
    description:
      - Keys never returned. The default lists encodings and algorithms that look like keys. Give V([]) to keep
        everything.
    type: list
    elements: str
    default: [UTF-8, UTF-16, UTF-32, ISO-8859, ISO-2022, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, MD-5,
              AES-128, AES-192, AES-256, RSA-2048, RSA-4096, TLS-1, X-509, WIN-1252, CP-1252]
"""

EXAMPLES = r"""
- name: Keys from the branch name
  ansible.builtin.debug:
    msg: "{{ 'feature/JJ-12-pink-logo' | jiraops.integration.issue_keys }}"   # ['JJ-12']

- name: Keys from the branch and the commit messages, JJ and OPS only
  ansible.builtin.set_fact:
    keys: "{{ [branch] + commit_messages | jiraops.integration.issue_keys(projects=['JJ', 'OPS']) }}"

- name: Lower-case branch names
  ansible.builtin.debug:
    msg: "{{ 'bugfix/jj-7-typo' | jiraops.integration.issue_keys(ignore_case=true) }}"   # ['JJ-7']
"""

RETURN = r"""
_value:
  description: The issue keys, in order of first appearance, without duplicates.
  type: list
  elements: str
"""

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

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


def issue_keys(value, projects=None, ignore_case=False, exclude=DEFAULT_EXCLUDE):
    """Jira issue keys found in ``value``, in order, each once."""
    if projects is not None and not isinstance(projects, (list, tuple)):
        projects = [projects]
    allowed = {str(p).upper() for p in projects} if projects else None
    excluded = {str(e).upper() for e in (exclude or ())}
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
