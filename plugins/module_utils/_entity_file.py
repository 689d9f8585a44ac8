# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DevOps modules' ``src``: entities read from a file on the host that runs the module.

Thousands of entities passed as a module argument are encoded into the module's payload and parsed again; a
file path is a few bytes, and the module reads the file itself.
"""
from __future__ import annotations

import json

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._io import read_regular_file

OPTION = "src"
# Far above _io's 4 MB for keys and stores: 10,000 builds are about 5 MB, a backfill of a large history can be
# hundreds of MB.
MAX_SIZE = 256 * 1024 * 1024
SPEC = {OPTION: {"type": "path"}}


def module_constraints(kind):
    """The AnsibleModule arguments that make ``src`` and the inline list ``kind`` exclusive, one needed when present."""
    return {"mutually_exclusive": [(kind, OPTION)],
            "required_if": [("state", "present", (kind, OPTION), True)]}


def entities(params, kind, inline):
    """The entities of a run: from ``src`` when given, else ``inline(value, kind)`` of the inline list."""
    path = params.get(OPTION)
    if path is None:
        return inline(params.get(kind), kind)
    if params.get("state") == "absent" and params.get("properties"):
        raise OptionError(OPTION, "with state=absent give either src (delete by key) or properties (delete "
                                  "everything tagged with them), not both")
    return read(path)


def read(path):
    """A JSON array of objects, or NDJSON (one object per line); every problem names ``src`` and where it is."""
    data = read_regular_file(path, OPTION, limit=MAX_SIZE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OptionError(OPTION, f"{path} is not UTF-8 text (byte {exc.start})") from None
    if text.lstrip()[:1] == "[":
        return _array(path, text)
    return _lines(path, text)


def _array(path, text):
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise OptionError(OPTION, f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise OptionError(OPTION, f"{path} item {index}: a JSON array of objects is expected, this is "
                                      f"{_type(item)}")
    return value


def _lines(path, text):
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise OptionError(OPTION, f"{path} line {number}: not valid JSON ({exc.msg}); give a JSON array or "
                                      "NDJSON, one object per line") from None
        if not isinstance(item, dict):
            raise OptionError(OPTION, f"{path} line {number}: an object is expected, this is {_type(item)}")
        out.append(item)
    return out


def _type(value):
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")
