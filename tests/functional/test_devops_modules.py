"""build_info, deployment_info, devinfo and feature_flag run for real (in-process main()) against the emulator."""
from __future__ import annotations

import json
import time

import pytest
from devops_support import BULK, CLOUD_ID, TOKEN, args, builds

ALL_SCOPES = [f"{verb}:{name}:jira-software" for verb in ("read", "write")
              for name in ("build", "deployment", "source-code", "feature-flag")]


@pytest.fixture
def emu(emulator):
    emulator.seed(bearer_tokens={
        TOKEN: {"user": "alice", "scopes": ALL_SCOPES, "expires_at": None, "client_id": "ci"},
        "ci-token-deployments-only": {"user": "alice", "scopes": ["write:deployment:jira-software"],
                                      "expires_at": None, "client_id": "ci"},
        "ci-token-builds-write-only": {"user": "alice", "scopes": ["write:build:jira-software"],
                                       "expires_at": None, "client_id": "ci"},
    })
    return emulator


def stored(emu, collection):
    return emu.control("GET", f"/devops/{collection}")[collection]


def posts(emu, path=BULK):
    return [r for r in emu.requests(path) if r["method"] == "POST"]


# -- builds ----------------------------------------------------------------------------------------------------------
def test_250_builds_go_out_in_3_requests_and_are_all_stored(emu, run_module):
    res = run_module("build_info", args(emu, builds=builds(250)))
    assert not res.failed, res["msg"]
    assert res["changed"] is True and res["requests"] == 3
    assert len(res["accepted"]) == 250 and res["rejected"] == [] and res["unknown_issue_keys"] == []
    sizes = [len(json.loads(r["body"])["builds"]) for r in posts(emu)]
    # The first request goes alone; the other two go out together (parallel_requests 4), in either order.
    assert sizes[0] == 100 and sorted(sizes[1:]) == [50, 100]
    raw = emu.control("GET", "/requests", params={"path": BULK, "raw": "1"})["requests"]
    assert all(r["status"] == 202 and r["headers"]["Authorization"] == f"Bearer {TOKEN}" for r in raw)
    items = stored(emu, "builds")
    assert sorted(i["data"]["buildNumber"] for i in items) == list(range(250))
    first = items[0]["data"]
    assert first["schemaVersion"] == "1.0" and abs(first["updateSequenceNumber"] - time.time() * 1000) < 60000
    assert first["lastUpdated"].endswith("Z")


def test_invocation_echoes_many_builds_as_a_count_and_still_masks_the_token(emu, run_module):
    # Given as JSON text, as the module docs suggest for thousands of builds.
    res = run_module("build_info", args(emu, builds=json.dumps(builds(250)), properties={"ciServer": "eu-1"}))
    assert not res.failed, res["msg"]
    echoed = res["invocation"]["module_args"]
    assert echoed["builds"] == "<250 builds>"
    assert echoed["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert echoed["properties"] == {"ciServer": "eu-1"} and echoed["cloud_id"] == CLOUD_ID
    assert TOKEN not in json.dumps(res)
    # A failure after parsing echoes the count too; the token stays masked.
    bad = builds(20)
    bad[3]["state"] = "done"
    res = run_module("build_info", args(emu, builds=bad))
    assert res.failed and res["invocation"]["module_args"]["builds"] == "<20 builds>"
    assert res["invocation"]["module_args"]["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_invocation_echoes_a_few_builds_in_full(emu, run_module):
    few = builds(10)
    res = run_module("build_info", args(emu, builds=few))
    assert not res.failed, res["msg"]
    assert res["invocation"]["module_args"]["builds"][9]["buildNumber"] == 9
    assert res["invocation"]["module_args"]["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_five_invalid_builds_in_100_are_all_reported_and_nothing_is_sent(emu, run_module):
    batch = builds(100)
    batch[3]["state"] = "done"
    del batch[20]["url"]
    batch[41]["issueKeys"] = ["pink-logo"]
    batch[77]["buildNumber"] = "seventy-seven"
    batch[98]["displayName"] = ""
    res = run_module("build_info", args(emu, builds=batch))
    assert res.failed and res["requests"] == 0
    assert res["errors"] == [
        "builds[3].state: 'done' is not one of pending, in_progress, successful, failed, cancelled, unknown",
        "builds[20].url: is required",
        "builds[41].issueKeys[0]: 'pink-logo' does not match ^\\w{1,255}-\\d{1,255}$",
        "builds[77].buildNumber: 'seventy-seven' must be an integer",
        "builds[98].displayName: must not be empty",
    ]
    assert res["msg"].startswith("5 problems found in 100 builds; nothing was sent: builds[3].state: 'done'")
    assert emu.requests() == []


def test_413_is_handled_by_splitting(emu, run_module):
    one = len(json.dumps(builds(1, updateSequenceNumber=1795657666598, lastUpdated="2026-11-26T01:47:46.598Z",
                                schemaVersion="1.0")[0]))
    emu.configure(devops_max_body_bytes=one * 60)  # 100 builds are too large, 50 fit
    res = run_module("build_info", args(emu, builds=builds(250)))
    assert not res.failed, res["msg"]
    statuses = [(r["status"], len(json.loads(r["body"])["builds"])) for r in posts(emu)]
    # After the first 413 the batches still waiting are sent at the size that worked.
    assert statuses == [(413, 100), (202, 50), (202, 50), (202, 50), (202, 50), (202, 50)]
    assert res["requests"] == 6 and len(res["accepted"]) == 250
    assert len(stored(emu, "builds")) == 250


def test_a_build_too_large_alone_is_reported_as_rejected(emu, run_module):
    emu.configure(devops_max_body_bytes=200)
    res = run_module("build_info", args(emu, builds=builds(2)))
    assert res.failed and res["requests"] == 3
    assert [r["key"] for r in res["rejected"]] == [{"pipelineId": "pink-logo", "buildNumber": 0},
                                                   {"pipelineId": "pink-logo", "buildNumber": 1}]
    assert "too large to accept even when sent alone" in res["msg"]


def test_429s_are_waited_out(emu, run_module, fake_clock):
    emu.fault("/jira/builds/0.1/cloud/*/bulk", status=429, retry_after=1, times=2)
    res = run_module("build_info", args(emu, builds=builds(150)))
    assert not res.failed, res["msg"]
    assert fake_clock.waited >= 2.0 and min(fake_clock.sleeps) >= 1.0, \
        f"two Retry-After: 1 replies must be waited out: {fake_clock.sleeps}"
    assert [r["status"] for r in posts(emu)] == [429, 429, 202, 202]
    assert res["requests"] == 4 and len(stored(emu, "builds")) == 150


def test_a_dropped_connection_after_sending_is_retried_since_submissions_are_idempotent(emu, run_module):
    emu.fault("/jira/builds/0.1/cloud/*/bulk", kind="drop", times=1)
    res = run_module("build_info", args(emu, builds=builds(150)))
    assert not res.failed, res["msg"]
    assert res["requests"] == 3 and len(stored(emu, "builds")) == 150


def test_unknown_issue_keys_and_rejections(emu, run_module):
    batch = builds(2)
    batch[0]["issueKeys"] = ["JJ-12", "NOPE-1"]
    batch[1]["issueKeys"] = ["NOPE-2"]
    res = run_module("build_info", args(emu, builds=batch))
    assert res.failed and res["changed"] is True
    assert res["accepted"] == [{"pipelineId": "pink-logo", "buildNumber": 0}]
    assert res["rejected"][0]["key"] == {"pipelineId": "pink-logo", "buildNumber": 1}
    assert "None of the issue keys of this build exist in Jira: NOPE-2" in res["msg"]
    assert res["unknown_issue_keys"] == ["NOPE-1", "NOPE-2"]
    res = run_module("build_info", args(emu, builds=builds(2, start=10, issueKeys=["JJ-12", "NOPE-1"]),
                                        fail_on_rejected=False))
    assert not res.failed and res["unknown_issue_keys"] == ["NOPE-1"]
    res = run_module("build_info", args(emu, builds=builds(1, start=20, issueKeys=["JJ-12", "NOPE-1"]),
                                        fail_on_unknown_issue_keys=True))
    assert res.failed and "unknown issue keys: NOPE-1" in res["msg"] and len(res["accepted"]) == 1


def test_older_updates_are_accepted_but_ignored(emu, run_module):
    run_module("build_info", args(emu, builds=builds(1, updateSequenceNumber=10, state="in_progress")))
    res = run_module("build_info", args(emu, builds=builds(1, updateSequenceNumber=5, state="failed")))
    assert not res.failed and len(res["accepted"]) == 1
    assert stored(emu, "builds")[0]["data"]["state"] == "in_progress"
    run_module("build_info", args(emu, builds=builds(1, updateSequenceNumber=11, state="successful")))
    assert stored(emu, "builds")[0]["data"]["state"] == "successful"


def test_check_mode_validates_and_reports_what_would_be_sent(emu, run_module):
    res = run_module("build_info", args(emu, builds=builds(250), properties={"ci": "jenkins"}), check_mode=True)
    assert not res.failed and res["changed"] is True and res["requests"] == 0
    plan = res["would_send"]
    assert plan["requests"] == 3 and plan["url"].endswith(BULK) and plan["method"] == "POST"
    assert [len(p["builds"]) for p in plan["payloads"]] == [100, 100, 50]
    assert plan["payloads"][0]["properties"] == {"ci": "jenkins"}
    assert emu.requests() == []
    bad = run_module("build_info", args(emu, builds=builds(1, state="done")), check_mode=True)
    assert bad.failed and bad["errors"][0].startswith("builds[0].state")


def test_cloud_id_is_looked_up_from_the_site_without_credentials(emu, run_module):
    res = run_module("build_info", args(emu, cloud_id=None, url=emu.url, builds=builds(1)))
    assert not res.failed, res["msg"]
    assert res["cloud_id"] == CLOUD_ID and res["requests"] == 2
    lookup = emu.requests("/_edge/tenant_info")
    assert len(lookup) == 1 and "Authorization" not in lookup[0]["headers"]


def test_without_cloud_id_or_url_the_option_is_named(emu, run_module):
    res = run_module("build_info", args(emu, cloud_id=None, builds=builds(1)))
    assert res.failed and res["msg"].startswith("cloud_id: give cloud_id (or set JIRA_CLOUD_ID), or url")


def test_wrong_cloud_id_fails_with_jiras_message(emu, run_module):
    res = run_module("build_info", args(emu, cloud_id="00000000-0000-0000-0000-000000000000", builds=builds(1)))
    assert res.failed and res["status"] == 404
    assert "No Jira site with cloud id 00000000-0000-0000-0000-000000000000" in res["msg"]


def test_token_without_the_builds_scope_gets_403(emu, run_module):
    res = run_module("build_info", args(emu, token="ci-token-deployments-only", builds=builds(1)))
    assert res.failed and res["status"] == 403
    assert "returned HTTP 403: permission denied" in res["msg"] and "write:build:jira-software" in res["msg"]
    assert "ci-token-deployments-only" not in json.dumps(res)


def test_basic_auth_is_refused_like_jira(emu, run_module):
    res = run_module("build_info", {"api_url": emu.url, "cloud_id": CLOUD_ID, "username": "alice",
                                    "password": "alice-password", "builds": builds(1)})
    assert res.failed and res["status"] == 403 and "on-premise integrations" in res["msg"]


def test_site_route(emu, run_module):
    res = run_module("build_info", args(emu, cloud_id=None, url=emu.url, api_route="site", builds=builds(3)))
    assert not res.failed and res["url"] == f"{emu.url}/rest/builds/0.1" and res["requests"] == 1
    assert len(stored(emu, "builds")) == 3


def test_delete_by_key_is_idempotent_and_check_mode_deletes_nothing(emu, run_module):
    run_module("build_info", args(emu, builds=builds(3)))
    keys = [{"pipelineId": "pink-logo", "buildNumber": 1}, {"pipelineId": "pink-logo", "buildNumber": 9}]
    res = run_module("build_info", args(emu, state="absent", builds=keys), check_mode=True)
    assert res["changed"] is True and res["deleted"] == [keys[0]] and len(stored(emu, "builds")) == 3
    res = run_module("build_info", args(emu, state="absent", builds=keys))
    assert res["changed"] is True and res["deleted"] == [keys[0]]
    assert sorted(i["data"]["buildNumber"] for i in stored(emu, "builds")) == [0, 2]
    res = run_module("build_info", args(emu, state="absent", builds=keys))
    assert res["changed"] is False and res["deleted"] == []


def test_delete_without_read_scope_still_deletes(emu, run_module):
    run_module("build_info", args(emu, builds=builds(1)))
    res = run_module("build_info", args(emu, token="ci-token-builds-write-only", state="absent",
                                        builds=[{"pipelineId": "pink-logo", "buildNumber": 0}]))
    assert not res.failed and res["changed"] is True and stored(emu, "builds") == []


def test_delete_by_properties(emu, run_module):
    run_module("build_info", args(emu, builds=builds(2), properties={"ci": "jenkins-eu"}))
    run_module("build_info", args(emu, builds=builds(1, start=5), properties={"ci": "gitlab"}))
    res = run_module("build_info", args(emu, state="absent", properties={"ci": "jenkins-eu"}))
    assert res["changed"] is True and res["deleted"] == [{"properties": {"ci": "jenkins-eu"}}]
    assert [i["data"]["buildNumber"] for i in stored(emu, "builds")] == [5]
    assert emu.requests("/jira/builds/0.1/cloud/")[-1]["query"] == "ci=jenkins-eu"


def test_absent_needs_exactly_one_selector(emu, run_module):
    res = run_module("build_info", args(emu, state="absent"))
    assert res.failed and res["msg"].startswith("builds: state=absent needs builds")
    res = run_module("build_info", args(emu, state="absent", builds=builds(1), properties={"a": "b"}))
    assert res.failed and "not both" in res["msg"]


def test_empty_list_sends_nothing(emu, run_module):
    res = run_module("build_info", args(emu, builds=[]))
    assert not res.failed and res["changed"] is False and res["requests"] == 0 and emu.requests() == []


def test_bad_properties_are_reported_before_sending(emu, run_module):
    res = run_module("build_info", args(emu, builds=builds(1), properties={"_secret": "x"}))
    assert res.failed and res["errors"] == ["properties._secret: keys must not start with '_'"]
    assert emu.requests() == []


def test_malformed_request_answer_is_reported(emu, run_module):
    emu.fault(BULK, status=400, body=[{"message": "Request has incorrect format."}])
    res = run_module("build_info", args(emu, builds=builds(1)))
    assert res.failed and res["status"] == 400 and "Request has incorrect format." in res["msg"]


# -- deployments -----------------------------------------------------------------------------------------------------
def deployment(n=1, env="staging", **kw):
    d = {"deploymentSequenceNumber": n, "displayName": f"pink-logo {n}", "description": "by Ansible",
         "url": f"https://ci.example.com/deploy/{n}", "state": "successful",
         "pipeline": {"id": "deploy", "displayName": "Deploy", "url": "https://ci.example.com/deploy"},
         "environment": {"id": env, "displayName": env.title(), "type": "staging"},
         "associations": [{"associationType": "issueIdOrKeys", "values": ["JJ-12"]}]}
    d.update(kw)
    return d


def test_deployment_submitted_and_read_back(emu, run_module):
    res = run_module("deployment_info", args(emu, deployments=[deployment(1), deployment(2)]))
    assert not res.failed, res["msg"]
    assert res["accepted"] == [{"pipelineId": "deploy", "environmentId": "staging", "deploymentSequenceNumber": 1},
                               {"pipelineId": "deploy", "environmentId": "staging", "deploymentSequenceNumber": 2}]
    assert res["unknown_associations"] == [] and "gating_status" not in res
    assert len(stored(emu, "deployments")) == 2


def test_deployment_waits_for_gating(emu, run_module):
    emu.configure(devops_gating_polls=2, devops_gating_outcome="allowed")
    res = run_module("deployment_info", args(emu, deployments=[deployment(5, env="production")],
                                             wait_for_gating=True, gating_interval=0.05, gating_timeout=5))
    assert not res.failed, res["msg"]
    assert [s["gatingStatus"] for s in res["gating_status"]] == ["allowed"]
    gating_reads = emu.requests("/jira/deployments/0.1/cloud/")
    # Jira's first read after the submission is a 404 (the status is not there yet), then awaiting twice, allowed.
    assert [r["status"] for r in gating_reads if r["path"].endswith("/gating-status")] == [404, 200, 200, 200]
    sent = json.loads(posts(emu, f"/jira/deployments/0.1/cloud/{CLOUD_ID}/bulk")[0]["body"])
    assert sent["deployments"][0]["commands"] == [{"command": "initiate_deployment_gating"}]


def test_deployment_prevented_by_gating_fails(emu, run_module):
    emu.configure(devops_gating_polls=0, devops_gating_outcome="prevented")
    res = run_module("deployment_info", args(emu, deployments=[deployment(6)], wait_for_gating=True,
                                             gating_interval=0.05))
    assert res.failed and "deployment gating did not allow deploy/staging/6 (prevented)" in res["msg"]
    assert res["gating_status"][0]["gatingStatus"] == "prevented"


def test_deployment_gating_timeout(emu, run_module):
    emu.configure(devops_gating_polls=1000)
    res = run_module("deployment_info", args(emu, deployments=[deployment(7)], wait_for_gating=True,
                                             gating_interval=0.1, gating_timeout=0.35))
    assert res.failed and "still awaiting after 0.35s" in res["msg"]
    assert res["gating_status"][0]["gatingStatus"] == "awaiting"


def test_deployment_validation_and_delete(emu, run_module):
    bad = deployment(1)
    del bad["associations"]
    bad["environment"]["type"] = "prod"
    res = run_module("deployment_info", args(emu, deployments=[bad]))
    assert res.failed and res["errors"] == [
        "deployments[0].environment.type: 'prod' is not one of unmapped, development, testing, staging, production",
        "deployments[0]: give associations (preferred) or issueKeys; one of them is required",
    ]
    run_module("deployment_info", args(emu, deployments=[deployment(1)]))
    key = {"deploymentSequenceNumber": 1, "pipeline": {"id": "deploy"}, "environment": {"id": "staging"}}
    res = run_module("deployment_info", args(emu, state="absent", deployments=[key]))
    assert res["changed"] is True and stored(emu, "deployments") == []


# -- development information ------------------------------------------------------------------------------------------
def commit(i, **kw):
    c = {"id": f"c{i:05d}", "issueKeys": ["JJ-12"], "message": f"JJ-12 change {i}", "author": {"name": "Alice"},
         "fileCount": 1, "url": f"https://git.example.com/c/{i}", "authorTimestamp": "2024-05-01T12:30:00Z",
         "displayId": f"c{i}"}
    c.update(kw)
    return c


def repo(name, n_commits):
    return {"id": name, "name": name, "url": f"https://git.example.com/{name}",
            "commits": [commit(i) for i in range(n_commits)]}


def test_devinfo_splits_to_the_per_repository_and_per_request_limits(emu, run_module):
    repos = [repo("big", 900), repo("small", 150), repo("empty", 0)]
    res = run_module("devinfo", args(emu, repositories=repos, properties={"ci": "bitbucket-dc"}))
    assert not res.failed, res["msg"]
    bodies = [json.loads(r["body"]) for r in posts(emu, f"/jira/devinfo/0.1/cloud/{CLOUD_ID}/bulk")]
    shape = [[(r["id"], len(r.get("commits", []))) for r in b["repositories"]] for b in bodies]
    # The first request goes alone; the other two go out together, in either order.
    assert shape[0] == [("big", 400)]
    assert sorted(shape[1:]) == [[("big", 100), ("small", 150), ("empty", 0)], [("big", 400)]]
    assert all(sum(len(r.get("commits", [])) for r in b["repositories"]) <= 1000 for b in bodies)
    by_repo = {a["repositoryId"]: a for a in res["accepted"]}
    assert len(by_repo["big"]["commits"]) == 900 and len(by_repo["small"]["commits"]) == 150 and "empty" in by_repo
    stored_repos = {r["key"]: r for r in stored(emu, "repositories")}
    assert len(stored_repos["big"]["data"]["commits"]) == 400  # GET shows the most recent 400, as Jira does
    assert emu.state.features["devops"]["repositories"]["big"]["commits"].__len__() == 900


def test_devinfo_1000_entity_cap_across_repositories(emu, run_module):
    repos = [repo(f"r{i}", 300) for i in range(5)]
    res = run_module("devinfo", args(emu, repositories=repos))
    assert not res.failed, res["msg"]
    totals = [sum(len(r.get("commits", [])) for r in json.loads(x["body"])["repositories"])
              for x in posts(emu, f"/jira/devinfo/0.1/cloud/{CLOUD_ID}/bulk")]
    assert totals == [1000, 500]


def test_devinfo_entity_failures_and_deletes(emu, run_module):
    r = repo("pink", 2)
    r["pullRequests"] = [{"id": "17", "issueKeys": ["JJ-12"], "status": "OPEN", "title": "JJ-12", "author": {},
                          "commentCount": 0, "sourceBranch": "feature/JJ-12", "lastUpdate": "2024-05-01T12:30:00Z",
                          "url": "https://git.example.com/pr/17", "displayId": "#17"}]
    res = run_module("devinfo", args(emu, repositories=[r], prevent_transitions=True, operation_type="BACKFILL"))
    assert not res.failed, res["msg"]
    body = json.loads(posts(emu, f"/jira/devinfo/0.1/cloud/{CLOUD_ID}/bulk")[0]["body"])
    assert body["preventTransitions"] is True and body["operationType"] == "BACKFILL"
    res = run_module("devinfo", args(emu, state="absent", repositories=[{"id": "pink", "commits": [{"id": "c00001"}]}]))
    assert res["deleted"] == [{"repositoryId": "pink", "type": "commits", "id": "c00001"}]
    assert list(emu.state.features["devops"]["repositories"]["pink"]["commits"]) == ["c00000"]
    res = run_module("devinfo", args(emu, state="absent", repositories=[{"id": "pink"}]))
    assert res["changed"] is True and stored(emu, "repositories") == []
    res = run_module("devinfo", args(emu, state="absent", repositories=[{"id": "pink"}]))
    assert res["changed"] is False


def test_devinfo_delete_by_properties_checks_existence_first(emu, run_module):
    run_module("devinfo", args(emu, repositories=[repo("a", 1)], properties={"account": "42"}))
    res = run_module("devinfo", args(emu, state="absent", properties={"account": "7"}))
    assert res["changed"] is False
    res = run_module("devinfo", args(emu, state="absent", properties={"account": 42}))
    assert res["changed"] is True and stored(emu, "repositories") == []


# -- feature flags ---------------------------------------------------------------------------------------------------
def flag(flag_id, keys=("JJ-12",)):
    status = {"enabled": True, "rollout": {"percentage": 25}}
    return {"id": flag_id, "key": flag_id, "issueKeys": list(keys), "summary": {"status": status},
            "details": [{"url": f"https://flags.example.com/{flag_id}", "environment": {"name": "production"},
                         "status": status}]}


def test_feature_flags_submit_reject_and_delete(emu, run_module):
    res = run_module("feature_flag", args(emu, flags=[flag("pink-logo"), flag("ghost", keys=["NOPE-1"])],
                                          fail_on_rejected=False))
    assert not res.failed, res["msg"]
    assert res["accepted"] == ["pink-logo"] and res["rejected"][0]["key"] == "ghost"
    assert res["unknown_issue_keys"] == ["NOPE-1"]
    data = stored(emu, "flags")[0]["data"]
    assert data["summary"]["lastUpdated"].endswith("Z") and data["schemaVersion"] == "1.0"
    res = run_module("feature_flag", args(emu, state="absent", flags=[{"id": "pink-logo"}]))
    assert res["changed"] is True and stored(emu, "flags") == []
