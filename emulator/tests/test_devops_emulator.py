"""The emulator's DevOps APIs answered over raw HTTP, independently of the collection's modules."""
from __future__ import annotations

import threading
import time

import pytest
import requests

CLOUD_ID = "11111111-2222-3333-4444-555555555555"
WRITER = "tok-devops-writer"
READER = "tok-devops-reader"

BUILD = {"pipelineId": "p", "buildNumber": 1, "updateSequenceNumber": 5, "displayName": "p #1",
         "url": "https://ci.example.com/p/1", "state": "successful", "lastUpdated": "2024-05-01T12:30:00Z",
         "issueKeys": ["JJ-12"]}


@pytest.fixture
def emu(emulator):
    names = ("build", "deployment", "source-code", "feature-flag")
    writes = [f"{verb}:{name}:jira-software" for verb in ("read", "write") for name in names]
    emulator.seed(bearer_tokens={
        WRITER: {"user": "alice", "scopes": writes, "expires_at": None, "client_id": "ci"},
        READER: {"user": "alice", "scopes": ["read:build:jira-software"], "expires_at": None, "client_id": "ci"},
        "tok-connect": {"user": "alice", "scopes": ["READ", "WRITE", "DELETE"], "expires_at": None, "client_id": "c"},
    })
    return emulator


def call(emu, method, path, token=WRITER, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, emu.url + path, headers=headers, timeout=10, **kw)


def gateway(api, rest=""):
    return f"/jira/{api}/0.1/cloud/{CLOUD_ID}{rest}"


@pytest.mark.parametrize("prefix", [gateway("builds"), "/rest/builds/0.1"])
def test_builds_round_trip_on_both_route_styles(emu, prefix):
    resp = call(emu, "POST", prefix + "/bulk", json={"builds": [BUILD], "properties": {"ci": "j1"}})
    assert resp.status_code == 202
    assert resp.json() == {"acceptedBuilds": [{"pipelineId": "p", "buildNumber": 1}], "rejectedBuilds": [],
                           "unknownIssueKeys": []}
    got = call(emu, "GET", prefix + "/pipelines/p/builds/1")
    assert got.status_code == 200 and got.json() == BUILD  # properties are never returned
    assert call(emu, "DELETE", prefix + "/pipelines/p/builds/1").status_code == 202
    assert call(emu, "GET", prefix + "/pipelines/p/builds/1").status_code == 404


def test_per_item_rejection_in_a_202(emu):
    bad = dict(BUILD, buildNumber=2, state="done")
    resp = call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD, bad]})
    assert resp.status_code == 202
    body = resp.json()
    assert body["acceptedBuilds"] == [{"pipelineId": "p", "buildNumber": 1}]
    assert body["rejectedBuilds"][0]["key"] == {"pipelineId": "p", "buildNumber": 2}
    assert "state must be one of" in body["rejectedBuilds"][0]["errors"][0]["message"]


@pytest.mark.parametrize("body,text", [
    ({"builds": []}, "'builds' must contain between 1 and 100 items (got 0)"),
    ({"builds": [BUILD] * 101}, "'builds' must contain between 1 and 100 items (got 101)"),
    ({"nothing": 1}, "'builds' is required and must be an array."),
    ({"builds": ["x"]}, "Every item of 'builds' must be an object."),
    ({"builds": [BUILD], "properties": {"_a": "1"}}, "Property keys must not start with '_' (got '_a')"),
    ({"builds": [BUILD], "properties": dict.fromkeys("abcdef", "1")}, "A maximum of 5 properties can be supplied"),
])
def test_malformed_requests_get_400_with_error_messages(emu, body, text):
    resp = call(emu, "POST", gateway("builds", "/bulk"), json=body)
    assert resp.status_code == 400
    assert isinstance(resp.json(), list) and text in resp.json()[0]["message"]


def test_bad_json_and_content_type(emu):
    resp = call(emu, "POST", gateway("builds", "/bulk"), data="{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    resp = call(emu, "POST", gateway("builds", "/bulk"), data="builds", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415


def test_413_threshold_is_configurable(emu):
    emu.configure(devops_max_body_bytes=100)
    resp = call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD]})
    assert resp.status_code == 413 and "too large" in resp.json()[0]["message"]
    emu.configure(devops_max_body_bytes=10 ** 6)
    assert call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD]}).status_code == 202


def test_scopes(emu):
    # A read-only token may read but not write; a token for another API gets nothing.
    assert call(emu, "POST", gateway("builds", "/bulk"), token=READER, json={"builds": [BUILD]}).status_code == 403
    assert call(emu, "GET", gateway("builds", "/pipelines/p/builds/1"), token=READER).status_code == 404
    resp = call(emu, "POST", gateway("deployments", "/bulk"), token=READER, json={"deployments": []})
    assert resp.status_code == 403 and "write:deployment:jira-software" in resp.json()[0]["message"]
    # Connect-style scopes work too.
    assert call(emu, "POST", gateway("builds", "/bulk"), token="tok-connect", json={"builds": [BUILD]}).status_code == 202
    # Anonymous, unknown and non-OAuth credentials.
    assert call(emu, "POST", gateway("builds", "/bulk"), token=None, json={"builds": [BUILD]}).status_code == 401
    assert call(emu, "POST", gateway("builds", "/bulk"), token="nope", json={"builds": [BUILD]}).status_code == 401
    resp = requests.post(emu.url + gateway("builds", "/bulk"), json={"builds": [BUILD]}, timeout=10,
                         auth=("alice", "alice-password"))
    assert resp.status_code == 403 and "jiraBuildInfoProvider" in resp.json()[0]["message"]


def test_wrong_cloud_id_is_404(emu):
    resp = call(emu, "POST", "/jira/builds/0.1/cloud/nope/bulk", json={"builds": [BUILD]})
    assert resp.status_code == 404


def test_sequence_numbers_order_updates(emu):
    call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [dict(BUILD, state="in_progress")]})
    resp = call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [dict(BUILD, state="failed")]})
    assert resp.json()["acceptedBuilds"] == [{"pipelineId": "p", "buildNumber": 1}]  # equal: accepted, ignored
    assert call(emu, "GET", gateway("builds", "/pipelines/p/builds/1")).json()["state"] == "in_progress"
    call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [dict(BUILD, state="failed", updateSequenceNumber=6)]})
    assert call(emu, "GET", gateway("builds", "/pipelines/p/builds/1")).json()["state"] == "failed"


def test_unknown_issue_keys(emu):
    mixed = dict(BUILD, issueKeys=["JJ-12", "UTF-8"])
    only_unknown = dict(BUILD, buildNumber=2, issueKeys=["NOPE-1"])
    body = call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [mixed, only_unknown]}).json()
    assert body["unknownIssueKeys"] == ["UTF-8", "NOPE-1"]
    assert body["acceptedBuilds"] == [{"pipelineId": "p", "buildNumber": 1}]
    assert body["rejectedBuilds"][0]["key"]["buildNumber"] == 2
    emu.seed(issues=[{"key": "NOPE-1", "summary": "now it exists"}])
    body = call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [only_unknown]}).json()
    assert body["rejectedBuilds"] == [] and body["unknownIssueKeys"] == []


def test_delete_by_properties_needs_a_property(emu):
    call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD], "properties": {"a": "1", "b": "2"}})
    assert call(emu, "DELETE", gateway("builds", "/bulkByProperties")).status_code == 400
    assert call(emu, "DELETE", gateway("builds", "/bulkByProperties?a=1&b=3")).status_code == 202
    assert emu.control("GET", "/devops/builds")["count"] == 1
    assert call(emu, "DELETE", gateway("builds", "/bulkByProperties?a=1&b=2")).status_code == 202
    assert emu.control("GET", "/devops/builds")["count"] == 0


DEPLOYMENT = {"deploymentSequenceNumber": 4, "updateSequenceNumber": 1, "displayName": "d", "description": "d",
              "url": "https://ci/d/4", "lastUpdated": "2024-05-01T12:30:00Z", "state": "successful",
              "pipeline": {"id": "pl", "displayName": "PL", "url": "https://ci/pl"},
              "environment": {"id": "prod", "displayName": "Prod", "type": "production"},
              "associations": [{"associationType": "issueIdOrKeys", "values": ["JJ-12", "GONE-1"]}],
              "commands": [{"command": "initiate_deployment_gating"}]}


def test_deployments_unknown_associations_and_gating(emu):
    emu.configure(devops_gating_polls=1)
    body = call(emu, "POST", "/rest/deployments/0.1/bulk", json={"deployments": [DEPLOYMENT]}).json()
    assert body["unknownIssueKeys"] == ["GONE-1"]
    assert body["unknownAssociations"] == [{"associationType": "issueIdOrKeys", "values": ["GONE-1"]}]
    path = "/rest/deployments/0.1/pipelines/pl/environments/prod/deployments/4/gating-status"
    first = call(emu, "GET", path)
    assert first.status_code == 404 and first.json() == [{"message": "No data found for the given deployment ID."}]
    assert call(emu, "GET", path).json()["gatingStatus"] == "awaiting"
    assert call(emu, "GET", path).json()["gatingStatus"] == "allowed"
    emu.control("POST", "/devops/gating", json={"pipelineId": "pl", "environmentId": "prod",
                                                "deploymentSequenceNumber": 4, "gatingStatus": "prevented"})
    emu.configure(devops_gating_polls=5)
    assert call(emu, "GET", path).json()["gatingStatus"] == "prevented"
    assert call(emu, "GET", path.replace("/4/", "/5/")).status_code == 404


def test_gating_status_404_count_is_configurable(emu):
    emu.configure(devops_gating_polls=0, devops_gating_not_found_reads=3)
    call(emu, "POST", "/rest/deployments/0.1/bulk", json={"deployments": [DEPLOYMENT]})
    path = "/rest/deployments/0.1/pipelines/pl/environments/prod/deployments/4/gating-status"
    assert [call(emu, "GET", path).status_code for _read in range(4)] == [404, 404, 404, 200]


def test_devinfo_request_rules(emu):
    path = gateway("devinfo", "/bulk")
    resp = call(emu, "POST", path, json={"repositories": []})
    assert resp.status_code == 400 and "errorMessages" in resp.json()
    repo = {"id": "r", "name": "r", "url": "https://git/r", "updateSequenceId": 1,
            "commits": [{"id": f"c{i}", "issueKeys": ["JJ-12"], "updateSequenceId": 1, "message": "m",
                         "author": {}, "fileCount": 0, "url": "https://git/c", "authorTimestamp": "2024-05-01T12:30:00Z",
                         "displayId": "c"} for i in range(401)]}
    body = call(emu, "POST", path, json={"repositories": [repo]}).json()
    assert "must contain at most 400 items" in body["failedDevinfoEntities"]["r"]["errorMessages"][0]["message"]
    repo["commits"] = repo["commits"][:2] + [dict(repo["commits"][0])]
    body = call(emu, "POST", path, json={"repositories": [repo]}).json()
    assert body["acceptedDevinfoEntities"] == {"r": {"commits": ["c0", "c1"]}}
    assert "Duplicate commits id 'c0'" in body["failedDevinfoEntities"]["r"]["commits"][0]["errorMessages"][-1]["message"]
    assert call(emu, "POST", path, json={"repositories": [repo, repo]}).status_code == 400
    commits_300 = [dict(repo["commits"][0], id=f"x{j}") for j in range(300)]
    many = [dict(repo, id=f"r{i}", commits=commits_300) for i in range(4)]  # 1200 entities in one request
    resp = call(emu, "POST", path, json={"repositories": many})
    assert resp.status_code == 400 and "At most 1000 entities" in resp.json()["errorMessages"][0]["message"]
    assert call(emu, "DELETE", gateway("devinfo", "/repository/r/tag/c0")).status_code == 400


def test_tenant_info(emu):
    resp = requests.get(emu.url + "/_edge/tenant_info", timeout=10)
    assert resp.status_code == 200 and resp.json() == {"cloudId": CLOUD_ID}


def test_ids_with_slashes_are_addressable(emu):
    build = dict(BUILD, pipelineId="jj/pink-logo")
    assert call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [build]}).status_code == 202
    assert call(emu, "GET", gateway("builds", "/pipelines/jj%2Fpink-logo/builds/1")).json()["pipelineId"] == "jj/pink-logo"
    deployment = dict(DEPLOYMENT, pipeline=dict(DEPLOYMENT["pipeline"], id="jj/deploy"),
                      environment=dict(DEPLOYMENT["environment"], id="eu/prod"))
    assert call(emu, "POST", gateway("deployments", "/bulk"), json={"deployments": [deployment]}).status_code == 202
    path = gateway("deployments", "/pipelines/jj%2Fdeploy/environments/eu%2Fprod/deployments/4")
    assert call(emu, "GET", path).status_code == 200
    assert call(emu, "GET", path + "/gating-status").status_code == 404  # not readable at once, like Jira
    assert call(emu, "GET", path + "/gating-status").json()["environmentId"] == "eu/prod"


def test_concurrency_counts_bulk_submissions_in_flight_on_every_route(emu):
    """Parallel bulk POSTs (slowed by a delay fault) are counted from arrival to reply; other calls are not."""
    emu.fault("*/bulk", method="POST", kind="delay", delay=0.3, times=-1)
    paths = [gateway("builds", "/bulk"), "/rest/builds/0.1/bulk", gateway("featureflags", "/bulk"),
             "/rest/devinfo/0.10/bulk"]
    statuses = []
    threads = [threading.Thread(target=lambda p=p: statuses.append(call(emu, "POST", p, json={}).status_code))
               for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(statuses) == [400] * 4
    call(emu, "GET", gateway("builds", "/pipelines/p/builds/1"))
    assert emu.control("GET", "/devops/concurrency") == {"in_flight": 0, "max_in_flight": 4, "bulk_requests": 4}
    assert emu.control("DELETE", "/devops/concurrency")["max_in_flight"] == 0
    call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD]})
    assert emu.control("GET", "/devops/concurrency") == {"in_flight": 0, "max_in_flight": 1, "bulk_requests": 1}
    emu.control("POST", "/reset")
    assert emu.control("GET", "/devops/concurrency") == {"in_flight": 0, "max_in_flight": 0, "bulk_requests": 0}


def test_a_latency_fault_holds_each_reply_until_that_long_after_its_arrival(emu):
    """``latency`` is a response time: processing happens inside it, the reply never leaves sooner."""
    emu.fault("*/bulk", method="POST", kind="latency", delay=0.3, times=-1)
    elapsed, statuses = [], []

    def post():
        started = time.monotonic()
        statuses.append(call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD]}).status_code)
        elapsed.append(time.monotonic() - started)

    threads = [threading.Thread(target=post) for _i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert statuses == [202] * 4 and min(elapsed) >= 0.3
    assert emu.control("GET", "/devops/concurrency")["max_in_flight"] == 4, "held while in the app, not queued"
    logged = emu.requests(gateway("builds", "/bulk"))
    assert [entry["fault"] for entry in logged] == ["latency"] * 4
    assert min(entry["elapsed"] for entry in logged) >= 0.3
    assert call(emu, "GET", gateway("builds", "/pipelines/" + BUILD["pipelineId"] + "/builds/"
                                    + str(BUILD["buildNumber"]))).status_code == 200


def test_fields_the_spec_does_not_name_are_accepted_and_kept_like_jira(emu):
    # The published schemas set no additionalProperties (JSON Schema: other fields are allowed), and Atlassian's
    # SDKs send newer fields such as deployments' triggeredBy: Jira takes them.
    build = dict(BUILD, triggeredBy={"accountId": "abc"}, references=[
        {"commit": {"id": "a" * 40, "repositoryUri": "https://git.example.com/p", "branchName": "main"}}])
    body = call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [build]}).json()
    assert body["acceptedBuilds"] == [{"pipelineId": "p", "buildNumber": 1}] and body["rejectedBuilds"] == []
    stored = call(emu, "GET", gateway("builds", "/pipelines/p/builds/1")).json()
    assert stored["triggeredBy"] == {"accountId": "abc"} and stored["references"][0]["commit"]["branchName"] == "main"
    deployment = dict(DEPLOYMENT, triggeredBy={"accountId": "abc"}, pipeline=dict(DEPLOYMENT["pipeline"], extra=1))
    body = call(emu, "POST", gateway("deployments", "/bulk"), json={"deployments": [deployment]}).json()
    assert body["rejectedDeployments"] == [] and len(body["acceptedDeployments"]) == 1


def test_unconfirmed_replies_are_202_with_an_empty_body_and_store_nothing(emu):
    emu.configure(devops_unconfirmed_replies=1)
    first = call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD]})
    assert first.status_code == 202 and first.content == b""
    assert emu.control("GET", "/devops/builds")["count"] == 0
    second = call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD]})
    assert second.status_code == 202 and second.json()["acceptedBuilds"] == [{"pipelineId": "p", "buildNumber": 1}]


def test_each_site_keeps_its_own_data(emu):
    other = "22222222-3333-4444-5555-666666666666"
    emu.configure(extra_sites=[{"id": other, "url": "https://pink-b.atlassian.net", "name": "pink-b"}])
    assert call(emu, "POST", gateway("builds", "/bulk"), json={"builds": [BUILD]}).status_code == 202
    elsewhere = f"/jira/builds/0.1/cloud/{other}/pipelines/p/builds/1"
    missing = call(emu, "GET", elsewhere)
    assert missing.status_code == 404 and missing.json() == [{"message": "No build data found for the given key."}]
    assert call(emu, "GET", "/rest/builds/0.1/pipelines/p/builds/1").json() == BUILD   # the main site's route
    later = dict(BUILD, state="failed")
    assert call(emu, "POST", f"/jira/builds/0.1/cloud/{other}/bulk", json={"builds": [later]}).status_code == 202
    assert call(emu, "GET", elsewhere).json() == later
    assert call(emu, "GET", gateway("builds", "/pipelines/p/builds/1")).json() == BUILD
    assert [i["data"]["state"] for i in emu.control("GET", "/devops/builds")["builds"]] == ["successful"]
    listed = emu.control("GET", "/devops/builds", params={"cloud_id": other})["builds"]
    assert [i["data"]["state"] for i in listed] == ["failed"]
