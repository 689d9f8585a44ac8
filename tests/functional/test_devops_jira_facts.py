"""The DevOps modules against what Jira Cloud really does (issue 10 items 5-7, issue 11's unconfirmed replies)."""
from __future__ import annotations

import json

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
TOKEN_SCOPES = {"user": "alice", "expires_at": None, "client_id": "ci", "scopes": [
    f"{verb}:{name}:jira-software" for verb in ("read", "write") for name in ("build", "deployment", "source-code",
                                                                             "feature-flag")]}
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
