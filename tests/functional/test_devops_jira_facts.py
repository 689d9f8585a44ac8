"""The DevOps modules against what Jira Cloud really does."""
from __future__ import annotations

import json

import pytest

from devops_support import BULK, CLOUD_ID, args, builds
from oauth2_support import CC, token_requests


def test_client_credentials_with_only_the_site_url_look_up_the_cloud_id_and_send(emulator, run_module):
    res = run_module("build_info", {"url": emulator.url, "api_url": emulator.url, "auth_url": emulator.url,
                                    "retry_budget": 20, "builds": builds(3), **CC})
    assert not res.failed, res["msg"]
    assert res["cloud_id"] == CLOUD_ID and len(res["accepted"]) == 3
    lookups = emulator.requests("/_edge/tenant_info")
    assert len(lookups) == 1 and "Authorization" not in lookups[0]["headers"]
    assert token_requests(emulator, client_id=CC["client_id"])["count"] == 1
    stored = emulator.control("GET", "/devops/builds")["builds"]
    assert sorted(b["data"]["buildNumber"] for b in stored) == [0, 1, 2]
    assert CC["client_secret"] not in json.dumps(res)


# -- item 6: the gating status is not readable right after the submission -------------------------------------------
SCOPE_NAMES = ("build", "deployment", "source-code", "feature-flag")
TOKEN_SCOPES = {"user": "alice", "expires_at": None, "client_id": "ci", "scopes": [
    f"{verb}:{name}:jira-software" for verb in ("read", "write") for name in SCOPE_NAMES]}
GATING = f"/jira/deployments/0.1/cloud/{CLOUD_ID}/pipelines/deploy/environments/production/deployments/"


def deployment(n, **kw):
    d = {"deploymentSequenceNumber": n, "displayName": f"pink-logo {n}", "description": "by Ansible",
         "url": f"https://ci.example.com/deploy/{n}", "state": "successful",
         "pipeline": {"id": "deploy", "displayName": "Deploy", "url": "https://ci.example.com/deploy"},
         "environment": {"id": "production", "displayName": "Production", "type": "production"},
         "associations": [{"associationType": "issueIdOrKeys", "values": ["JJ-12"]}]}
    d.update(kw)
    return d


def seeded(emulator):
    from devops_support import TOKEN
    emulator.seed(bearer_tokens={TOKEN: TOKEN_SCOPES})
    return emulator


def warning_texts(result):
    """Module warnings as text (ansible-core 2.19+ returns them as {"event": {"msg", ...}})."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings") or []]


def gating_reads(emulator, n):
    return [r["status"] for r in emulator.requests(f"{GATING}{n}/gating-status")]


def test_gating_404s_right_after_submission_are_waited_out_like_awaiting(emulator, run_module):
    emu = seeded(emulator)
    emu.configure(devops_gating_not_found_reads=3, devops_gating_polls=1, devops_gating_outcome="allowed")
    res = run_module("deployment_info", args(emu, deployments=[deployment(5)], wait_for_gating=True,
                                             gating_interval=0.01, gating_timeout=5))
    assert not res.failed, res["msg"]
    assert [s["gatingStatus"] for s in res["gating_status"]] == ["allowed"]
    assert gating_reads(emu, 5) == [404, 404, 404, 200, 200]


def test_gating_that_stays_404_fails_at_gating_timeout_and_says_so(emulator, run_module):
    emu = seeded(emulator)
    emu.configure(devops_gating_not_found_reads=1000)
    res = run_module("deployment_info", args(emu, deployments=[deployment(6)], wait_for_gating=True,
                                             gating_interval=0.05, gating_timeout=0.2))
    assert res.failed and res["changed"] is True
    assert ("deployment gating still awaiting after 0.2s for deploy/production/6 (gating status not readable yet: "
            "HTTP 404)") in res["msg"]
    assert set(gating_reads(emu, 6)) == {404} and len(gating_reads(emu, 6)) >= 2


# -- item 7: fields Atlassian has added since the spec copy ------------------------------------------------------
def test_an_unknown_field_is_sent_and_warned_about_with_the_closest_name(emulator, run_module):
    emu = seeded(emulator)
    res = run_module("deployment_info", args(emu, deployments=[
        deployment(8, triggeredBy={"accountId": "5b10a2844c20165700ede21g"}, lable="v1.2.3")]))
    assert not res.failed, res["msg"]
    assert len(res["accepted"]) == 1
    assert sorted(warning_texts(res)) == [
        "deployments[0].lable: unknown field, sent to Jira as given (did you mean label?)",
        "deployments[0].triggeredBy: unknown field, sent to Jira as given (closest known field: issueKeys)"]
    sent = json.loads(emu.requests(f"/jira/deployments/0.1/cloud/{CLOUD_ID}/bulk")[0]["body"])
    assert sent["deployments"][0]["triggeredBy"] == {"accountId": "5b10a2844c20165700ede21g"}
    stored = emu.control("GET", "/devops/deployments")["deployments"][0]["data"]
    assert stored["triggeredBy"] == {"accountId": "5b10a2844c20165700ede21g"} and stored["lable"] == "v1.2.3"


def test_an_unknown_field_does_not_excuse_real_errors(emulator, run_module):
    emu = seeded(emulator)
    res = run_module("deployment_info", args(emu, deployments=[deployment(9, triggeredBy={}, state="done")]))
    assert res.failed and res["requests"] == 0 and emu.requests("/jira/") == []
    assert res["errors"] == ["deployments[0].state: 'done' is not one of unknown, pending, in_progress, cancelled, "
                             "failed, rolled_back, successful"]


# -- a 202 that confirms nothing is not success --------------------------------------------------------
REPOSITORY = {"id": "pink-logo", "name": "pink-logo", "url": "https://git.example.com/pink-logo",
              "commits": [{"id": "c1", "issueKeys": ["JJ-12"], "message": "JJ-12 pinker", "author": {"name": "Alice"},
                           "fileCount": 1, "url": "https://git.example.com/c/1", "displayId": "c1",
                           "authorTimestamp": "2024-05-01T12:30:00Z"}]}
FLAG = {"id": "pink-logo-flag", "key": "pink-logo", "issueKeys": ["JJ-12"], "summary": {"status": {"enabled": True}},
        "details": [{"url": "https://flags.example.com/pink-logo", "environment": {"name": "production"},
                     "status": {"enabled": True}}]}
UNCONFIRMED = [
    ("build_info", "builds", builds(2), [{"pipelineId": "pink-logo", "buildNumber": 0},
                                         {"pipelineId": "pink-logo", "buildNumber": 1}]),
    ("deployment_info", "deployments", [deployment(3)],
     [{"pipelineId": "deploy", "environmentId": "production", "deploymentSequenceNumber": 3}]),
    ("devinfo", "repositories", [REPOSITORY], [{"repositoryId": "pink-logo", "type": "commits", "id": "c1"}]),
    ("feature_flag", "flags", [FLAG], ["pink-logo-flag"]),
]


@pytest.mark.parametrize("module,option,entities,keys", UNCONFIRMED, ids=[u[0] for u in UNCONFIRMED])
def test_a_202_with_an_empty_body_fails_and_lists_the_entities_as_unconfirmed(
        emulator, run_module, module, option, entities, keys):
    emu = seeded(emulator)
    emu.configure(devops_unconfirmed_replies=1)
    res = run_module(module, args(emu, **{option: entities}))
    assert res.failed and res["changed"] is False and res["accepted"] == [], res["msg"]
    assert res["unconfirmed"] == keys
    assert "not confirmed (Jira's HTTP 202 reply neither accepted nor rejected them" in res["msg"]
    assert [r["status"] for r in emu.requests("/jira/") if r["method"] == "POST"] == [202]
    again = run_module(module, args(emu, **{option: entities}))  # the emulator answers normally again
    assert not again.failed, again["msg"]
    assert "unconfirmed" not in again


def test_a_reply_that_leaves_out_one_of_the_sent_builds_names_it(emulator, run_module):
    emu = seeded(emulator)
    emu.fault(BULK, method="POST", kind="status", status=202, times=1,
              body={"acceptedBuilds": [{"pipelineId": "pink-logo", "buildNumber": 0}], "rejectedBuilds": [],
                    "unknownIssueKeys": []})
    res = run_module("build_info", args(emu, builds=builds(2)))
    assert res.failed and res["changed"] is True
    assert res["accepted"] == [{"pipelineId": "pink-logo", "buildNumber": 0}]
    assert res["unconfirmed"] == [{"pipelineId": "pink-logo", "buildNumber": 1}]
    assert "1 not confirmed" in res["msg"] and "pink-logo/1" in res["msg"]
