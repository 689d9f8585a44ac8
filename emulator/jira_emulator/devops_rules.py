"""The emulator's own reading of the DevOps APIs' schema rules (builds, deployments, devinfo, feature flags).

Deliberately independent of the collection's ``_devops_schema``: written field by field from Atlassian's OpenAPI
rules in a different style, so that a mistake in the collection's validator shows up as a disagreement with this
test double instead of being copied into it. Each ``check_*`` returns Jira-style messages for one entity; an empty
list means the entity is valid.
"""
from __future__ import annotations

import re
from datetime import datetime

I64 = (-(2 ** 63), 2 ** 63 - 1)
I32 = (-(2 ** 31), 2 ** 31 - 1)

KEY_RE = re.compile(r"\w{1,255}-\d{1,255}", re.ASCII)                     # ^\w{1,255}-\d{1,255}$
ID_OR_KEY_RE = re.compile(r"\w{1,255}-\d{1,255}|\d{1,255}", re.ASCII)     # (\w{1,255}-\d{1,255}|\d{1,255})
ENTITY_ID_RE = re.compile(r"[A-Za-z0-9~.\-_]+")
RFC3339_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")

BUILD_STATES = ["pending", "in_progress", "successful", "failed", "cancelled", "unknown"]
DEPLOYMENT_STATES = ["unknown", "pending", "in_progress", "cancelled", "failed", "rolled_back", "successful"]
ENV_TYPES = ["unmapped", "development", "testing", "staging", "production"]
FLAG_ENV_TYPES = ["development", "testing", "staging", "production"]
PR_STATUSES = ["OPEN", "MERGED", "DECLINED", "UNKNOWN"]
CHANGE_TYPES = ["ADDED", "COPIED", "DELETED", "MODIFIED", "MOVED", "UNKNOWN"]
APPROVALS = ["APPROVED", "UNAPPROVED"]


def devinfo_key_ok(key):
    """^\\p{L}[\\p{L}\\p{Digit}_]{1,255}-\\p{Digit}{1,255}$ (Java: \\p{Digit} is ASCII 0-9)."""
    project, dash, number = key.rpartition("-")
    if not dash or not number or len(number) > 255 or not all("0" <= c <= "9" for c in number):
        return False
    if not 2 <= len(project) <= 256 or not project[0].isalpha():
        return False
    return all(c.isalpha() or "0" <= c <= "9" or c == "_" for c in project[1:])


class Entity:
    """Collects the messages for one entity; field helpers read ``self.data``."""

    def __init__(self, data, where=""):
        self.data = data if isinstance(data, dict) else {}
        self.where = where
        self.messages = []

    def bad(self, field, text):
        self.messages.append(f"{self.where}{field} {text}")

    def get(self, field, required):
        value = self.data.get(field)
        if value is None and required:
            self.bad(field, "is required")
        return value

    def string(self, field, required=False, limit=None):
        value = self.get(field, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.bad(field, "must be a string")
            return None
        if required and value.strip() == "":
            self.bad(field, "must not be blank")
        if limit and len(value) > limit:
            self.bad(field, f"must be at most {limit} characters (got {len(value)})")
        return value

    def number(self, field, required=False, bounds=I64, minimum=None):
        value = self.get(field, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(field, "must be an integer")
            return None
        low, high = bounds
        if value < low or value > high:
            self.bad(field, "is out of range")
        if minimum is not None and value < minimum:
            self.bad(field, f"must be at least {minimum}")
        return value

    def choice(self, field, allowed, required=False):
        value = self.get(field, required)
        if value is not None and value not in allowed:
            self.bad(field, f"must be one of {allowed} (got {value!r})")
        return value

    def timestamp(self, field, required=False):
        value = self.string(field, required)
        if not value:
            return value
        match = RFC3339_RE.fullmatch(value)
        ok = bool(match)
        if match:
            try:
                datetime(*(int(match.group(i)) for i in range(1, 6)), min(int(match.group(6)), 59))
            except ValueError:
                ok = False
        if not ok:
            self.bad(field, f"must be an RFC 3339 date-time (got {value!r})")
        return value

    def link(self, field, required=False, limit=2000):
        value = self.string(field, required, limit)
        if value and (" " in value or "://" not in value or value.split("://", 1)[1] in ("", "/")):
            self.bad(field, f"must be a valid URL (got {value!r})")
        return value

    def array(self, field, required=False, low=None, high=None):
        value = self.get(field, required)
        if value is None:
            return None
        if not isinstance(value, list):
            self.bad(field, "must be an array")
            return None
        if low is not None and len(value) < low:
            self.bad(field, f"must contain at least {low} item(s)")
        if high is not None and len(value) > high:
            self.bad(field, f"must contain at most {high} items (got {len(value)})")
        return value

    def nested(self, field, required=False):
        value = self.get(field, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.bad(field, "must be an object")
            return None
        return Entity(value, f"{self.where}{field}.")

    def absorb(self, child):
        if child is not None:
            self.messages.extend(child.messages)

    def issue_keys(self, field, high, required=True, key_ok=None):
        keys = self.array(field, required, 1, high)
        for key in keys or []:
            good = isinstance(key, str) and (key_ok(key) if key_ok else KEY_RE.fullmatch(key) is not None)
            if not good:
                self.bad(field, f"contains an invalid issue key: {key!r}")
        return [k for k in keys or [] if isinstance(k, str)]


def _schema_version(e):
    e.choice("schemaVersion", ["1.0"])


def check_build(build):
    e = Entity(build)
    _schema_version(e)
    e.string("pipelineId", True, 255)
    e.number("buildNumber", True)
    e.number("updateSequenceNumber", True)
    e.string("displayName", True, 255)
    e.string("description", False, 255)
    e.string("label", False, 255)
    e.link("url", True)
    e.choice("state", BUILD_STATES, True)
    e.timestamp("lastUpdated", True)
    e.issue_keys("issueKeys", 100)
    tests = e.nested("testInfo")
    if tests:
        for name in ("totalNumber", "numberPassed", "numberFailed"):
            tests.number(name, True)
        tests.number("numberSkipped")
        e.absorb(tests)
    for i, ref in enumerate(e.array("references", False, 1, 5) or []):
        r = Entity(ref, f"references[{i}].")
        if not isinstance(ref, dict):
            r.bad("", "must be an object")
        commit = r.nested("commit")
        if commit:
            commit.string("id", True, 255)
            commit.string("repositoryUri", True, 2000)
            r.absorb(commit)
        ref_ = r.nested("ref")
        if ref_:
            ref_.string("name", True, 255)
            ref_.string("uri", True, 2000)
            r.absorb(ref_)
        e.absorb(r)
    return e.messages


def deployment_keys(deployment):
    """Issue keys/ids, services and other associations a deployment names."""
    issues, services = [], []
    for key in deployment.get("issueKeys") or []:
        issues.append(key)
    for assoc in deployment.get("associations") or []:
        if not isinstance(assoc, dict):
            continue
        if assoc.get("associationType") in ("issueKeys", "issueIdOrKeys"):
            issues.extend(assoc.get("values") or [])
        elif assoc.get("associationType") == "serviceIdOrKeys":
            services.extend(assoc.get("values") or [])
    return issues, services


def check_deployment(deployment):
    e = Entity(deployment)
    e.number("deploymentSequenceNumber", True)
    e.number("updateSequenceNumber", True)
    if e.data.get("issueKeys") is None and e.data.get("associations") is None:
        e.bad("associations", "is required (or the deprecated issueKeys)")
    if e.data.get("issueKeys") is not None:
        e.issue_keys("issueKeys", 100)
    associations = e.array("associations", False, 1, 3)
    total = 0
    has_issue_or_service = False
    for i, assoc in enumerate(associations or []):
        a = Entity(assoc, f"associations[{i}].")
        if not isinstance(assoc, dict):
            a.bad("", "must be an object")
            e.absorb(a)
            continue
        kind = a.choice("associationType", ["issueKeys", "issueIdOrKeys", "serviceIdOrKeys", "commit", "repository"],
                        True)
        values = a.array("values", True, 1, 500) or []
        total += len(values)
        if kind in ("issueKeys", "issueIdOrKeys", "serviceIdOrKeys"):
            has_issue_or_service = True
        for value in values:
            if kind in ("issueKeys", "issueIdOrKeys"):
                if not isinstance(value, str) or not ID_OR_KEY_RE.fullmatch(value):
                    a.bad("values", f"contains an invalid issue id or key: {value!r}")
            elif kind == "serviceIdOrKeys":
                if not isinstance(value, str) or not value.strip() or len(value) > 255:
                    a.bad("values", f"contains an invalid service id or key: {value!r}")
            elif kind in ("commit", "repository"):
                v = Entity(value, f"associations[{i}].values.")
                if not isinstance(value, dict):
                    v.bad("", "must be an object")
                else:
                    if kind == "commit":
                        v.string("commitHash", True, 255)
                    v.string("repositoryId", True, 255)
                a.absorb(v)
        e.absorb(a)
    if total > 500:
        e.bad("associations", f"must not have more than 500 values in total (got {total})")
    if associations and not has_issue_or_service:
        e.bad("associations", "must contain an issueIdOrKeys or serviceIdOrKeys association")
    e.string("displayName", True, 255)
    e.link("url", True)
    e.string("description", True, 255)
    e.timestamp("lastUpdated", True)
    e.string("label", False, 255)
    e.number("duration")
    e.choice("state", DEPLOYMENT_STATES, True)
    pipeline = e.nested("pipeline", True)
    if pipeline:
        pipeline.string("id", True, 255)
        pipeline.string("displayName", True, 255)
        pipeline.link("url", True)
        e.absorb(pipeline)
    env = e.nested("environment", True)
    if env:
        env.string("id", True, 255)
        env.string("displayName", True, 255)
        env.choice("type", ENV_TYPES, True)
        e.absorb(env)
    for i, command in enumerate(e.array("commands") or []):
        c = Entity(command, f"commands[{i}].")
        c.string("command", True)
        e.absorb(c)
    _schema_version(e)
    return e.messages


def _author(parent, field, required):
    a = parent.nested(field, required)
    if a:
        a.string("name", False, 255)
        a.string("email", False, 255)
        a.string("username", False, 255)
        a.string("url", False, 2000)
        a.string("avatar", False, 2000)
        parent.absorb(a)


def _entity_id(e, field="id"):
    value = e.string(field, True, 1024)
    if value and not ENTITY_ID_RE.fullmatch(value):
        e.bad(field, f"may only contain alphanumeric characters and '~.-_' (got {value!r})")
    return value


def check_commit(commit, where=""):
    e = Entity(commit, where)
    _entity_id(e)
    e.issue_keys("issueKeys", 500, key_ok=devinfo_key_ok)
    e.number("updateSequenceId", True)
    e.string("hash", False, 255)
    flags = e.array("flags") or []
    if any(f != "MERGE_COMMIT" for f in flags):
        e.bad("flags", "may only contain MERGE_COMMIT")
    if len(set(map(str, flags))) != len(flags):
        e.bad("flags", "must not contain duplicates")
    e.string("message", True)  # longer messages are truncated to 1024 by the caller, as Jira does
    _author(e, "author", True)
    e.number("fileCount", True, I32, minimum=0)
    e.link("url", True)
    for i, f in enumerate(e.array("files", False, None, 10) or []):
        fe = Entity(f, f"{where}files[{i}].")
        fe.string("path", True, 1024)
        fe.link("url", True)
        fe.choice("changeType", CHANGE_TYPES, True)
        fe.number("linesAdded", True, I32, minimum=0)
        fe.number("linesRemoved", True, I32, minimum=0)
        e.absorb(fe)
    e.timestamp("authorTimestamp", True)
    e.string("displayId", True, 255)
    return e.messages


def check_branch(branch):
    e = Entity(branch)
    _entity_id(e)
    e.issue_keys("issueKeys", 500, key_ok=devinfo_key_ok)
    e.number("updateSequenceId", True)
    e.string("name", True, 512)
    last = e.data.get("lastCommit")
    if last is None:
        e.bad("lastCommit", "is required")
    elif not isinstance(last, dict):
        e.bad("lastCommit", "must be an object")
    else:
        e.messages.extend(check_commit(last, "lastCommit."))
    e.string("createPullRequestUrl", False, 2000)
    e.string("url", True, 2000)
    return e.messages


def check_pull_request(pull):
    e = Entity(pull)
    _entity_id(e)
    e.issue_keys("issueKeys", 500, key_ok=devinfo_key_ok)
    e.number("updateSequenceId", True)
    e.choice("status", PR_STATUSES, True)
    e.string("title", True, 1024)
    _author(e, "author", True)
    e.number("commentCount", True, I32)
    e.string("sourceBranch", True, 255)
    e.link("sourceBranchUrl", False)
    e.timestamp("lastUpdate", True)
    e.string("destinationBranch", False, 255)
    e.link("destinationBranchUrl", False)
    for i, reviewer in enumerate(e.array("reviewers") or []):
        r = Entity(reviewer, f"reviewers[{i}].")
        r.string("name", False, 255)
        r.choice("approvalStatus", APPROVALS)
        r.link("url")
        r.link("avatar")
        r.string("email", False, 254)
        r.string("accountId", False, 128)
        e.absorb(r)
    e.link("url", True)
    e.string("displayId", True, 255)
    return e.messages


ENTITY_CHECKS = {"commits": check_commit, "branches": check_branch, "pullRequests": check_pull_request}


def check_repository(repo):
    """Messages about the repository's own fields (its entities are checked one by one by the caller)."""
    e = Entity(repo)
    e.string("name", True, 255)
    e.string("description", False, 1024)
    e.string("forkOf", False, 1024)
    e.link("url", True)
    e.link("avatar")
    e.string("avatarDescription", False, 1024)
    _entity_id(e)
    e.number("updateSequenceId", True)
    for kind in ENTITY_CHECKS:
        e.array(kind, False, None, 400)
    return e.messages


def _status(parent, field):
    s = parent.nested(field, True)
    if s:
        enabled = s.get("enabled", True)
        if enabled is not None and not isinstance(enabled, bool):
            s.bad("enabled", "must be a boolean")
        s.string("defaultValue", False, 255)
        rollout = s.nested("rollout")
        if rollout:
            pct = rollout.get("percentage", False)
            if pct is not None and (isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100):
                rollout.bad("percentage", "must be a number between 0 and 100")
            rollout.string("text", False, 255)
            rollout.number("rules", minimum=0)
            s.absorb(rollout)
        parent.absorb(s)


def check_flag(flag):
    e = Entity(flag)
    _schema_version(e)
    e.string("id", True, 255)
    e.string("key", True, 255)
    e.number("updateSequenceId", True)
    e.string("displayName", False, 255)
    e.issue_keys("issueKeys", 100)
    summary = e.nested("summary", True)
    if summary:
        summary.link("url")
        _status(summary, "status")
        summary.timestamp("lastUpdated", True)
        e.absorb(summary)
    for i, detail in enumerate(e.array("details", True, 1) or []):
        d = Entity(detail, f"details[{i}].")
        d.link("url", True)
        d.timestamp("lastUpdated", True)
        env = d.nested("environment", True)
        if env:
            env.string("name", True, 255)
            env.choice("type", FLAG_ENV_TYPES)
            d.absorb(env)
        _status(d, "status")
        e.absorb(d)
    return e.messages


def check_properties(props):
    """Request-level problems with ``properties`` (a 400 for the whole request), or []."""
    if props is None:
        return []
    if not isinstance(props, dict):
        return ["properties must be an object"]
    out = []
    if len(props) > 5:
        out.append(f"A maximum of 5 properties can be supplied (got {len(props)})")
    for key, value in props.items():
        if key.startswith("_"):
            out.append(f"Property keys must not start with '_' (got {key!r})")
        if ":" in key:
            out.append(f"Property keys must not contain ':' (got {key!r})")
        if len(key) > 255:
            out.append("Property keys must be at most 255 characters")
        if not isinstance(value, str):
            out.append(f"Property values must be strings (property {key!r})")
        elif len(value) > 255:
            out.append(f"Property values must be at most 255 characters (property {key!r})")
    return out
