"""Reliability rows for the DevOps modules: build_info, deployment_info, devinfo, feature_flag.

Fault targets push a multi-batch submission in one module run: each item is exactly one bulk request's worth of
entities (100 builds, 100 deployments, 100 repositories, 100 flags), so "401 in the middle of a batch of 3" is a
401 on the second of three bulk POSTs. What is stored is read back from ``/_emulator/devops/<collection>``.
"""
from __future__ import annotations

import hashlib
import json

from reliability_support import BadInput, FaultTarget, Outcome, run_module

CLOUD_ID = "11111111-2222-3333-4444-555555555555"
TOKEN = "ci-token-all-devops-scopes"
SCOPES = [f"{verb}:{name}:jira-software" for verb in ("read", "write")
          for name in ("build", "deployment", "source-code", "feature-flag")]
PER_ITEM = 100  # entities per bulk request (the batch limit of each API)


def _seed(emulator):
    emulator.seed(bearer_tokens={TOKEN: {"user": "alice", "scopes": SCOPES, "expires_at": None, "client_id": "ci"}})


def _slug(item):
    return "rel-" + hashlib.sha1(item.encode()).hexdigest()[:10]


def _conn(ctx, extra):
    args = {"api_url": ctx.url, "cloud_id": CLOUD_ID, "token": TOKEN, "retry_budget": 10, "timeout": 5}
    args.update(extra)
    return args


# -- entities, keyed by item -------------------------------------------------------------------------------------------
def _builds(item):
    pid = _slug(item)
    return [{"pipelineId": pid, "buildNumber": n, "displayName": f"{pid} #{n}", "url": f"https://ci.example.com/{pid}/{n}",
             "state": "successful", "issueKeys": ["JJ-12"]} for n in range(PER_ITEM)]


def _deployments(item):
    pid = _slug(item)
    return [{"deploymentSequenceNumber": n, "displayName": f"{pid} {n}", "description": "reliability",
             "url": f"https://ci.example.com/deploy/{pid}/{n}", "state": "successful",
             "pipeline": {"id": pid, "displayName": pid, "url": f"https://ci.example.com/{pid}"},
             "environment": {"id": "staging", "displayName": "Staging", "type": "staging"},
             "associations": [{"associationType": "issueIdOrKeys", "values": ["JJ-12"]}]} for n in range(PER_ITEM)]


def _repositories(item):
    pid = _slug(item)
    return [{"id": f"{pid}-{n}", "name": f"{pid}-{n}", "url": f"https://git.example.com/{pid}/{n}",
             "commits": [{"id": f"c{n:05d}", "issueKeys": ["JJ-12"], "message": "JJ-12 change",
                          "author": {"name": "Alice"}, "fileCount": 1, "url": f"https://git.example.com/c/{n}",
                          "authorTimestamp": "2024-05-01T12:30:00Z", "displayId": f"c{n}"}]}
            for n in range(PER_ITEM)]


def _flags(item):
    pid = _slug(item)
    status = {"enabled": True, "rollout": {"percentage": 25}}
    return [{"id": f"{pid}-{n}", "key": f"{pid}-{n}", "issueKeys": ["JJ-12"], "summary": {"status": status},
             "details": [{"url": f"https://flags.example.com/{pid}/{n}", "environment": {"name": "production"},
                          "status": status}]} for n in range(PER_ITEM)]


def _prefix_of(collection, key):
    """The item slug an emulator key belongs to."""
    if collection == "builds":
        return key[0] if isinstance(key, list) else key.get("pipelineId")
    if collection == "deployments":
        return key[0] if isinstance(key, list) else key.get("pipelineId")
    text = key if isinstance(key, str) else (key[0] if isinstance(key, list) else key.get("repositoryId"))
    return text.rsplit("-", 1)[0]


def _accepted_prefix(collection, key):
    if collection in ("builds", "deployments"):
        return key["pipelineId"]
    if collection == "repositories":
        return key["repositoryId"].rsplit("-", 1)[0]
    return key.rsplit("-", 1)[0]


# -- one target per module ---------------------------------------------------------------------------------------------
def _target(module, option, collection, make, path):
    def send(ctx, items, extra):
        _seed(ctx.emulator)
        entities = [e for item in items for e in make(item)]
        out = run_module(module, dict(_conn(ctx, extra), **{option: entities}))
        accepted = {}
        for key in out.result.get("accepted") or []:
            prefix = _accepted_prefix(collection, key)
            accepted[prefix] = accepted.get(prefix, 0) + 1
        outcomes = []
        for item in items:
            done = accepted.get(_slug(item), 0) == PER_ITEM
            if out.traceback:
                outcomes.append(out)
            elif done:
                outcomes.append(Outcome(failed=False, msg=out.msg, result=out.result, elapsed=out.elapsed))
            else:
                outcomes.append(Outcome(failed=True, msg=out.msg or "not accepted", result=out.result,
                                        elapsed=out.elapsed))
        return outcomes

    def stored(ctx, items):
        rows = ctx.emulator.control("GET", f"/devops/{collection}")[collection]
        keys = [json.dumps(r["key"], sort_keys=True) for r in rows]
        counts = {}
        for row in rows:
            prefix = _prefix_of(collection, row["key"])
            counts[prefix] = counts.get(prefix, 0) + 1
        dup = len(keys) != len(set(keys))
        out = []
        for item in items:
            n = counts.get(_slug(item), 0)
            # 1: every entity of the item stored once; 0: not all stored; 2: something stored twice
            out.append(2 if (dup or n > PER_ITEM) else (1 if n == PER_ITEM else 0))
        return out

    return FaultTarget(f"{module} POST bulk (3 requests x {PER_ITEM})", module, path, "POST", send=send,
                       stored=stored, batch=True,
                       # The first request goes alone; the other two go out together (parallel_requests 4), so the
                       # 401 meets either of them, and the other one still finishes and is stored.
                       overrides={"401 in the middle of a batch of 3": {
                           "expect_any": [("ok", "fail", "ok"), ("ok", "ok", "fail")]}})


FAULT_TARGETS = [
    _target("build_info", "builds", "builds", _builds, "/jira/builds/0.1/cloud/*/bulk"),
    _target("deployment_info", "deployments", "deployments", _deployments, "/jira/deployments/0.1/cloud/*/bulk"),
    _target("devinfo", "repositories", "repositories", _repositories, "/jira/devinfo/0.1/cloud/*/bulk"),
    _target("feature_flag", "flags", "flags", _flags, "/jira/featureflags/0.1/cloud/*/bulk"),
]


# ---------------------------------------------------------------------------------------------------------------------
# Bad input: every row must stop before anything is sent (the emulator's request log stays empty).
# ---------------------------------------------------------------------------------------------------------------------
def _devops(option, entities, **kw):
    args = {"api_url": "{url}", "cloud_id": CLOUD_ID, "token": TOKEN, "retry_budget": 5, option: entities}
    args.update(kw)
    return args


def _build(**kw):
    out = _builds("bad input")[0]
    out.update(kw)
    return out


def _without(entity, *names):
    return {k: v for k, v in entity.items() if k not in names}


def _deployment(**kw):
    out = _deployments("bad input")[0]
    out.update(kw)
    return out


def _repo(**kw):
    out = _repositories("bad input")[0]
    out.update(kw)
    return out


def _flag(**kw):
    out = _flags("bad input")[0]
    out.update(kw)
    return out


_COMMIT = _repositories("bad input")[0]["commits"][0]

BAD_INPUT = [
    BadInput("unknown state 'done'", "build_info", _devops("builds", [_build(state="done")]), "builds",
             r"builds\[0\]\.state: 'done' is not one of"),
    BadInput("invalid issue key", "build_info", _devops("builds", [_build(issueKeys=["pink-logo"])]), "builds",
             r"builds\[0\]\.issueKeys\[0\]: 'pink-logo' does not match"),
    BadInput("missing required url", "build_info", _devops("builds", [_without(_build(), "url")]), "builds",
             r"builds\[0\]\.url: is required"),
    BadInput("build url without scheme", "build_info", _devops("builds", [_build(url="ci.example.com/job/1")]),
             "builds", r"builds\[0\]\.url"),
    BadInput("buildNumber not an integer", "build_info", _devops("builds", [_build(buildNumber="seven")]),
             "builds", "must be an integer"),
    BadInput("more than 100 issue keys on one build", "build_info",
             _devops("builds", [_build(issueKeys=[f"JJ-{n}" for n in range(101)])]), "builds", "limit is 100"),
    BadInput("more than 500 issue keys on one commit", "devinfo",
             _devops("repositories", [_repo(commits=[dict(_COMMIT, issueKeys=[f"JJ-{n}" for n in range(501)])])]),
             "repositories", "limit is 500"),
    BadInput("builds is a mapping, not a list", "build_info", _devops("builds", {"pipelineId": "x"}), "builds",
             "must be a list"),
    BadInput("builds is text but not JSON", "build_info", _devops("builds", "[{not json"), "builds", "not JSON"),
    BadInput("state=present without builds", "build_info", _devops("builds", None), "builds", "missing: builds, src"),
    BadInput("api_url without scheme", "build_info", _devops("builds", [_build()], api_url="api.atlassian.com"),
             "api_url", "absolute http"),
    BadInput("JIRA_API_URL env not UTF-8", "build_info",
             {k: v for k, v in _devops("builds", [_build()]).items() if k != "api_url"}, "api_url", "absolute http",
             env={"JIRA_API_URL": b"https://api.\xff\xfe.example.com"}),
    BadInput("unknown state 'done'", "deployment_info",
             _devops("deployments", [_deployment(state="done")]), "deployments",
             r"deployments\[0\]\.state: 'done' is not one of"),
    BadInput("missing required environment", "deployment_info",
             _devops("deployments", [_without(_deployment(), "environment")]), "deployments",
             r"deployments\[0\]\.environment: is required"),
    BadInput("gating_timeout zero", "deployment_info",
             _devops("deployments", [_deployment()], wait_for_gating=True, gating_timeout=0), "gating_timeout",
             "positive"),
    BadInput("invalid commit issue key", "devinfo",
             _devops("repositories", [_repo(commits=[dict(_COMMIT, issueKeys=["jj 12"])])]), "repositories",
             r"repositories\[0\]\.commits\[0\]\.issueKeys"),
    BadInput("more than 10 files on a commit", "devinfo",
             _devops("repositories", [_repo(commits=[dict(_COMMIT, files=[
                 {"path": f"f{n}", "url": f"https://git.example.com/f{n}", "changeType": "MODIFIED",
                  "linesAdded": 1, "linesRemoved": 0} for n in range(11)])])]), "repositories", "limit is 10"),
    BadInput("repository without id", "devinfo", _devops("repositories", [_without(_repo(), "id")]),
             "repositories", r"repositories\[0\]\.id: is required"),
    BadInput("unknown operation_type", "devinfo", _devops("repositories", [_repo()], operation_type="BULK"),
             "operation_type", "BULK"),
    BadInput("flag without id", "feature_flag", _devops("flags", [_without(_flag(), "id")]), "flags",
             r"flags\[0\]\.id: is required"),
    BadInput("state=absent with neither flags nor properties", "feature_flag",
             _devops("flags", None, state="absent"), "flags", "needs flags"),
]
