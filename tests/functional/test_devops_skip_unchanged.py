"""skip_unchanged: the four DevOps modules read each entity by key and send only what Jira does not have as given."""
from __future__ import annotations

import json

import pytest
from devops_support import CLOUD_ID, TOKEN, args, builds
from test_devops_modules import ALL_SCOPES, commit, deployment, flag, posts, repo

GATEWAY = "/jira/{}/0.1/cloud/" + CLOUD_ID


@pytest.fixture
def emu(emulator):
    emulator.seed(bearer_tokens={
        TOKEN: {"user": "alice", "scopes": ALL_SCOPES, "expires_at": None, "client_id": "ci"},
        "ci-token-builds-write-only": {"user": "alice", "scopes": ["write:build:jira-software"],
                                       "expires_at": None, "client_id": "ci"},
    })
    return emulator


def reads(emu, prefix):
    return [r for r in emu.requests(prefix) if r["method"] == "GET"]


def sent_builds(emu):
    return [b["buildNumber"] for r in posts(emu) for b in json.loads(r["body"])["builds"]]


def test_builds_jira_has_are_not_sent_and_the_task_reports_no_change(emu, run_module):
    res = run_module("build_info", args(emu, builds=builds(6), skip_unchanged=True))
    assert not res.failed, res["msg"]
    assert res["changed"] is True and len(res["accepted"]) == 6 and res["unchanged"] == []
    assert len(reads(emu, GATEWAY.format("builds") + "/pipelines/")) == 6   # each read by key, 404 for new ones

    before = len(posts(emu))
    again = builds(6)
    again[2]["issueKeys"] = ["JJ-2", "JJ-12"]     # a real change
    again[4]["issueKeys"] = ["JJ-12"]
    res = run_module("build_info", args(emu, builds=again, skip_unchanged=True, parallel_requests=3))
    assert not res.failed, res["msg"]
    assert res["changed"] is True
    assert res["accepted"] == [{"pipelineId": "pink-logo", "buildNumber": 2}]
    assert res["unchanged"] == [{"pipelineId": "pink-logo", "buildNumber": n} for n in (0, 1, 3, 4, 5)]
    assert len(posts(emu)) == before + 1 and sent_builds(emu)[-1:] == [2]

    # Same data once more, issue keys in another order: nothing is sent, nothing changed.
    again[2]["issueKeys"] = ["JJ-12", "JJ-2"]
    res = run_module("build_info", args(emu, builds=again, skip_unchanged=True))
    assert not res.failed, res["msg"]
    assert res["changed"] is False and res["accepted"] == [] and len(res["unchanged"]) == 6
    assert len(posts(emu)) == before + 1
    assert "nothing sent" in res["msg"]


def test_without_skip_unchanged_a_rerun_sends_and_reports_changed(emu, run_module):
    assert not run_module("build_info", args(emu, builds=builds(2))).failed
    res = run_module("build_info", args(emu, builds=builds(2)))
    assert res["changed"] is True and "unchanged" not in res and len(posts(emu)) == 2
    assert reads(emu, GATEWAY.format("builds") + "/pipelines/") == []


def test_a_field_jira_has_that_is_no_longer_sent_counts_as_a_change(emu, run_module):
    assert not run_module("build_info", args(emu, builds=builds(1, label="rc-1"))).failed
    res = run_module("build_info", args(emu, builds=builds(1), skip_unchanged=True))
    assert res["changed"] is True and res["unchanged"] == [] and len(res["accepted"]) == 1
    stored = emu.control("GET", "/devops/builds")["builds"][0]["data"]
    assert "label" not in stored


def test_check_mode_reads_and_plans_only_the_changed_builds(emu, run_module):
    assert not run_module("build_info", args(emu, builds=builds(3))).failed
    changed = builds(3)
    changed[1]["state"] = "failed"
    res = run_module("build_info", args(emu, builds=changed, skip_unchanged=True), check_mode=True)
    assert not res.failed, res["msg"]
    assert res["changed"] is True and len(res["unchanged"]) == 2
    assert [b["buildNumber"] for b in res["would_send"]["payloads"][0]["builds"]] == [1]
    assert len(posts(emu)) == 1
    res = run_module("build_info", args(emu, builds=builds(3), skip_unchanged=True), check_mode=True)
    assert res["changed"] is False and len(res["unchanged"]) == 3 and "would_send" not in res


def test_a_token_that_may_not_read_sends_everything_after_one_read(emu, run_module):
    assert not run_module("build_info", args(emu, builds=builds(4))).failed
    res = run_module("build_info", args(emu, builds=builds(4), skip_unchanged=True,
                                        token="ci-token-builds-write-only"))
    assert not res.failed, res["msg"]
    assert res["changed"] is True and res["unchanged"] == [] and len(res["accepted"]) == 4
    got = reads(emu, GATEWAY.format("builds") + "/pipelines/")
    assert [r["status"] for r in got] == [403]


def test_a_failing_read_fails_the_task_and_sends_nothing(emu, run_module):
    emu.fault(path=GATEWAY.format("builds") + "/pipelines/*", kind="status", status=500, times=50)
    res = run_module("build_info", args(emu, builds=builds(2), skip_unchanged=True, max_retries=0))
    assert res.failed and "HTTP 500" in res["msg"]
    assert posts(emu) == []


def test_deployments_are_compared_without_the_gating_command(emu, run_module):
    deps = [deployment(1), deployment(2)]
    assert not run_module("deployment_info", args(emu, deployments=deps)).failed
    again = [deployment(1), deployment(2, state="failed")]
    res = run_module("deployment_info", args(emu, deployments=again, skip_unchanged=True))
    assert not res.failed, res["msg"]
    assert res["unchanged"] == [{"pipelineId": "deploy", "environmentId": "staging", "deploymentSequenceNumber": 1}]
    assert [a["deploymentSequenceNumber"] for a in res["accepted"]] == [2]
    res = run_module("deployment_info", args(emu, deployments=[deployment(1), deployment(2, state="failed")],
                                             skip_unchanged=True))
    assert res["changed"] is False and len(res["unchanged"]) == 2
    assert len(posts(emu, GATEWAY.format("deployments") + "/bulk")) == 2


def test_devinfo_repositories_are_compared_entity_by_entity(emu, run_module):
    first = repo("pink", 3)
    assert not run_module("devinfo", args(emu, repositories=[first, repo("blue", 1)])).failed
    # A repository sent with only some of its commits is unchanged when those are as stored.
    part = repo("pink", 2)
    res = run_module("devinfo", args(emu, repositories=[part, repo("blue", 1)], skip_unchanged=True))
    assert not res.failed, res["msg"]
    assert res["changed"] is False and res["unchanged"] == [{"repositoryId": "pink"}, {"repositoryId": "blue"}]
    edited = repo("blue", 1)
    edited["commits"][0] = commit(0, message="JJ-12 reworded")
    res = run_module("devinfo", args(emu, repositories=[repo("pink", 3), edited], skip_unchanged=True))
    assert res["changed"] is True and res["unchanged"] == [{"repositoryId": "pink"}]
    bodies = [json.loads(r["body"]) for r in posts(emu, GATEWAY.format("devinfo") + "/bulk")]
    assert [r["id"] for r in bodies[-1]["repositories"]] == ["blue"]


def test_feature_flags_are_compared_with_their_nested_defaults_ignored(emu, run_module):
    assert not run_module("feature_flag", args(emu, flags=[flag("pink-logo"), flag("blue-logo")])).failed
    changed = flag("blue-logo")
    changed["details"][0]["status"] = {"enabled": True, "rollout": {"percentage": 50}}
    res = run_module("feature_flag", args(emu, flags=[flag("pink-logo"), changed], skip_unchanged=True))
    assert not res.failed, res["msg"]
    assert res["unchanged"] == ["pink-logo"] and res["accepted"] == ["blue-logo"]
    stored = {f["data"]["id"]: f["data"] for f in emu.control("GET", "/devops/flags")["flags"]}
    assert stored["blue-logo"]["details"][0]["status"]["rollout"]["percentage"] == 50
