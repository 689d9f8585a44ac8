# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The payload rules of Jira Software Cloud's builds, deployments, development information and feature flags APIs.

Written from the rules of Atlassian's published OpenAPI document (required fields, types, enums, lengths, counts,
patterns, formats) with the parts of ``_validate``, checked before anything is sent so that every problem is
reported at once with its place:
``builds[3].state: 'done' is not one of pending, in_progress, successful, failed, cancelled, unknown``.
Which rule, key and defaults belong to which API is said by its class in ``_devops_apis``.

Also the helpers of the friendly defaults (sequence numbers from the clock, ``lastUpdated`` now). Nothing here
talks to the network.
"""
from __future__ import annotations

import datetime
import re
import time

from ansible_collections.jiraops.integration.plugins.module_utils._validate import (
    INT32_MAX,
    INT32_MIN,
    AnyOf,
    Bool,
    Int,
    List,
    Num,
    Obj,
    Problems,
    Rule,
    Str,
    StringMap,
    show,
)

# What the warning for a field the rules do not name says happens to it.
UNKNOWN_FIELD = "sent to Jira as given"
# Builds, deployments and feature flags: ^\w{1,255}-\d{1,255}$ (Java regex, so \w and \d are ASCII).
ISSUE_KEY = re.compile(r"^\w{1,255}-\d{1,255}$", re.ASCII)
# Deployment associations of type issueKeys / issueIdOrKeys accept an issue key or a numeric issue id.
ISSUE_ID_OR_KEY = re.compile(r"^(?:\w{1,255}-\d{1,255}|\d{1,255})$", re.ASCII)
# Development information: ^\p{L}[\p{L}\p{Digit}_]{1,255}-\p{Digit}{1,255}$ (letters may be any script).
DEVINFO_ISSUE_KEY = re.compile(r"^[^\W\d_](?:[^\W\d]|[0-9]){1,255}-[0-9]{1,255}$")
# Development information entity ids: "Only alphanumeric characters, and '~.-_', are allowed".
ENTITY_ID = re.compile(r"^[A-Za-z0-9~._-]+$")


def now_ms():
    return int(time.time() * 1000)


def now_iso(ms=None):
    """RFC 3339 UTC timestamp with milliseconds, as the APIs show them."""
    ms = now_ms() if ms is None else ms
    stamp = datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


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
PROPERTIES = StringMap(max_items=5, max_length=255, no_prefix="_", no_chars=":")

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
                errors.append(f"{path}.{kind}[{index}].id: {show(ident)} is listed more than once in this repository")
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


def validate_request(properties=None, provider_metadata=None):
    """The request-level options shared by the four APIs."""
    errors = Problems(UNKNOWN_FIELD)
    if properties is not None:
        PROPERTIES.check(properties, "properties", None, errors)
    if provider_metadata is not None:
        PROVIDER_METADATA.check(provider_metadata, "provider_metadata", None, errors)
    return errors


# -- friendly defaults (which fields each API fills: its class in _devops_apis) -------------------------------------
def fill(entity, name, value):
    """Set ``name`` when the entity leaves it out (or null); given values are never replaced."""
    if isinstance(entity, dict) and entity.get(name) is None:
        entity[name] = value
