"""report_build run from a real git checkout with only one CI system's documented variables set (plus the
collection's own JIRA_API_URL, JIRA_CLOUD_ID and JIRA_TOKEN), once per CI system; the emulator shows what Jira got.

Variable names are each vendor's documented ones: GitHub Actions "Variables reference", GitLab "Predefined CI/CD
variables", Jenkins "env-vars.html" and the multibranch CHANGE_* variables, CircleCI "Project values and variables",
Bitbucket "Variables and secrets", Azure Pipelines "Predefined variables" (as environment variables: upper case,
dots as underscores), AWX job extra vars (awx_job_id, awx_job_template_name, awx_project_revision, ...)."""
from __future__ import annotations

import json

import pytest

from roles_support import CLOUD_ID, TOKEN, emu, git, playbook, repo  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.slow
BRANCH = "feature/JJ-12-pink-logo"
REMOTE = "https://git.example.com/jj/pink-logo.git"


def report(emu, repo, ci_env, *args, cwd=None):
    env = {"JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN, **ci_env}
    git(repo, "checkout", "-q", "--detach", "HEAD")  # as CI systems check out
    proc = playbook("report_build", env, *args, cwd=cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "s3cret-git-token" not in proc.stdout + proc.stderr and TOKEN not in proc.stdout + proc.stderr
    builds = emu.control("GET", "/devops/builds")["builds"]
    assert len(builds) == 1, builds
    return proc, builds[0]["data"]


def refs(commit, branch=BRANCH, remote=REMOTE):
    return [{"commit": {"id": commit, "repositoryUri": remote}, "ref": {"name": branch, "uri": remote}}]


def test_github_actions_pull_request(emu, repo, tmp_path):
    head = git(repo, "rev-parse", "HEAD")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "number": 5, "pull_request": {
        "number": 5, "title": "JJ-3 Pinker logo", "body": "Also closes JJ-1", "head": {"sha": head, "ref": BRANCH}}}))
    proc, build = report(emu, repo, {
        "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "7001", "GITHUB_RUN_NUMBER": "42",
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "jj/pink-logo", "GITHUB_WORKFLOW": "CI",
        # A pull request run: GITHUB_REF_NAME is "<n>/merge", GITHUB_SHA the merge commit GitHub made.
        "GITHUB_REF_NAME": "5/merge", "GITHUB_HEAD_REF": BRANCH, "GITHUB_SHA": "f" * 40,
        "GITHUB_EVENT_PATH": str(event), "GITHUB_WORKSPACE": str(repo),
        "JIRA_BUILD_STATE": "failure",  # ${{ job.status }}
    })
    assert ("Jira build jj/pink-logo/CI #42 (failed) on JJ-12, JJ-3, JJ-1, JJ-2, OPS-7: 1 accepted, 0 rejected"
            in proc.stdout)
    assert build["pipelineId"] == "jj/pink-logo/CI" and build["buildNumber"] == 42
    assert build["url"] == "https://github.com/jj/pink-logo/actions/runs/7001"
    assert build["state"] == "failed"
    assert build["references"] == refs(head)


def test_gitlab_merge_request_pipeline(emu, repo):
    head = git(repo, "rev-parse", "HEAD")
    proc, build = report(emu, repo, {
        "GITLAB_CI": "true", "CI_PROJECT_PATH": "jj/pink-logo",
        "CI_PROJECT_URL": "https://gitlab.example.com/jj/pink-logo",
        "CI_PROJECT_DIR": str(repo), "CI_PIPELINE_ID": "99031", "CI_PIPELINE_IID": "57",
        "CI_PIPELINE_URL": "https://gitlab.example.com/jj/pink-logo/-/pipelines/99031",
        "CI_JOB_URL": "https://gitlab.example.com/jj/pink-logo/-/jobs/991", "CI_COMMIT_REF_NAME": BRANCH,
        "CI_COMMIT_SHA": head, "CI_MERGE_REQUEST_IID": "5", "CI_MERGE_REQUEST_TITLE": "Draft: JJ-3 Pinker logo",
        "CI_MERGE_REQUEST_DESCRIPTION": "Closes JJ-1", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": BRANCH,
        "CI_JOB_STATUS": "failed",  # in after_script
    })
    assert "Jira build jj/pink-logo #57 (failed) on JJ-12, JJ-3, JJ-1, JJ-2, OPS-7: 1 accepted" in proc.stdout
    assert build["url"] == "https://gitlab.example.com/jj/pink-logo/-/pipelines/99031"
    assert build["references"] == refs(head)


def test_jenkins_multibranch_pull_request(emu, repo):
    """PR builds run on BRANCH_NAME PR-5: the keys come from CHANGE_BRANCH and CHANGE_TITLE, the state from what
    the Jenkinsfile passes (currentBuild.currentResult), since Jenkins sets no result variable."""
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "remote", "remove", "origin")  # Jenkins' checkout may name the remote otherwise; GIT_URL says it
    proc, build = report(emu, repo, {
        "JENKINS_URL": "https://jenkins.example.com/", "JOB_NAME": "pink-logo/PR-5", "BUILD_NUMBER": "3",
        "BUILD_URL": "https://jenkins.example.com/job/pink-logo/job/PR-5/3/",
        "JOB_URL": "https://jenkins.example.com/job/pink-logo/job/PR-5/", "BRANCH_NAME": "PR-5", "CHANGE_ID": "5",
        "CHANGE_BRANCH": BRANCH, "CHANGE_TITLE": "JJ-3 Pinker logo", "GIT_COMMIT": head,
        "GIT_URL": REMOTE, "WORKSPACE": str(repo), "JIRA_BUILD_STATE": "UNSTABLE",
    })
    assert "Jira build pink-logo/PR-5 #3 (failed) on JJ-12, JJ-3, JJ-2, OPS-7: 1 accepted" in proc.stdout
    assert build["url"] == "https://jenkins.example.com/job/pink-logo/job/PR-5/3/"
    assert build["references"] == refs(head)


def test_circleci(emu, repo):
    head = git(repo, "rev-parse", "HEAD")
    proc, build = report(emu, repo, {
        "CIRCLECI": "true", "CIRCLE_BUILD_NUM": "118", "CIRCLE_BUILD_URL": "https://circleci.com/gh/jj/pink-logo/118",
        "CIRCLE_WORKFLOW_ID": "6d8c1b0e-5c1b-4f5e-9d2a-3e1f0c7b9a11", "CIRCLE_BRANCH": BRANCH, "CIRCLE_SHA1": head,
        "CIRCLE_PROJECT_USERNAME": "jj", "CIRCLE_PROJECT_REPONAME": "pink-logo",
        "CIRCLE_PULL_REQUEST": "https://github.com/jj/pink-logo/pull/5",
    }, cwd=repo)  # CircleCI runs the steps in the checkout; no variable names it
    assert "Jira build jj/pink-logo #118 (successful) on JJ-12, JJ-2, OPS-7: 1 accepted" in proc.stdout
    assert build["url"] == "https://circleci.com/gh/jj/pink-logo/118"
    assert build["references"] == refs(head)


def test_bitbucket_pipelines_after_script(emu, repo):
    head = git(repo, "rev-parse", "HEAD")
    proc, build = report(emu, repo, {
        "BITBUCKET_BUILD_NUMBER": "77", "BITBUCKET_PIPELINE_UUID": "{0b7c2a1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b}",
        "BITBUCKET_BRANCH": BRANCH, "BITBUCKET_COMMIT": head, "BITBUCKET_PR_ID": "5",
        "BITBUCKET_REPO_FULL_NAME": "jj/pink-logo", "BITBUCKET_WORKSPACE": "jj", "BITBUCKET_CLONE_DIR": str(repo),
        "BITBUCKET_EXIT_CODE": "1",
    })
    assert "Jira build jj/pink-logo #77 (failed) on JJ-12, JJ-2, OPS-7: 1 accepted" in proc.stdout
    assert build["url"] == "https://bitbucket.org/jj/pink-logo/pipelines/results/77"
    assert build["references"] == refs(head)


def test_azure_pipelines_pull_request(emu, repo):
    head = git(repo, "rev-parse", "HEAD")
    proc, build = report(emu, repo, {
        "TF_BUILD": "True", "BUILD_BUILDID": "1234", "BUILD_BUILDNUMBER": "20261201.3",
        "BUILD_DEFINITIONNAME": "pink-logo-ci", "BUILD_SOURCEBRANCH": "refs/pull/5/merge",
        "BUILD_SOURCEBRANCHNAME": "merge", "BUILD_SOURCEVERSION": head, "BUILD_SOURCESDIRECTORY": str(repo),
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/jj/", "SYSTEM_TEAMPROJECT": "Pink Logo",
        "SYSTEM_PULLREQUEST_SOURCEBRANCH": f"refs/heads/{BRANCH}", "SYSTEM_PULLREQUEST_PULLREQUESTID": "5",
        "AGENT_JOBSTATUS": "Canceled",
    })
    assert "Jira build Pink Logo/pink-logo-ci #1234 (cancelled) on JJ-12, JJ-2, OPS-7: 1 accepted" in proc.stdout
    assert build["url"] == "https://dev.azure.com/jj/Pink%20Logo/_build/results?buildId=1234"
    assert build["references"] == refs(head)


def test_awx_job(emu, repo):
    head = git(repo, "rev-parse", "HEAD")
    extra = {"awx_job_id": 88, "awx_job_template_id": 7, "awx_job_template_name": "pink-logo deploy",
             "awx_project_revision": head, "awx_project_scm_branch": BRANCH}
    proc, build = report(emu, repo, {"CONTROLLER_HOST": "https://awx.example.com"}, "-e", json.dumps(extra),
                         cwd=repo)  # AWX runs the playbook in the project checkout
    assert "Jira build pink-logo deploy #88 (successful) on JJ-12, JJ-2, OPS-7: 1 accepted" in proc.stdout
    assert build["url"] == "https://awx.example.com/#/jobs/playbook/88/output"
    assert build["references"] == refs(head)


def test_bitbucket_deployment_step(emu, repo):
    """A step with `deployment: uat-eu`: the environment, its type (from the name), the URL and the result
    (BITBUCKET_EXIT_CODE) all come from Bitbucket's variables."""
    git(repo, "checkout", "-q", "--detach", "HEAD")
    proc = playbook("report_deployment", {
        "JIRA_API_URL": emu.url, "JIRA_CLOUD_ID": CLOUD_ID, "JIRA_TOKEN": TOKEN,
        "BITBUCKET_BUILD_NUMBER": "78", "BITBUCKET_PIPELINE_UUID": "{1b7c2a1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b}",
        "BITBUCKET_BRANCH": BRANCH, "BITBUCKET_COMMIT": git(repo, "rev-parse", "HEAD"),
        "BITBUCKET_REPO_FULL_NAME": "jj/pink-logo", "BITBUCKET_WORKSPACE": "jj", "BITBUCKET_CLONE_DIR": str(repo),
        "BITBUCKET_DEPLOYMENT_ENVIRONMENT": "uat-eu", "BITBUCKET_EXIT_CODE": "0",
    })
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Jira deployment jj/pink-logo #78 to uat-eu (successful) on JJ-12, JJ-2, OPS-7: 1 accepted" in proc.stdout
    data = emu.control("GET", "/devops/deployments")["deployments"][0]["data"]
    assert data["environment"] == {"id": "uat-eu", "displayName": "uat-eu", "type": "staging"}
    assert data["url"] == "https://bitbucket.org/jj/pink-logo/pipelines/results/78"
    assert data["pipeline"] == {"id": "jj/pink-logo", "displayName": "jj/pink-logo",
                                "url": "https://bitbucket.org/jj/pink-logo/pipelines"}
