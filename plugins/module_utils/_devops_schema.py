# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The payload rules of Jira Software Cloud's builds, deployments, development information and feature flags APIs.

Written from the rules of Atlassian's published OpenAPI document (required fields, types, enums, lengths, counts,
patterns, formats), checked here before anything is sent so that every problem is reported at once with its place:
``builds[3].state: 'done' is not one of pending, in_progress, successful, failed, cancelled, unknown``.

Also the friendly defaults (sequence numbers from the clock, ``lastUpdated`` now, ``schemaVersion`` 1.0), since
they are part of shaping a payload. Nothing here talks to the network.
"""
from __future__ import annotations

import datetime
import difflib
import functools
import re
import time

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1
INT32_MIN = -(2 ** 31)
INT32_MAX = 2 ** 31 - 1

_INT_TEXT = re.compile(r"^[+-]?[0-9]+$")
_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)
# Builds, deployments and feature flags: ^\w{1,255}-\d{1,255}$ (Java regex, so \w and \d are ASCII).
ISSUE_KEY = re.compile(r"^\w{1,255}-\d{1,255}$", re.ASCII)
# Deployment associations of type issueKeys / issueIdOrKeys accept an issue key or a numeric issue id.
ISSUE_ID_OR_KEY = re.compile(r"^(?:\w{1,255}-\d{1,255}|\d{1,255})$", re.ASCII)
# Development information: ^\p{L}[\p{L}\p{Digit}_]{1,255}-\p{Digit}{1,255}$ (letters may be any script).
DEVINFO_ISSUE_KEY = re.compile(r"^[^\W\d_](?:[^\W\d]|[0-9]){1,255}-[0-9]{1,255}$")
# Development information entity ids: "Only alphanumeric characters, and '~.-_', are allowed".
ENTITY_ID = re.compile(r"^[A-Za-z0-9~._-]+$")
# An absolute URL: a scheme, "://", a host, then anything without whitespace.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s?#]+(?:[/?#]\S*)?$")

MISSING = object()


class Problems(list):
    """The errors found; ``warnings`` holds what does not stop a submission (fields the spec copy lacks)."""

    def __init__(self):
        super().__init__()
        self.warnings = []

    def merge(self, other):
        self.extend(other)
        self.warnings.extend(getattr(other, "warnings", ()))
        return self


def _show(value):
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


def now_ms():
    return int(time.time() * 1000)


def now_iso(ms=None):
    """RFC 3339 UTC timestamp with milliseconds, as the APIs show them."""
    ms = now_ms() if ms is None else ms
    stamp = datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# -- rules --------------------------------------------------------------------------------------------------------
# Each rule checks one value, appends "path: problem" strings to ``errors`` and returns the value to keep
# (integers written as digit strings, as environment variables are, come back as int). A value's path is its
# parent's path plus its field name or list index, joined only when needed: on a problem, or to descend into a
# list or object. Building every path up front made validating 10,000 builds several times slower.

def _at(parent, name):
    if name is None:
        return parent
    if isinstance(name, int):
        return f"{parent}[{name}]"
    return f"{parent}.{name}"


class Rule:
    kind = "value"

    def check(self, value, parent, name, errors):
        return value


class Str(Rule):
    kind = "string"

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
            errors.append(f"{_at(parent, name)}: {_show(value)} must be a string")
            return value
        if self.enum_set is not None:
            if value not in self.enum_set:
                errors.append(f"{_at(parent, name)}: {_show(value)} is not one of {', '.join(self.enum)}")
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
            errors.append(f"{_at(parent, name)}: {_show(value)} does not match {self.pattern_text}")
        if self.fmt == "date-time":
            problem = _date_time_problem(value)
            if problem:
                errors.append(f"{_at(parent, name)}: {_show(value)} {problem}")
        elif self.fmt == "url":
            if _URL.match(value) is None:
                errors.append(f"{_at(parent, name)}: {_show(value)} is not an absolute URL (for example "
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
    kind = "integer"

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
                errors.append(f"{_at(parent, name)}: {_show(value)} must be an integer")
                return value
        if value < self.minimum or value > self.maximum:
            if self.minimum in (INT64_MIN, INT32_MIN):
                errors.append(f"{_at(parent, name)}: {value} does not fit a {self.bits}-bit integer")
            else:
                errors.append(f"{_at(parent, name)}: {value} must be between {self.minimum} and {self.maximum}")
        return value


class Num(Rule):
    kind = "number"

    def __init__(self, minimum=None, maximum=None):
        self.minimum = minimum
        self.maximum = maximum

    def check(self, value, parent, name, errors):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{_at(parent, name)}: {_show(value)} must be a number")
            return value
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            errors.append(f"{_at(parent, name)}: {value} must be between {self.minimum} and {self.maximum}")
        return value


class Bool(Rule):
    kind = "boolean"

    def check(self, value, parent, name, errors):
        if not isinstance(value, bool):
            errors.append(f"{_at(parent, name)}: {_show(value)} must be true or false")
        return value


class List(Rule):
    kind = "list"

    def __init__(self, items, min_items=None, max_items=None, unique=False, noun="items"):
        self.items = items
        self.min_items = min_items
        self.max_items = max_items
        self.unique = unique
        self.noun = noun

    def check(self, value, parent, name, errors):
        path = _at(parent, name)
        if not isinstance(value, list):
            errors.append(f"{path}: {_show(value)} must be a list")
            return value
        count = len(value)
        if self.min_items is not None and count < self.min_items:
            errors.append(f"{path}: needs at least {self.min_items} {self.noun}, got {count}")
        if self.max_items is not None and count > self.max_items:
            errors.append(f"{path}: has {count} {self.noun}, the limit is {self.max_items}")
        check = self.items.check
        for index, item in enumerate(value):
            new = check(item, path, index, errors)
            if new is not item:
                value[index] = new
        if self.unique:
            seen = set()
            for item in value:
                if isinstance(item, str) and item in seen:
                    errors.append(f"{path}: {_show(item)} is listed more than once")
                seen.add(item if isinstance(item, str) else id(item))
        return value


class Obj(Rule):
    kind = "object"

    def __init__(self, fields, required=(), extra=None):
        self.required_names = tuple(required)
        self.required_set = frozenset(required)
        self.fields = {}
        for name, rule in fields.items():
            if name in self.required_names and isinstance(rule, Str):
                rule = rule.required()
            self.fields[name] = rule
        self.extra = extra  # callable(value, path, errors) for rules that span fields

    def check(self, value, parent, name, errors):
        path = _at(parent, name)
        if not isinstance(value, dict):
            errors.append(f"{path}: {_show(value)} must be an object (a dict)")
            return value
        fields = self.fields
        if not self.required_set.issubset(value.keys()):
            for field in self.required_names:
                if field not in value:
                    errors.append(f"{path}.{field}: is required")
        for field, item in value.items():
            rule = fields.get(field)
            if item is None:
                if field in self.required_set:
                    errors.append(f"{path}.{field}: is required")
                continue  # an optional null is the same as leaving the field out
            if rule is None:
                # Atlassian adds fields before the published spec has them (deployments' triggeredBy), and Jira
                # takes fields it does not know: a warning, so that a typo still shows but nothing is blocked.
                close = difflib.get_close_matches(str(field), list(fields), n=1)
                nearest = close or difflib.get_close_matches(str(field), list(fields), n=1, cutoff=0)
                known = (f" (did you mean {close[0]}?)" if close
                         else f" (closest known field: {nearest[0]})" if nearest else "")
                getattr(errors, "warnings", errors).append(
                    f"{path}.{field}: unknown field, sent to Jira as given{known}")
                continue
            new = rule.check(item, path, field, errors)
            if new is not item:
                value[field] = new
        if self.extra is not None:
            self.extra(value, path, errors)
        return value


class AnyOf(Rule):
    """The first rule whose ``selector`` accepts the value decides (used for deployment associations)."""

    def __init__(self, choose):
        self.choose = choose

    def check(self, value, parent, name, errors):
        rule = self.choose(value)
        return rule.check(value, parent, name, errors)


class Properties(Rule):
    """``properties``: at most 5 string pairs; keys must not start with '_' or contain ':'."""

    def __init__(self, max_items=5, max_length=255):
        self.max_items = max_items
        self.max_length = max_length

    def check(self, value, parent, name, errors):
        path = _at(parent, name)
        if not isinstance(value, dict):
            errors.append(f"{path}: {_show(value)} must be a dict of strings")
            return value
        if len(value) > self.max_items:
            errors.append(f"{path}: has {len(value)} entries, the limit is {self.max_items}")
        for key in list(value):
            item = value[key]
            where = f"{path}.{key}"
            if not isinstance(key, str) or not key:
                errors.append(f"{path}: keys must be non-empty strings")
                continue
            if key.startswith("_"):
                errors.append(f"{where}: keys must not start with '_'")
            if ":" in key:
                errors.append(f"{where}: keys must not contain ':'")
            if len(key) > self.max_length:
                errors.append(f"{where}: the key is {len(key)} characters long, the limit is {self.max_length}")
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = value[key] = str(item)
            if not isinstance(item, str):
                errors.append(f"{where}: {_show(item)} must be a string")
            elif len(item) > self.max_length:
                errors.append(f"{where}: the value is {len(item)} characters long, the limit is {self.max_length}")
        return value


# -- building blocks ------------------------------------------------------------------------------------------------
def _s(n=None, **kw):
    return Str(max_length=n, **kw)


INT64 = Int()
INT32_NON_NEGATIVE = Int(minimum=0, maximum=INT32_MAX, bits=32)
INT32 = Int(minimum=INT32_MIN, maximum=INT32_MAX, bits=32)
DATE_TIME = Str(fmt="date-time")
URL = Str(max_length=2000, fmt="url")
SCHEMA_VERSION = Str(enum=["1.0"])
ISSUE_KEYS_100 = List(Str(pattern=ISSUE_KEY), 1, 100, noun="issue keys")
PROVIDER_METADATA = Obj({"product": _s()})
PROPERTIES = Properties()

BUILD_STATES = ("pending", "in_progress", "successful", "failed", "cancelled", "unknown")
DEPLOYMENT_STATES = ("unknown", "pending", "in_progress", "cancelled", "failed", "rolled_back", "successful")
ENVIRONMENT_TYPES = ("unmapped", "development", "testing", "staging", "production")
FLAG_ENVIRONMENT_TYPES = ("development", "testing", "staging", "production")
PULL_REQUEST_STATES = ("OPEN", "MERGED", "DECLINED", "UNKNOWN")
FILE_CHANGE_TYPES = ("ADDED", "COPIED", "DELETED", "MODIFIED", "MOVED", "UNKNOWN")
ASSOCIATION_TYPES = ("issueKeys", "issueIdOrKeys", "serviceIdOrKeys", "commit", "repository")
MAX_ASSOCIATION_VALUES = 500

# -- builds ----------------------------------------------------------------------------------------------------------
BUILD = Obj(
    {
        "schemaVersion": SCHEMA_VERSION,
        "pipelineId": _s(255),
        "buildNumber": INT64,
        "updateSequenceNumber": INT64,
        "displayName": _s(255),
        "description": _s(255),
        "label": _s(255),
        "url": URL,
        "state": Str(enum=BUILD_STATES),
        "lastUpdated": DATE_TIME,
        "issueKeys": ISSUE_KEYS_100,
        "testInfo": Obj(
            {"totalNumber": INT64, "numberPassed": INT64, "numberFailed": INT64, "numberSkipped": INT64},
            required=("totalNumber", "numberPassed", "numberFailed"),
        ),
        "references": List(
            Obj({
                "commit": Obj({"id": _s(255), "repositoryUri": _s(2000)}, required=("id", "repositoryUri")),
                "ref": Obj({"name": _s(255), "uri": _s(2000)}, required=("name", "uri")),
            }),
            1, 5, noun="references",
        ),
    },
    required=("pipelineId", "buildNumber", "updateSequenceNumber", "displayName", "url", "state", "lastUpdated",
              "issueKeys"),
)
BUILD_KEY = Obj({"pipelineId": _s(255), "buildNumber": INT64}, required=("pipelineId", "buildNumber"))


# -- deployments -----------------------------------------------------------------------------------------------------
def _association_values_rule(kind):
    if kind in ("issueKeys", "issueIdOrKeys"):
        item = Str(pattern=ISSUE_ID_OR_KEY, non_empty=True, pattern_text="an issue key (JJ-12) or a numeric issue id")
    elif kind == "serviceIdOrKeys":
        item = Str(max_length=255, non_empty=True)
    elif kind == "commit":
        item = Obj({"commitHash": _s(255), "repositoryId": _s(255)}, required=("commitHash", "repositoryId"))
    else:
        item = Obj({"repositoryId": _s(255)}, required=("repositoryId",))
    return Obj({"associationType": Str(enum=ASSOCIATION_TYPES),
                "values": List(item, 1, MAX_ASSOCIATION_VALUES, noun="values")},
               required=("associationType", "values"))


_ASSOCIATION_RULES = {kind: _association_values_rule(kind) for kind in ASSOCIATION_TYPES}
_ASSOCIATION_FALLBACK = Obj({"associationType": Str(enum=ASSOCIATION_TYPES), "values": List(Rule(), 1)},
                            required=("associationType", "values"))


def _choose_association(value):
    if isinstance(value, dict) and value.get("associationType") in _ASSOCIATION_RULES:
        return _ASSOCIATION_RULES[value["associationType"]]
    return _ASSOCIATION_FALLBACK


def _deployment_extra(value, path, errors):
    associations = value.get("associations")
    if value.get("issueKeys") is None and associations is None:
        errors.append(f"{path}: give associations (preferred) or issueKeys; one of them is required")
    if isinstance(associations, list):
        total = sum(len(a["values"]) for a in associations if isinstance(a, dict) and isinstance(a.get("values"), list))
        if total > MAX_ASSOCIATION_VALUES:
            errors.append(f"{path}.associations: has {total} values in total, the limit is {MAX_ASSOCIATION_VALUES}")
        kinds = {a.get("associationType") for a in associations if isinstance(a, dict)}
        if associations and not kinds & {"issueKeys", "issueIdOrKeys", "serviceIdOrKeys"}:
            errors.append(f"{path}.associations: needs at least one association of type issueIdOrKeys, issueKeys "
                          "or serviceIdOrKeys")


DEPLOYMENT = Obj(
    {
        "deploymentSequenceNumber": INT64,
        "updateSequenceNumber": INT64,
        "issueKeys": ISSUE_KEYS_100,
        "associations": List(AnyOf(_choose_association), 1, 3, noun="associations"),
        "displayName": _s(255),
        "url": URL,
        "description": _s(255),
        "lastUpdated": DATE_TIME,
        "label": _s(255),
        "duration": INT64,
        "state": Str(enum=DEPLOYMENT_STATES),
        "pipeline": Obj({"id": _s(255), "displayName": _s(255), "url": URL}, required=("id", "displayName", "url")),
        "environment": Obj({"id": _s(255), "displayName": _s(255), "type": Str(enum=ENVIRONMENT_TYPES)},
                           required=("id", "displayName", "type")),
        "commands": List(Obj({"command": _s()}, required=("command",)), noun="commands"),
        "schemaVersion": SCHEMA_VERSION,
    },
    required=("deploymentSequenceNumber", "updateSequenceNumber", "displayName", "url", "description",
              "lastUpdated", "state", "pipeline", "environment"),
    extra=_deployment_extra,
)
DEPLOYMENT_KEY = Obj(
    {"deploymentSequenceNumber": INT64, "pipeline": Obj({"id": _s(255)}, required=("id",)),
     "environment": Obj({"id": _s(255)}, required=("id",))},
    required=("deploymentSequenceNumber", "pipeline", "environment"),
)

# -- development information -----------------------------------------------------------------------------------------
_ENTITY_ID = Str(max_length=1024, pattern=ENTITY_ID, pattern_text="letters, digits and ~ . - _ only")
_DEVINFO_KEYS = List(Str(pattern=DEVINFO_ISSUE_KEY, pattern_text="an issue key such as JJ-12"), 1, 500,
                     noun="issue keys")
AUTHOR = Obj({"name": _s(255), "email": _s(255), "username": _s(255), "url": _s(2000), "avatar": _s(2000)})
FILE = Obj(
    {"path": _s(1024), "url": URL, "changeType": Str(enum=FILE_CHANGE_TYPES), "linesAdded": INT32_NON_NEGATIVE,
     "linesRemoved": INT32_NON_NEGATIVE},
    required=("path", "url", "changeType", "linesAdded", "linesRemoved"),
)
COMMIT = Obj(
    {
        "id": _ENTITY_ID,
        "issueKeys": _DEVINFO_KEYS,
        "updateSequenceId": INT64,
        "hash": _s(255),
        "flags": List(Str(enum=["MERGE_COMMIT"]), unique=True, noun="flags"),
        # Jira truncates longer messages to 1024 characters; do the same instead of refusing the commit.
        "message": Str(max_length=1024, truncate=True),
        "author": AUTHOR,
        "fileCount": INT32_NON_NEGATIVE,
        "url": URL,
        "files": List(FILE, max_items=10, noun="files"),
        "authorTimestamp": DATE_TIME,
        "displayId": _s(255),
    },
    required=("id", "issueKeys", "updateSequenceId", "message", "author", "fileCount", "url", "authorTimestamp",
              "displayId"),
)
BRANCH = Obj(
    {"id": _ENTITY_ID, "issueKeys": _DEVINFO_KEYS, "updateSequenceId": INT64, "name": _s(512), "lastCommit": COMMIT,
     "createPullRequestUrl": _s(2000), "url": _s(2000)},
    required=("id", "issueKeys", "updateSequenceId", "name", "lastCommit", "url"),
)
REVIEWER = Obj({"name": _s(255), "approvalStatus": Str(enum=["APPROVED", "UNAPPROVED"]), "url": URL, "avatar": URL,
                "email": _s(254), "accountId": _s(128)})
PULL_REQUEST = Obj(
    {
        "id": _ENTITY_ID,
        "issueKeys": _DEVINFO_KEYS,
        "updateSequenceId": INT64,
        "status": Str(enum=PULL_REQUEST_STATES),
        "title": _s(1024),
        "author": AUTHOR,
        "commentCount": INT32,
        "sourceBranch": _s(255),
        "sourceBranchUrl": URL,
        "lastUpdate": DATE_TIME,
        "destinationBranch": _s(255),
        "destinationBranchUrl": URL,
        "reviewers": List(REVIEWER, noun="reviewers"),
        "url": URL,
        "displayId": _s(255),
    },
    required=("id", "issueKeys", "updateSequenceId", "status", "title", "author", "commentCount", "sourceBranch",
              "lastUpdate", "url", "displayId"),
)
DEVINFO_ENTITY_TYPES = ("commits", "branches", "pullRequests")


def _repository_extra(value, path, errors):
    # "Must not contain duplicate entity IDs" within one entity type of one repository.
    for kind in DEVINFO_ENTITY_TYPES:
        items = value.get(kind)
        if not isinstance(items, list):
            continue
        seen = set()
        for index, item in enumerate(items):
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, str) and ident in seen:
                errors.append(f"{path}.{kind}[{index}].id: {_show(ident)} is listed more than once in this repository")
            seen.add(ident)


# No per-repository limit on the entity lists here: longer lists are split into several requests.
REPOSITORY = Obj(
    {
        "name": _s(255),
        "description": _s(1024),
        "forkOf": _s(1024),
        "url": URL,
        "commits": List(COMMIT, noun="commits"),
        "branches": List(BRANCH, noun="branches"),
        "pullRequests": List(PULL_REQUEST, noun="pull requests"),
        "avatar": URL,
        "avatarDescription": _s(1024),
        "id": _ENTITY_ID,
        "updateSequenceId": INT64,
    },
    required=("id", "name", "url", "updateSequenceId"),
    extra=_repository_extra,
)
_ID_ONLY = Obj({"id": _ENTITY_ID}, required=("id",))
REPOSITORY_KEY = Obj(
    {"id": _ENTITY_ID, "commits": List(_ID_ONLY), "branches": List(_ID_ONLY), "pullRequests": List(_ID_ONLY)},
    required=("id",),
)

# -- feature flags ---------------------------------------------------------------------------------------------------
FLAG_STATUS = Obj(
    {"enabled": Bool(), "defaultValue": _s(255),
     "rollout": Obj({"percentage": Num(0, 100), "text": _s(255), "rules": Int(minimum=0)})},
    required=("enabled",),
)
FLAG = Obj(
    {
        "schemaVersion": SCHEMA_VERSION,
        "id": _s(255),
        "key": _s(255),
        "updateSequenceId": INT64,
        "displayName": _s(255),
        "issueKeys": ISSUE_KEYS_100,
        "summary": Obj({"url": URL, "status": FLAG_STATUS, "lastUpdated": DATE_TIME},
                       required=("status", "lastUpdated")),
        "details": List(
            Obj({"url": URL, "lastUpdated": DATE_TIME,
                 "environment": Obj({"name": _s(255), "type": Str(enum=FLAG_ENVIRONMENT_TYPES)}, required=("name",)),
                 "status": FLAG_STATUS},
                required=("url", "lastUpdated", "environment", "status")),
            1, noun="details",
        ),
    },
    required=("id", "key", "updateSequenceId", "issueKeys", "summary", "details"),
)
FLAG_KEY = Obj({"id": _s(255)}, required=("id",))

ENTITY_RULES = {"builds": BUILD, "deployments": DEPLOYMENT, "repositories": REPOSITORY, "flags": FLAG}
KEY_RULES = {"builds": BUILD_KEY, "deployments": DEPLOYMENT_KEY, "repositories": REPOSITORY_KEY, "flags": FLAG_KEY}


def _duplicates(kind, entities, key, errors):
    seen = {}
    for index, entity in enumerate(entities):
        if not isinstance(entity, dict):
            continue
        try:
            ident = key(entity)
        except (KeyError, TypeError, AttributeError):
            continue
        if ident in seen:
            errors.append(f"{kind}[{index}]: same key as {kind}[{seen[ident]}] ({', '.join(map(str, ident))}); "
                          "send each entity once")
        else:
            seen[ident] = index


ENTITY_KEYS = {
    "builds": lambda b: (b["pipelineId"], b["buildNumber"]),
    "deployments": lambda d: (d["pipeline"]["id"], d["environment"]["id"], d["deploymentSequenceNumber"]),
    "repositories": lambda r: (r["id"],),
    "flags": lambda f: (f["id"],),
}


def validate(kind, entities, keys_only=False):
    """Check every entity of ``kind`` (builds, deployments, repositories, flags); return all problems found.

    Digit strings in integer fields are converted in place; nothing else is changed. Fields the spec does not
    name are left in place and listed in ``errors.warnings``.
    """
    errors = Problems()
    rule = (KEY_RULES if keys_only else ENTITY_RULES)[kind]
    check = rule.check
    for index, entity in enumerate(entities):
        new = check(entity, kind, index, errors)
        if new is not entity:
            entities[index] = new
    if not errors:
        _duplicates(kind, entities, ENTITY_KEYS[kind], errors)
    return errors


def validate_request(properties=None, provider_metadata=None):
    """The request-level options shared by the four APIs."""
    errors = Problems()
    if properties is not None:
        PROPERTIES.check(properties, "properties", None, errors)
    if provider_metadata is not None:
        PROVIDER_METADATA.check(provider_metadata, "provider_metadata", None, errors)
    return errors


# -- friendly defaults (which fields each API fills: its class in _devops) ------------------------------------------
def fill(entity, name, value):
    """Set ``name`` when the entity leaves it out (or null); given values are never replaced."""
    if isinstance(entity, dict) and entity.get(name) is None:
        entity[name] = value
