"""report_build and report_deployment run end to end with ansible-playbook, from a real git repository, configured
with nothing but environment variables (as Jenkins or GitLab CI would), against the emulator."""
from __future__ import annotations

import pytest

from roles_support import CLOUD_ID, TOKEN, emu, git, playbook, repo  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_report_build_from_env_only(emu, repo):
    proc = playbook("report_build", {
        "JIRA_API_URL": emu.url, "JIRA_URL": emu.url, "JIRA_TOKEN": TOKEN, "JIRA_GIT_REPO": str(repo),
        "JOB_NAME": "pink-logo", "BUILD_NUMBER": "12", "BUILD_URL": "https://ci.example.com/job/pink-logo/12/",
    })
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("Jira build pink-logo #12 (successful) on JJ-12, JJ-2, OPS-7: 1 accepted, 0 rejected, "
            "unknown issue keys: none") in proc.stdout
    builds = emu.control("GET", "/devops/builds")["builds"]
    assert len(builds) == 1
    build = builds[0]["data"]
    assert build["pipelineId"] == "pink-logo" and build["buildNumber"] == 12
    assert build["issueKeys"] == ["JJ-12", "JJ-2", "OPS-7"]
    assert build["description"] == "Document the colour"
    assert build["references"] == [{"commit": {"id": git(repo, "rev-parse", "HEAD"),
                                               "repositoryUri": "https://git.example.com/jj/pink-logo.git"},
                                    "ref": {"name": "feature/JJ-12-pink-logo",
                                            "uri": "https://git.example.com/jj/pink-logo.git"}}]
    lookups = emu.requests("/_edge/tenant_info")
    assert len(lookups) == 1 and "Authorization" not in lookups[0]["headers"]
    raw = emu.control("GET", "/requests", params={"path": "/jira/builds/", "raw": "1"})["requests"]
    # The read-back is refused (the token has no read:build scope), so the build is sent anyway.
    assert [(r["method"], r["status"]) for r in raw] == [("GET", 403), ("POST", 202)]
    assert [r["headers"]["Authorization"] for r in raw] == [f"Bearer {TOKEN}"] * 2
    assert "s3cret-git-token" not in proc.stdout and TOKEN not in proc.stdout


def test_report_deployment_gitlab_style_detached_head_since_ref_and_gating(emu, repo):
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    git(repo, "checkout", "-q", "--detach", "HEAD")
    emu.configure(devops_gating_polls=1)
    proc = playbook("report_deployment", {
        "JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN, "CI_PROJECT_DIR": str(repo),
        "CI_PROJECT_PATH": "jj/pink-logo", "CI_PROJECT_URL": "https://gitlab.example.com/jj/pink-logo",
        "CI_PIPELINE_IID": "57", "CI_JOB_URL": "https://gitlab.example.com/jj/pink-logo/-/jobs/991",
        "CI_ENVIRONMENT_NAME": "production", "CI_ENVIRONMENT_SLUG": "production", "CI_ENVIRONMENT_TIER": "production",
        "CI_COMMIT_REF_NAME": "feature/JJ-12-pink-logo", "CI_COMMIT_BEFORE_SHA": first,
        "JIRA_WAIT_FOR_GATING": "true", "JIRA_GATING_INTERVAL": "0.1", "JIRA_GATING_TIMEOUT": "30",
        "JIRA_PROJECTS": "JJ",
    })
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("Jira deployment jj/pink-logo #57 to production (successful) on JJ-12, JJ-2: 1 accepted, 0 rejected, "
            "unknown issue keys: none, gating: allowed") in proc.stdout
    deployments = emu.control("GET", "/devops/deployments")["deployments"]
    assert len(deployments) == 1
    data = deployments[0]["data"]
    assert data["associations"] == [{"associationType": "issueIdOrKeys", "values": ["JJ-12", "JJ-2"]}]
    assert data["environment"] == {"id": "production", "displayName": "production", "type": "production"}
    assert data["pipeline"] == {"id": "jj/pink-logo", "displayName": "jj/pink-logo",
                                "url": "https://gitlab.example.com/jj/pink-logo"}
    assert data["commands"] == [{"command": "initiate_deployment_gating"}]
    assert emu.requests("/_edge/tenant_info") == []


def test_no_issue_keys_means_nothing_is_sent(emu, tmp_path):
    path = tmp_path / "plain"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "-c", "user.email=a@example.com", "-c", "user.name=A", "commit", "-q", "--allow-empty", "-m", "Tidy up")
    proc = playbook("report_build", {
        "JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN, "WORKSPACE": str(path),
        "JOB_NAME": "plain", "BUILD_NUMBER": "3", "BUILD_URL": "https://ci.example.com/job/plain/3/",
    })
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Jira build plain #3: no issue keys in branch main or its commits; nothing sent" in proc.stdout
    assert emu.requests() == []


def test_missing_build_facts_are_named(emu, repo):
    proc = playbook("report_build", {"JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN,
                                     "JIRA_GIT_REPO": str(repo), "JOB_NAME": "pink-logo"})
    assert proc.returncode != 0
    assert "report_build needs a pipeline id, a numeric build number, a build URL and a state" in proc.stdout
    assert emu.requests() == []


READER = "ci-token-that-may-read-too-0456"


@pytest.mark.parametrize("kind", ["build", "deployment"])
def test_a_rerun_with_the_same_data_sends_nothing_and_a_new_state_is_sent(emu, repo, kind):
    """With the read scope the role reads the entity back: same data -> nothing sent, changed=0; new state -> sent.
    (The first test, whose token lacks the read scope, shows the 403 fallback: the entity is sent.)"""
    emu.seed(bearer_tokens={READER: {"user": "alice", "expires_at": None, "client_id": "ci", "scopes": [
        f"write:{kind}:jira-software", f"read:{kind}:jira-software"]}})
    env = {"JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": READER, "JIRA_GIT_REPO": str(repo),
           "JOB_NAME": "pink-logo", "BUILD_NUMBER": "12", "BUILD_URL": "https://ci.example.com/job/pink-logo/12/",
           "JIRA_ENVIRONMENT": "staging"}
    state = "JIRA_BUILD_STATE" if kind == "build" else "JIRA_DEPLOYMENT_STATE"
    collection = f"/devops/{kind}s"
    posts = f"/jira/{kind}s/0.1/cloud/{CLOUD_ID}/bulk"

    first = playbook(f"report_{kind}", dict(env, **{state: "in_progress"}))
    assert first.returncode == 0, first.stdout + first.stderr
    stored = emu.control("GET", collection)[f"{kind}s"][0]["data"]
    assert stored["state"] == "in_progress" and len(emu.requests(posts, "POST")) == 1

    again = playbook(f"report_{kind}", dict(env, **{state: "in_progress"}))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "(in_progress): Jira already has it with the same data; nothing sent" in again.stdout
    assert "changed=0" in again.stdout
    assert len(emu.requests(posts, "POST")) == 1
    assert emu.control("GET", collection)[f"{kind}s"][0]["data"] == stored

    done = playbook(f"report_{kind}", dict(env, **{state: "successful"}))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(successful) on JJ-12, JJ-2, OPS-7: 1 accepted" in done.stdout
    assert len(emu.requests(posts, "POST")) == 2
    assert emu.control("GET", collection)[f"{kind}s"][0]["data"]["state"] == "successful"
