# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The junit_test_info filter; its documentation is in junit_test_info.yml.

Reports come from the build being reported, so they are untrusted: a DOCTYPE (the door to entity expansion and
external entities) is refused before parsing, and xml.etree never fetches anything."""
from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET

from ansible.errors import AnsibleFilterError

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _documents(value):
    """(name, bytes) per report: slurp results (base64 content + source), or plain XML strings."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for index, item in enumerate(items):
        if isinstance(item, dict):
            name = item.get("source") or item.get("path") or f"report {index}"
            content = item.get("content", "")
            if item.get("encoding") == "base64":
                try:
                    content = base64.b64decode(content, validate=True)
                except (binascii.Error, ValueError, TypeError):
                    raise AnsibleFilterError(f"junit_test_info: {name}: content is not base64") from None
        elif isinstance(item, (str, bytes)):
            name, content = f"report {index}", item
        else:
            raise AnsibleFilterError(f"junit_test_info: item {index} must be XML text or a slurp result, "
                                     f"not {type(item).__name__}")
        yield name, content.encode("utf-8") if isinstance(content, str) else bytes(content)


def _count(root, name):
    cases = list(root.iter("testcase"))
    if not cases and root.tag not in ("testsuites", "testsuite"):
        raise AnsibleFilterError(f"junit_test_info: {name}: not a JUnit report (root element <{root.tag}>)")
    failed = skipped = 0
    for case in cases:
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            failed += 1
        elif "skipped" in tags:
            skipped += 1
    return len(cases), failed, skipped


def junit_test_info(value):
    """Jira's testInfo (totalNumber, numberPassed, numberFailed, numberSkipped) summed over JUnit reports."""
    total = failed = skipped = 0
    for name, data in _documents(value):
        if _DOCTYPE.search(data):
            raise AnsibleFilterError(f"junit_test_info: {name}: has a DOCTYPE or ENTITY declaration; JUnit reports "
                                     "need none, and it is refused so that no entity is expanded or fetched")
        try:
            root = ET.fromstring(data)
        except ET.ParseError as exc:
            raise AnsibleFilterError(f"junit_test_info: {name}: not well-formed XML ({exc})") from None
        t, f, s = _count(root, name)
        total, failed, skipped = total + t, failed + f, skipped + s
    return {"totalNumber": total, "numberPassed": total - failed - skipped, "numberFailed": failed,
            "numberSkipped": skipped}


class FilterModule:
    def filters(self):
        return {"junit_test_info": junit_test_info}
