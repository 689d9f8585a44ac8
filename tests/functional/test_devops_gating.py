"""The deployment gating wait runs on the client's clock: minutes of polling pass in no real time."""
from __future__ import annotations

import time

import pytest

from clock_support import FakeClock
from devops_support import CLOUD_ID, TOKEN
from ansible_collections.jiraops.integration.plugins.module_utils import _devops
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError
from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client

GATING = f"/jira/deployments/0.1/cloud/{CLOUD_ID}/pipelines/deploy/environments/production/deployments/"
SCOPES = ["read:deployment:jira-software", "write:deployment:jira-software"]


def deployment(n):
    return {"deploymentSequenceNumber": n, "displayName": f"pink-logo {n}", "description": "by Ansible",
            "url": f"https://ci.example.com/deploy/{n}", "state": "successful",
            "pipeline": {"id": "deploy", "displayName": "Deploy", "url": "https://ci.example.com/deploy"},
            "environment": {"id": "production", "displayName": "Production", "type": "production"},
            "associations": [{"associationType": "issueIdOrKeys", "values": ["JJ-12"]}]}


def submit_gated(emulator, n, clock, timeout, interval):
    """Submit one gated deployment as the module does, then wait for its gating on ``clock``."""
    emulator.seed(bearer_tokens={TOKEN: {"user": "alice", "expires_at": None, "client_id": "ci", "scopes": SCOPES}})
    api = _devops.APIS["deployments"]
    params = {"wait_for_gating": True, "gating_timeout": timeout, "gating_interval": interval}
    entities = [deployment(n)]
    api.apply_defaults(entities)
    api.prepare(entities, params)
    assert api.validate(entities) == []
    client = build_client({"api_url": emulator.url, "token": TOKEN, "timeout": 10, "retry_budget": 20}, clock=clock)
    base = api.base_url(client, "cloud", CLOUD_ID)
    outcome = _devops.Outcome()
    _devops.submit(client, api, base, entities, {}, outcome)
    assert outcome.accepted == [{"pipelineId": "deploy", "environmentId": "production", "deploymentSequenceNumber": n}]
    return api, params, client, base, outcome


def test_gating_waits_its_interval_on_the_clients_clock(emulator):
    emulator.configure(devops_gating_polls=3, devops_gating_outcome="allowed")
    clock = FakeClock()
    api, params, client, base, outcome = submit_gated(emulator, 8, clock, timeout=600, interval=30)
    started = time.monotonic()
    api.after_submit(params, client, base, outcome)
    assert time.monotonic() - started < 5, "the 30 s intervals were slept for real"
    assert [s["gatingStatus"] for s in outcome.gating_status] == ["allowed"]
    reads = [r["status"] for r in emulator.requests(f"{GATING}8/gating-status")]
    assert reads[0] == 404 and reads[-1] == 200 and len(reads) >= 4
    assert clock.sleeps == [30] * (len(reads) - 1)


def test_gating_gives_up_at_gating_timeout_as_the_clock_tells(emulator):
    emulator.configure(devops_gating_polls=1000)
    clock = FakeClock()
    api, params, client, base, outcome = submit_gated(emulator, 9, clock, timeout=60, interval=10)
    started = time.monotonic()
    with pytest.raises(JiraError) as caught:
        api.after_submit(params, client, base, outcome)
    assert time.monotonic() - started < 5
    assert str(caught.value) == ("deployment gating still awaiting after 60s for deploy/production/9 (raise "
                                 "gating_timeout, or approve the change request in Jira)")
    # Reads at 0, 10, ..., 60 s: the next interval would pass the deadline.
    assert clock.sleeps == [10] * 6 and len(emulator.requests(f"{GATING}9/gating-status")) == 7
    assert [s["gatingStatus"] for s in outcome.gating_status] == ["awaiting"]
