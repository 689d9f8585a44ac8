# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small validation engine for JSON-like payloads: every problem reported at once, with its place.

Rules (``Str``, ``Int``, ``Num``, ``Bool``, ``List``, ``Obj``, ``AnyOf``, ``StringMap``) check one value each and
append ``path: problem`` strings, such as ``items[3].state: 'done' is not one of a, b``. It knows no payload of
its own: the rules of a given API are built from these parts elsewhere. Nothing here talks to the network.
"""
from __future__ import annotations

import datetime
import difflib
import functools
import re

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1
INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1

_INT_TEXT = re.compile(r"^[+-]?[0-9]+$")
_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)
# An absolute URL: a scheme, "://", a host, then anything without whitespace.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s?#]+(?:[/?#]\S*)?$")


class Problems(list):
    """The errors found; ``warnings`` holds what does not refuse the payload (fields the rules do not name).

    ``unknown`` ends the warning for such a field: what happens to it (it is kept as given).
    """

    def __init__(self, unknown="kept as given"):
        super().__init__()
        self.warnings = []
        self.unknown = unknown

    def merge(self, other):
        self.extend(other)
        self.warnings.extend(getattr(other, "warnings", ()))
        return self


def show(value):
    """A short, quoted rendering of a bad value for messages."""
    if isinstance(value, str):
        text = "'" + value + "'" if "'" not in value else repr(value)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, dict):
        text = "an object"
    elif isinstance(value, list):
        text = "a list"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- rules --------------------------------------------------------------------------------------------------------
# Each rule checks one value, appends "path: problem" strings to ``errors`` and returns the value to keep
# (integers written as digit strings, as environment variables are, come back as int). A value's path is its
# parent's path plus its field name or list index, joined only on a problem: a list or object hands its items
# the pair (its parent, its name) instead of its path. Building every path up front made validating 10,000
# payloads several times slower.

def _at(parent, name):
    if parent.__class__ is tuple:
        parent = _at(*parent)
    if name is None:
        return parent
    if isinstance(name, int):
        return f"{parent}[{name}]"
    return f"{parent}.{name}"


class Rule:
    """Any value is fine (a list of anything); the others narrow it."""

    def check(self, value, parent, name, errors):
        return value


class Str(Rule):
    """A string: one of ``enum``, or within ``max_length`` (cut to it when ``truncate``), matching ``pattern``, in
    format ``fmt`` (``date-time``: RFC 3339; ``url``: absolute)."""

    def __init__(self, max_length=None, pattern=None, pattern_text=None, enum=None, fmt=None, non_empty=False,
                 truncate=False):
        self.max_length = max_length
        self.pattern = pattern
        self.pattern_text = pattern_text or (pattern.pattern if pattern is not None else None)
        self.enum = tuple(enum) if enum else None
        self.enum_set = frozenset(enum) if enum else None
        self.fmt = fmt
        self.non_empty = non_empty
        self.truncate = truncate

    def required(self):
        """The same rule, for a required field: an empty string is not a value."""
        clone = Str(self.max_length, self.pattern, self.pattern_text, self.enum, self.fmt, True, self.truncate)
        return clone

    def check(self, value, parent, name, errors):
        if value.__class__ is not str and not isinstance(value, str):
            errors.append(f"{_at(parent, name)}: {show(value)} must be a string")
            return value
        if self.enum_set is not None:
            if value not in self.enum_set:
                errors.append(f"{_at(parent, name)}: {show(value)} is not one of {', '.join(self.enum)}")
            return value
        if not value:
            if self.non_empty:
                errors.append(f"{_at(parent, name)}: must not be empty")
            return value
        if self.max_length is not None and len(value) > self.max_length:
            if self.truncate:
                return value[:self.max_length]
            errors.append(f"{_at(parent, name)}: is {len(value)} characters long, the limit is {self.max_length}")
        if self.pattern is not None and not self.pattern.match(value):
            errors.append(f"{_at(parent, name)}: {show(value)} does not match {self.pattern_text}")
        if self.fmt == "date-time":
            problem = _date_time_problem(value)
            if problem:
                errors.append(f"{_at(parent, name)}: {show(value)} {problem}")
        elif self.fmt == "url":
            if _URL.match(value) is None:
                errors.append(f"{_at(parent, name)}: {show(value)} is not an absolute URL (for example "
                              "https://ci.example.com/job/1)")
        return value


@functools.lru_cache(maxsize=4096)  # entities of one task mostly share their timestamps
def _date_time_problem(value):
    match = _DATE_TIME.match(value)
    if not match:
        return "is not an RFC 3339 date-time (for example 2024-05-01T12:30:00Z)"
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        datetime.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError as exc:
        return f"is not a valid date-time ({exc})"
    if match.group(9) is not None and (int(match.group(9)) > 23 or int(match.group(10)) > 59):
        return "has an invalid UTC offset"
    return None


class Int(Rule):
    """An integer in range; digit strings and whole floats are taken (and kept as int), booleans are not."""

    def __init__(self, minimum=INT64_MIN, maximum=INT64_MAX, bits=64):
        self.minimum = minimum
        self.maximum = maximum
        self.bits = bits

    def check(self, value, parent, name, errors):
        if value.__class__ is not int:  # bool is an int subclass; the APIs do not take true for 1
            if isinstance(value, str) and _INT_TEXT.match(value.strip()):
                value = int(value.strip())
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                value = int(value)
            else:
                errors.append(f"{_at(parent, name)}: {show(value)} must be an integer")
                return value
        if value < self.minimum or value > self.maximum:
            if self.minimum in (INT64_MIN, INT32_MIN):
                errors.append(f"{_at(parent, name)}: {value} does not fit a {self.bits}-bit integer")
            else:
                errors.append(f"{_at(parent, name)}: {value} must be between {self.minimum} and {self.maximum}")
        return value


class Num(Rule):
    """A number in range (booleans are not numbers)."""

    def __init__(self, minimum=None, maximum=None):
        self.minimum = minimum
        self.maximum = maximum

    def check(self, value, parent, name, errors):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{_at(parent, name)}: {show(value)} must be a number")
            return value
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            errors.append(f"{_at(parent, name)}: {value} must be between {self.minimum} and {self.maximum}")
        return value


class Bool(Rule):
    """true or false, nothing that merely looks like one."""

    def check(self, value, parent, name, errors):
        if not isinstance(value, bool):
            errors.append(f"{_at(parent, name)}: {show(value)} must be true or false")
        return value


class List(Rule):
    """A list of ``items``, with a count between ``min_items`` and ``max_items``; ``unique`` strings."""

    def __init__(self, items, min_items=None, max_items=None, unique=False, noun="items"):
        self.items = items
        self.min_items = min_items
        self.max_items = max_items
        self.unique = unique
        self.noun = noun

    def check(self, value, parent, name, errors):
        if not isinstance(value, list):
            errors.append(f"{_at(parent, name)}: {show(value)} must be a list")
            return value
        count = len(value)
        if self.min_items is not None and count < self.min_items:
            errors.append(f"{_at(parent, name)}: needs at least {self.min_items} {self.noun}, got {count}")
        if self.max_items is not None and count > self.max_items:
            errors.append(f"{_at(parent, name)}: has {count} {self.noun}, the limit is {self.max_items}")
        check = self.items.check
        here = (parent, name)
        for index, item in enumerate(value):
            new = check(item, here, index, errors)
            if new is not item:
                value[index] = new
        if self.unique:
            seen = set()
            for item in value:
                if isinstance(item, str) and item in seen:
                    errors.append(f"{_at(parent, name)}: {show(item)} is listed more than once")
                seen.add(item if isinstance(item, str) else id(item))
        return value


class Obj(Rule):
    """A dict with known ``fields``, the ``required`` ones present and not null; ``extra`` spans fields."""

    def __init__(self, fields, required=(), extra=None):
        self.required_names = tuple(required)
        self.required_set = frozenset(required)
        self.fields = {}
        for name, rule in fields.items():
            if name in self.required_names and isinstance(rule, Str):
                rule = rule.required()
            self.fields[name] = rule
        # Bound once: 10,000 builds are 50,000 objects to check.
        self.checks = {name: rule.check for name, rule in self.fields.items()}
        self.extra = extra  # callable(value, path, errors) for rules that span fields

    def check(self, value, parent, name, errors):
        if value.__class__ is not dict and not isinstance(value, dict):
            errors.append(f"{_at(parent, name)}: {show(value)} must be an object (a dict)")
            return value
        checks = self.checks
        here = (parent, name)
        if not self.required_set.issubset(value.keys()):
            for field in self.required_names:
                if field not in value:
                    errors.append(f"{_at(here, field)}: is required")
        for field, item in value.items():
            check = checks.get(field)
            if item is None:
                if field in self.required_set:
                    errors.append(f"{_at(here, field)}: is required")
                continue  # an optional null is the same as leaving the field out
            if check is None:
                # Services accept fields before their published rules list them: a warning, so that a typo still
                # shows but nothing is blocked.
                close = difflib.get_close_matches(str(field), list(checks), n=1)
                nearest = close or difflib.get_close_matches(str(field), list(checks), n=1, cutoff=0)
                known = (f" (did you mean {close[0]}?)" if close
                         else f" (closest known field: {nearest[0]})" if nearest else "")
                getattr(errors, "warnings", errors).append(
                    f"{_at(here, field)}: unknown field, {getattr(errors, 'unknown', 'kept as given')}{known}")
                continue
            new = check(item, here, field, errors)
            if new is not item:
                value[field] = new
        if self.extra is not None:
            self.extra(value, _at(parent, name), errors)
        return value

    def subset(self, paths, also=None):
        """This rule cut down to the fields at ``paths`` (tuples of field names), each required, in this rule's
        order; ``also``: optional fields beside them. A payload that names things by these fields only (a
        delete by key) is checked with the same field rules as a whole one."""
        wanted = {}
        for path in paths:
            wanted.setdefault(path[0], []).append(tuple(path[1:]))
        fields, required = {}, []
        for name, rule in self.fields.items():
            if name in wanted:
                deeper = [rest for rest in wanted.pop(name) if rest]
                fields[name] = rule.subset(deeper) if deeper else rule
                required.append(name)
        if wanted:
            raise ValueError(f"no rule for {', '.join(wanted)}")
        fields.update(also or {})
        return Obj(fields, required=required)


class AnyOf(Rule):
    """``choose(value)`` picks the rule that checks the value (a value whose shape depends on a type field)."""

    def __init__(self, choose):
        self.choose = choose

    def check(self, value, parent, name, errors):
        rule = self.choose(value)
        return rule.check(value, parent, name, errors)


class StringMap(Rule):
    """A dict of at most ``max_items`` strings (numbers are taken as text); keys must not start with
    ``no_prefix`` nor contain any of ``no_chars``; keys and values at most ``max_length`` characters."""

    def __init__(self, max_items, max_length, no_prefix="", no_chars=""):
        self.max_items = max_items
        self.max_length = max_length
        self.no_prefix = no_prefix
        self.no_chars = no_chars

    def check(self, value, parent, name, errors):
        path = _at(parent, name)
        if not isinstance(value, dict):
            errors.append(f"{path}: {show(value)} must be a dict of strings")
            return value
        if len(value) > self.max_items:
            errors.append(f"{path}: has {len(value)} entries, the limit is {self.max_items}")
        for key in list(value):
            item = value[key]
            where = f"{path}.{key}"
            if not isinstance(key, str) or not key:
                errors.append(f"{path}: keys must be non-empty strings")
                continue
            if self.no_prefix and key.startswith(self.no_prefix):
                errors.append(f"{where}: keys must not start with '{self.no_prefix}'")
            for char in self.no_chars:
                if char in key:
                    errors.append(f"{where}: keys must not contain '{char}'")
            if len(key) > self.max_length:
                errors.append(f"{where}: the key is {len(key)} characters long, the limit is {self.max_length}")
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = value[key] = str(item)
            if not isinstance(item, str):
                errors.append(f"{where}: {show(item)} must be a string")
            elif len(item) > self.max_length:
                errors.append(f"{where}: the value is {len(item)} characters long, the limit is {self.max_length}")
        return value


# -- lists of payloads ---------------------------------------------------------------------------------------------
def check_items(rule, items, name, key=None, unknown="kept as given"):
    """Check every item of the list ``items`` (called ``name`` in messages) against ``rule``; all problems found.

    Values a rule converts (digit strings in integer fields) are replaced in place; nothing else is changed.
    ``key(item)``: a tuple that must not repeat, checked once every item is valid.
    """
    errors = Problems(unknown)
    check = rule.check
    for index, item in enumerate(items):
        new = check(item, name, index, errors)
        if new is not item:
            items[index] = new
    if key is not None and not errors:
        duplicates(items, name, key, errors)
    return errors


def duplicates(items, name, key, errors):
    """An error for each item whose ``key(item)`` an earlier one has."""
    seen = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        try:
            ident = key(item)
        except (KeyError, TypeError, AttributeError):
            continue
        if ident in seen:
            errors.append(f"{name}[{index}]: same key as {name}[{seen[ident]}] ({', '.join(map(str, ident))}); "
                          "send each entity once")
        else:
            seen[ident] = index
