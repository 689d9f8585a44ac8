"""report_build and report_deployment run end to end with ansible-playbook, from a real git repository, configured
with nothing but environment variables (as Jenkins or GitLab CI would), against the emulator."""
from __future__ import annotations

import pytest

from roles_support import CLOUD_ID, TOKEN, emu, git, playbook, repo  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.slow


def test_report_build_from_env_only(emu, repo):
    proc = playbook("report_build", {
        "JIRA_API_URL": emu.url, "JIRA_URL": emu.url, "JIRA_TOKEN": TOKEN, "JIRA_GIT_REPO": str(repo),
        "JOB_NAME": "pink-logo", "BUILD_NUMBER": "12", "BUILD_URL": "https://ci.example.com/job/pink-logo/12/",
    }, "-vvv")  # every result shown: the clone URL's token and the Jira token must still not appear
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
    assert "s3cret-git-token" not in proc.stdout + proc.stderr and TOKEN not in proc.stdout + proc.stderr


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


# The role's own inputs (no CI system's variables), as a CI job that sets them would: a pipeline id with a slash,
# which goes %2F-encoded into the read-back path.
ROLE_INPUTS = {
    "build": {"JIRA_PIPELINE_ID": "ci/report-build", "JIRA_BUILD_NUMBER": "7",
              "JIRA_BUILD_URL": "https://ci.example.com/ci/report-build/7"},
    "deployment": {"JIRA_PIPELINE_ID": "ci/report-deployment", "JIRA_DEPLOYMENT_NUMBER": "42",
                   "JIRA_DEPLOYMENT_URL": "https://ci.example.com/ci/report-deployment/42",
                   "JIRA_ENVIRONMENT": "Staging EU", "JIRA_ENVIRONMENT_ID": "staging-eu",
                   "JIRA_ENVIRONMENT_TYPE": "staging", "JIRA_DEPLOYMENT_LABEL": "v1.4.2"},
}
READ_BACK = {"build": "/pipelines/ci/report-build/builds/7",
             "deployment": "/pipelines/ci/report-deployment/environments/staging-eu/deployments/42"}


def _assert_stored(kind, stored, repo):
    """The entity the role built from the environment and the checkout (branch, commits, origin without its
    credentials)."""
    assert stored["issueKeys" if kind == "build" else "associations"] == (
        ["JJ-12", "JJ-2", "OPS-7"] if kind == "build"
        else [{"associationType": "issueIdOrKeys", "values": ["JJ-12", "JJ-2", "OPS-7"]}])
    assert stored["description"] == "Document the colour"
    if kind == "build":
        assert stored["pipelineId"] == "ci/report-build" and stored["buildNumber"] == 7
        assert stored["url"] == "https://ci.example.com/ci/report-build/7"
        assert stored["references"] == [{"commit": {"id": git(repo, "rev-parse", "HEAD"),
                                                    "repositoryUri": "https://git.example.com/jj/pink-logo.git"},
                                         "ref": {"name": "feature/JJ-12-pink-logo",
                                                 "uri": "https://git.example.com/jj/pink-logo.git"}}]
    else:
        assert stored["deploymentSequenceNumber"] == 42 and stored["label"] == "v1.4.2"
        assert stored["url"] == "https://ci.example.com/ci/report-deployment/42"
        assert stored["environment"] == {"id": "staging-eu", "displayName": "Staging EU", "type": "staging"}
        assert stored["pipeline"]["id"] == "ci/report-deployment"


@pytest.mark.parametrize("kind", ["build", "deployment"])
def test_a_rerun_with_the_same_data_sends_nothing_and_a_new_state_is_sent(emu, repo, kind):
    """With the read scope the role reads the entity back: same data -> nothing sent, changed=0; new state -> sent.
    (The first test, whose token lacks the read scope, shows the 403 fallback: the entity is sent.) This is the
    converge / idempotence / verify of the report_* roles: they have no Molecule scenario, so each runs once."""
    emu.seed(bearer_tokens={READER: {"user": "alice", "expires_at": None, "client_id": "ci", "scopes": [
        f"write:{kind}:jira-software", f"read:{kind}:jira-software"]}})
    env = {"JIRA_API_URL": emu.url, "JIRA_URL": emu.url, "JIRA_TOKEN": READER, "JIRA_GIT_REPO": str(repo),
           **ROLE_INPUTS[kind]}
    state = "JIRA_BUILD_STATE" if kind == "build" else "JIRA_DEPLOYMENT_STATE"
    collection = f"/devops/{kind}s"
    gateway = f"/jira/{kind}s/0.1/cloud/{CLOUD_ID}"
    posts = f"{gateway}/bulk"

    first = playbook(f"report_{kind}", dict(env, **{state: "in_progress"}))
    assert first.returncode == 0, first.stdout + first.stderr
    entities = emu.control("GET", collection)[f"{kind}s"]
    assert len(entities) == 1
    stored = entities[0]["data"]
    assert stored["state"] == "in_progress" and len(emu.requests(posts, "POST")) == 1
    _assert_stored(kind, stored, repo)
    if kind == "deployment":
        assert entities[0]["key"] == ["ci/report-deployment", "staging-eu", 42]

    again = playbook(f"report_{kind}", dict(env, **{state: "in_progress"}))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "(in_progress): Jira already has it with the same data; nothing sent" in again.stdout
    assert "changed=0" in again.stdout
    assert len(emu.requests(posts, "POST")) == 1
    assert emu.control("GET", collection)[f"{kind}s"][0]["data"] == stored
    # Both runs read it back (Jira had none, then the one sent); the log shows the %2F-encoded id decoded.
    reads = emu.requests(f"{gateway}/pipelines/", "GET")
    assert [r["path"] for r in reads] == [gateway + READ_BACK[kind]] * 2
    assert [r["status"] for r in reads] == [404, 200]

    done = playbook(f"report_{kind}", dict(env, **{state: "successful"}))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(successful) on JJ-12, JJ-2, OPS-7: 1 accepted" in done.stdout
    assert len(emu.requests(posts, "POST")) == 2
    assert emu.control("GET", collection)[f"{kind}s"][0]["data"]["state"] == "successful"


JENKINS = {"JOB_NAME": "pink-logo", "BUILD_NUMBER": "12", "BUILD_URL": "https://ci.example.com/job/pink-logo/12/"}


def test_outside_a_git_checkout_the_error_says_what_to_set(emu, tmp_path):
    plain = tmp_path / "not-a-checkout"
    plain.mkdir()
    proc = playbook("report_build", {"JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN,
                                     "WORKSPACE": str(plain), **JENKINS})
    assert proc.returncode != 0
    assert (f"git_facts: {plain} is not a git checkout (git said: fatal: not a git repository (or any of the parent "
            "directories): .git). Set git_facts_repo_path (or JIRA_GIT_REPO) to the directory the CI job checked out "
            "(it was not set; the path came from the CI system or the current directory).") in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert emu.requests() == []


def test_shallow_clone_without_the_since_ref_and_no_origin(emu, repo, tmp_path):
    """The ref is older than the clone's depth: a clear warning (or, on request, an error) instead of git's; with
    no origin remote no local path goes out as repositoryUri: the build is sent without references, and it says so."""
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature/JJ-12-pink-logo", f"file://{repo}", str(shallow))
    git(shallow, "remote", "remove", "origin")
    env = {"JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN, "JIRA_GIT_REPO": str(shallow),
           "GIT_PREVIOUS_SUCCESSFUL_COMMIT": first, **JENKINS}

    strict = playbook("report_build", dict(env, JIRA_GIT_REQUIRE_SINCE="true"))
    assert strict.returncode != 0
    assert f"git_facts_since={first} is not in {shallow}: it is a shallow clone" in strict.stdout
    assert "GitHub Actions: actions/checkout with fetch-depth 0; GitLab: GIT_DEPTH 0" in strict.stdout
    assert "or set git_facts_require_since false to read the last 20 commits instead" in strict.stdout
    assert emu.requests() == []

    proc = playbook("report_build", env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"git_facts_since={first} is not in {shallow}: it is a shallow clone" in proc.stdout
    assert "read the last 20 commits instead" in proc.stdout
    assert f"{shallow} has no origin remote with a URL (and the CI system gave none)" in proc.stdout
    assert ("Jira build pink-logo #12 (successful) on JJ-12: 1 accepted, 0 rejected, unknown issue keys: none; "
            "no repository URL (no origin remote), so no commit references were sent") in proc.stdout
    build = emu.control("GET", "/devops/builds")["builds"][0]["data"]
    assert "references" not in build and str(shallow) not in str(build) and str(repo) not in str(build)


JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="{name}">{cases}</testsuite>
"""


def test_junit_reports_become_test_info_and_a_doctype_is_refused(emu, repo):
    unit = repo / "build" / "test-results" / "unit"
    unit.mkdir(parents=True)
    (unit / "TEST-logo.xml").write_text(JUNIT.format(name="logo", cases=(
        "<testcase name='a'/><testcase name='b'/><testcase name='c'><failure message='not pink'/></testcase>")))
    (repo / "build" / "test-results" / "TEST-it.xml").write_text(JUNIT.format(name="it", cases=(
        "<testcase name='d'/><testcase name='e'><skipped/></testcase>")))
    (unit / "other.xml").write_text("<not-junit/>")  # not matched by the pattern
    env = {"JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN, "JIRA_GIT_REPO": str(repo),
           "JIRA_TEST_RESULTS": "build/**/TEST-*.xml", "JIRA_BUILD_STATE": "FAILURE", **JENKINS}
    proc = playbook("report_build", env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(failed) on JJ-12, JJ-2, OPS-7: 1 accepted, 0 rejected, unknown issue keys: none; tests: 3 passed, " \
           "1 failed, 1 skipped of 5" in proc.stdout
    build = emu.control("GET", "/devops/builds")["builds"][0]["data"]
    assert build["testInfo"] == {"totalNumber": 5, "numberPassed": 3, "numberFailed": 1, "numberSkipped": 1}

    evil = unit / "TEST-evil.xml"
    evil.write_text('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                    "<testsuite><testcase name='&x;'/></testsuite>")
    again = playbook("report_build", dict(env, BUILD_NUMBER="13"))
    assert again.returncode != 0
    assert f"junit_test_info: {evil}: has a DOCTYPE or ENTITY declaration" in again.stdout
    assert "root:" not in again.stdout  # /etc/passwd was not read
    assert len(emu.control("GET", "/devops/builds")["builds"]) == 1  # build 13 was not sent


def test_deployment_type_from_the_name_services_and_gating(emu, repo):
    """GitLab's tier "other" no longer makes the deployment unmapped: the name says production; the services go
    as a serviceIdOrKeys association and the role waits for Jira's gating, as the Jenkins plugin and the orb do."""
    emu.configure(devops_gating_polls=1)
    proc = playbook("report_deployment", {
        "JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN, "CI_PROJECT_DIR": str(repo),
        "GITLAB_CI": "true", "CI_PROJECT_PATH": "jj/pink-logo", "CI_PIPELINE_IID": "58",
        "CI_JOB_URL": "https://gitlab.example.com/jj/pink-logo/-/jobs/992", "CI_ENVIRONMENT_NAME": "eu-prd-1",
        "CI_ENVIRONMENT_SLUG": "eu-prd-1", "CI_ENVIRONMENT_TIER": "other",
        "JIRA_SERVICE_IDS": "b:YXJpOmNsb3VkOmdyYXBoOjpzZXJ2aWNlLzE=, pink-logo-service",
        "JIRA_WAIT_FOR_GATING": "true", "JIRA_GATING_INTERVAL": "0.1", "JIRA_GATING_TIMEOUT": "30",
    })
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("Jira deployment jj/pink-logo #58 to eu-prd-1 (successful) on JJ-12, JJ-2, OPS-7, service "
            "b:YXJpOmNsb3VkOmdyYXBoOjpzZXJ2aWNlLzE=, service pink-logo-service: 1 accepted, 0 rejected, unknown issue "
            "keys: none, gating: allowed") in proc.stdout
    data = emu.control("GET", "/devops/deployments")["deployments"][0]["data"]
    assert data["environment"] == {"id": "eu-prd-1", "displayName": "eu-prd-1", "type": "production"}
    assert data["associations"] == [
        {"associationType": "issueIdOrKeys", "values": ["JJ-12", "JJ-2", "OPS-7"]},
        {"associationType": "serviceIdOrKeys",
         "values": ["b:YXJpOmNsb3VkOmdyYXBoOjpzZXJ2aWNlLzE=", "pink-logo-service"]}]
    assert data["commands"] == [{"command": "initiate_deployment_gating"}]
    assert len(emu.requests("/jira/deployments/0.1/cloud/", "GET")) >= 1  # gating-status read
