"""The backfill role replays a tagged history into Jira from a real git repository: batches with progress, the
commit time as sequence number (so a build reported live stays newer), a CI export's numbers, and a re-run that
sends nothing."""
from __future__ import annotations

import time

import pytest
import requests

from roles_support import CLOUD_ID, TOKEN, emu, git, playbook, repo  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.slow


def test_backfill_tags_in_batches_idempotent_and_never_over_newer_data(emu, repo, tmp_path):
    git(repo, "tag", "v1.0")                                   # JJ-12 branch commits: JJ-2, OPS-7
    git(repo, "commit", "-q", "--allow-empty", "-m", "JJ-3 faster logo")
    git(repo, "tag", "-a", "v1.1", "-m", "release 1.1")
    git(repo, "commit", "-q", "--allow-empty", "-m", "Tidy up")  # no key: counts for v1.2 with the next one
    git(repo, "commit", "-q", "--allow-empty", "-m", "JJ-1 smaller")
    git(repo, "tag", "v1.2")
    git(repo, "tag", "other-1")                                # not matched by v*
    v11 = git(repo, "rev-parse", "v1.1^{commit}")
    export = tmp_path / "jenkins-builds.csv"
    export.write_text(f"number,commit,state,url\n41,{v11[:10]},FAILURE,https://ci.example.com/job/pink-logo/41/\n")
    # Build #3 (v1.2's position) was reported live a moment ago: the backfill must not replace it.
    live = {"pipelineId": "pink-logo", "buildNumber": 3, "updateSequenceNumber": int(time.time() * 1000),
            "displayName": "live", "url": "https://ci.example.com/live/3", "state": "in_progress",
            "lastUpdated": "2026-12-01T00:00:00.000Z", "issueKeys": ["JJ-1"], "schemaVersion": "1.0"}
    reply = requests.post(f"{emu.url}/jira/builds/0.1/cloud/{CLOUD_ID}/bulk", json={"builds": [live]}, timeout=10,
                          headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 202, reply.text
    env = {"JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN, "JIRA_GIT_REPO": str(repo)}
    args = ["-e", "backfill_tags=v*", "-e", "backfill_pipeline_id=pink-logo", "-e", "backfill_batch_size=2",
            "-e", "backfill_url=https://ci.example.com/job/pink-logo/{number}/", "-e", f"backfill_export={export}",
            "-e", "backfill_environment_name=eu-prod"]

    proc = playbook("report_backfill", env, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in ("backfill builds 1-2 of 3 (batch 1): 2 accepted, 0 rejected",
                 "backfill builds 3-3 of 3 (batch 2): 1 accepted, 0 rejected",
                 "backfill deployments 1-2 of 3 (batch 3): 2 accepted, 0 rejected",
                 "backfill pink-logo: 3 builds and 3 deployments with issue keys in the tags v*; 4 batches sent, 0 "
                 "already sent before"):
        assert line in proc.stdout, proc.stdout
    builds = {b["data"]["buildNumber"]: b["data"] for b in emu.control("GET", "/devops/builds")["builds"]}
    assert sorted(builds) == [1, 3, 41]
    assert builds[1]["issueKeys"] == ["JJ-2", "OPS-7"] and builds[1]["label"] == "v1.0"
    assert builds[1]["references"] == [{"commit": {"id": git(repo, "rev-parse", "v1.0"),
                                                   "repositoryUri": "https://git.example.com/jj/pink-logo.git"}}]
    assert builds[1]["updateSequenceNumber"] == int(git(repo, "log", "-1", "--format=%ct", "v1.0")) * 1000
    assert builds[41]["issueKeys"] == ["JJ-3"] and builds[41]["state"] == "failed"
    assert builds[41]["url"] == "https://ci.example.com/job/pink-logo/41/"
    assert builds[3] == live  # the newer live report is kept
    deployments = emu.control("GET", "/devops/deployments")["deployments"]
    assert sorted(d["data"]["deploymentSequenceNumber"] for d in deployments) == [1, 3, 41]
    assert {d["data"]["environment"]["type"] for d in deployments} == {"production"}
    assert [d["data"]["associations"] for d in deployments if d["data"]["deploymentSequenceNumber"] == 3] == [
        [{"associationType": "issueIdOrKeys", "values": ["JJ-1"]}]]
    posts = len(emu.requests("/jira/", "POST"))

    again = playbook("report_backfill", env, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "backfill builds 1-2 of 3 (batch 1): already sent (progress file); nothing sent" in again.stdout
    assert "4 batches sent" not in again.stdout and "0 batches sent, 4 already sent before" in again.stdout
    assert "changed=0" in again.stdout
    assert len(emu.requests("/jira/", "POST")) == posts  # nothing sent again
