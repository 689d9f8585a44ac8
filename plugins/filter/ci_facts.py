# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ci_facts, ci_variables and ci_state filters; their documentation is in the .yml files beside this one.

Every CI system names the same facts differently; one table here keeps the roles free of per-system branches."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

from ansible.errors import AnsibleFilterError

FIELDS = ("system", "pipeline_id", "pipeline_name", "pipeline_url", "build_number", "build_name", "build_url",
          "job_url", "branch", "pr_id", "pr_title", "pr_description", "commit", "result", "since",
          "repository_url", "workspace", "environment_name", "environment_id", "environment_tier")

# CI result words -> Jira build/deployment states; anything else is returned unchanged for the caller to judge.
_STATES = {
    "successful": ("success", "succeeded", "successful", "passed", "fixed", "succeededwithissues"),
    "failed": ("failure", "failed", "unstable", "error", "errored", "broken"),
    "cancelled": ("cancelled", "canceled", "aborted", "not_run"),
    "in_progress": ("in_progress", "inprogress", "running", "started"),
    "pending": ("pending", "queued", "created", "waiting", "manual", "scheduled"),
    "unknown": ("unknown", "not_built"),
    "rolled_back": ("rolled_back",),
}
_STATE_OF = {word: state for state, words in _STATES.items() for word in words}


def ci_state(value):
    """Jira's state for a CI result (SUCCESS, success, Succeeded, failure, ABORTED, canceled, ...)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AnsibleFilterError(f"ci_state: the result must be a string, not {type(value).__name__}")
    word = value.strip()
    return _STATE_OF.get(word.lower().replace(" ", "_").replace("-", "_"), word)


_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^@/]*@", re.IGNORECASE)


def _no_credentials(url):
    """Clone URLs may carry a token (https://user:token@host/...): it must not end up in facts or output."""
    return _USERINFO.sub(r"\1", url)


def _zeros_to_empty(sha):
    """GitLab and GitHub give 40 zeros as the 'before' of a new branch: that is no ref."""
    return "" if not sha.strip("0") else sha


def _strip_ref(ref, *prefixes):
    for prefix in prefixes:
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def _join(*parts, sep="/"):
    return sep.join(p for p in parts if p)


def _github(env, event):
    server, repo, run_id = env.get("GITHUB_SERVER_URL") or "https://github.com", env.get("GITHUB_REPOSITORY"), \
        env.get("GITHUB_RUN_ID")
    pull = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else {}
    head = pull.get("head") if isinstance(pull.get("head"), dict) else {}
    repo_url = f"{server}/{repo}" if repo else ""
    run_url = f"{repo_url}/actions/runs/{run_id}" if repo and run_id else ""
    return {
        "pipeline_id": _join(repo, env.get("GITHUB_WORKFLOW")),
        "pipeline_name": _join(repo, env.get("GITHUB_WORKFLOW"), sep=" "),
        "pipeline_url": f"{repo_url}/actions" if repo else "",
        "build_number": env.get("GITHUB_RUN_NUMBER"),
        "build_url": run_url,
        "job_url": run_url,
        # A pull request's GITHUB_REF_NAME is "1/merge"; the source branch is GITHUB_HEAD_REF.
        "branch": env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME"),
        "pr_id": str(pull.get("number") or ""),
        "pr_title": pull.get("title") or "",
        "pr_description": pull.get("body") or "",
        # GITHUB_SHA of a pull request is GitHub's merge commit, which is not in the source branch.
        "commit": head.get("sha") or env.get("GITHUB_SHA"),
        "since": _zeros_to_empty(event.get("before") or "") if isinstance(event.get("before"), str) else "",
        "repository_url": repo_url,
        "workspace": env.get("GITHUB_WORKSPACE"),
    }


def _gitlab(env, _event):
    return {
        "pipeline_id": env.get("CI_PROJECT_PATH"),
        "pipeline_url": env.get("CI_PROJECT_URL"),
        "build_number": env.get("CI_PIPELINE_IID") or env.get("CI_PIPELINE_ID"),
        "build_url": env.get("CI_PIPELINE_URL"),
        "job_url": env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL"),
        "branch": env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or env.get("CI_COMMIT_REF_NAME"),
        "pr_id": env.get("CI_MERGE_REQUEST_IID"),
        "pr_title": env.get("CI_MERGE_REQUEST_TITLE"),
        "pr_description": env.get("CI_MERGE_REQUEST_DESCRIPTION"),
        "commit": env.get("CI_COMMIT_SHA"),
        "result": env.get("CI_JOB_STATUS"),
        "since": _zeros_to_empty(env.get("CI_COMMIT_BEFORE_SHA") or ""),
        "repository_url": env.get("CI_PROJECT_URL"),
        "workspace": env.get("CI_PROJECT_DIR"),
        "environment_name": env.get("CI_ENVIRONMENT_NAME"),
        "environment_id": env.get("CI_ENVIRONMENT_SLUG"),
        "environment_tier": env.get("CI_ENVIRONMENT_TIER"),
    }


def _jenkins(env, _event):
    return {
        "pipeline_id": env.get("JOB_NAME"),
        "pipeline_url": env.get("JOB_URL"),
        "build_number": env.get("BUILD_NUMBER"),
        "build_url": env.get("BUILD_URL"),
        "job_url": env.get("BUILD_URL"),
        # A multibranch pull request build runs on BRANCH_NAME "PR-1"; the keys are in CHANGE_BRANCH.
        "branch": (env.get("CHANGE_BRANCH") or env.get("BRANCH_NAME")
                   or _strip_ref(env.get("GIT_BRANCH") or "", "origin/", "refs/heads/")),
        "pr_id": env.get("CHANGE_ID"),
        "pr_title": env.get("CHANGE_TITLE"),
        "commit": env.get("GIT_COMMIT"),
        "since": env.get("GIT_PREVIOUS_SUCCESSFUL_COMMIT"),
        "repository_url": env.get("GIT_URL"),
        "workspace": env.get("WORKSPACE"),
    }


def _circleci(env, _event):
    workflow = env.get("CIRCLE_WORKFLOW_ID")
    workflow_url = f"https://app.circleci.com/pipelines/workflows/{workflow}" if workflow else ""
    return {
        "pipeline_id": _join(env.get("CIRCLE_PROJECT_USERNAME"), env.get("CIRCLE_PROJECT_REPONAME")),
        "pipeline_url": workflow_url,
        "build_number": env.get("CIRCLE_BUILD_NUM"),
        "build_url": env.get("CIRCLE_BUILD_URL"),
        "job_url": env.get("CIRCLE_BUILD_URL"),
        "branch": env.get("CIRCLE_BRANCH"),
        "pr_id": env.get("CIRCLE_PR_NUMBER") or (env.get("CIRCLE_PULL_REQUEST") or "").rpartition("/")[2],
        "commit": env.get("CIRCLE_SHA1"),
        "repository_url": env.get("CIRCLE_REPOSITORY_URL"),
    }


def _bitbucket(env, _event):
    repo, number = env.get("BITBUCKET_REPO_FULL_NAME"), env.get("BITBUCKET_BUILD_NUMBER")
    url = f"https://bitbucket.org/{repo}/pipelines/results/{number}" if repo and number else ""
    code = env.get("BITBUCKET_EXIT_CODE")  # set in after-script only
    return {
        "pipeline_id": repo,
        "pipeline_url": f"https://bitbucket.org/{repo}/pipelines" if repo else "",
        "build_number": number,
        "build_url": url,
        "job_url": url,
        "branch": env.get("BITBUCKET_BRANCH"),
        "pr_id": env.get("BITBUCKET_PR_ID"),
        "commit": env.get("BITBUCKET_COMMIT"),
        "result": "" if not code else "successful" if code == "0" else "failed",
        "repository_url": env.get("BITBUCKET_GIT_HTTP_ORIGIN"),
        "workspace": env.get("BITBUCKET_CLONE_DIR"),
        "environment_name": env.get("BITBUCKET_DEPLOYMENT_ENVIRONMENT"),
    }


def _azure(env, _event):
    collection, project, build_id = env.get("SYSTEM_COLLECTIONURI"), env.get("SYSTEM_TEAMPROJECT"), \
        env.get("BUILD_BUILDID")
    base = f"{collection.rstrip('/')}/{quote(project)}" if collection and project else ""
    url = f"{base}/_build/results?buildId={build_id}" if base and build_id else ""
    definition = env.get("BUILD_DEFINITIONNAME")
    # BUILD_SOURCEBRANCHNAME is only the last segment (feature/JJ-12-x gives JJ-12-x): prefer the full ref.
    pr_branch = _strip_ref(env.get("SYSTEM_PULLREQUEST_SOURCEBRANCH") or "", "refs/heads/")
    branch = pr_branch or _strip_ref(env.get("BUILD_SOURCEBRANCH") or "", "refs/heads/", "refs/tags/") \
        or env.get("BUILD_SOURCEBRANCHNAME")
    return {
        "pipeline_id": _join(project, definition),
        "pipeline_url": f"{base}/_build?definitionId={env['SYSTEM_DEFINITIONID']}"
        if base and env.get("SYSTEM_DEFINITIONID") else base,
        "build_number": build_id,
        "build_name": env.get("BUILD_BUILDNUMBER"),
        "build_url": url,
        "job_url": url,
        "branch": branch,
        "pr_id": env.get("SYSTEM_PULLREQUEST_PULLREQUESTID"),
        "commit": env.get("SYSTEM_PULLREQUEST_SOURCECOMMITID") or env.get("BUILD_SOURCEVERSION"),
        "result": env.get("AGENT_JOBSTATUS"),
        "repository_url": env.get("BUILD_REPOSITORY_URI"),
        "workspace": env.get("BUILD_SOURCESDIRECTORY"),
        "environment_name": env.get("ENVIRONMENT_NAME"),
    }


def _awx(env, _event):
    def var(name):
        return env.get(f"awx_{name}") or env.get(f"tower_{name}") or ""
    job, host = var("job_id"), (env.get("CONTROLLER_HOST") or env.get("TOWER_HOST") or "").rstrip("/")
    url = f"{host}/#/jobs/playbook/{job}/output" if host and job else ""
    return {
        "pipeline_id": var("job_template_name"),
        "pipeline_url": f"{host}/#/templates/job_template/{var('job_template_id')}/details"
        if host and var("job_template_id") else "",
        "build_number": str(job),
        "build_url": url,
        "job_url": url,
        "branch": var("job_scm_branch") or var("project_scm_branch"),
        "commit": var("project_revision"),
    }


# (name, any of these variables says the job runs there, reader, variables read). Checked in this order: the
# specific markers first, Jenkins' generic names (JOB_NAME, BUILD_URL) late, AWX (extra vars) last.
SYSTEMS = (
    ("github_actions", ("GITHUB_ACTIONS", "GITHUB_RUN_ID"), _github, (
        "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_RUN_NUMBER", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
        "GITHUB_WORKFLOW", "GITHUB_REF_NAME", "GITHUB_HEAD_REF", "GITHUB_SHA", "GITHUB_EVENT_PATH",
        "GITHUB_WORKSPACE")),
    ("gitlab", ("GITLAB_CI", "CI_PIPELINE_ID", "CI_PIPELINE_IID", "CI_PROJECT_PATH"), _gitlab, (
        "GITLAB_CI", "CI_PROJECT_PATH", "CI_PROJECT_URL", "CI_PROJECT_DIR", "CI_PIPELINE_ID", "CI_PIPELINE_IID",
        "CI_PIPELINE_URL", "CI_JOB_URL", "CI_JOB_STATUS", "CI_COMMIT_REF_NAME", "CI_COMMIT_SHA",
        "CI_COMMIT_BEFORE_SHA", "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_TITLE", "CI_MERGE_REQUEST_DESCRIPTION",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_ENVIRONMENT_NAME", "CI_ENVIRONMENT_SLUG",
        "CI_ENVIRONMENT_TIER")),
    ("circleci", ("CIRCLECI", "CIRCLE_BUILD_NUM"), _circleci, (
        "CIRCLECI", "CIRCLE_BUILD_NUM", "CIRCLE_BUILD_URL", "CIRCLE_WORKFLOW_ID", "CIRCLE_BRANCH", "CIRCLE_SHA1",
        "CIRCLE_PROJECT_USERNAME", "CIRCLE_PROJECT_REPONAME", "CIRCLE_PULL_REQUEST", "CIRCLE_PR_NUMBER",
        "CIRCLE_REPOSITORY_URL")),
    ("bitbucket", ("BITBUCKET_BUILD_NUMBER", "BITBUCKET_PIPELINE_UUID"), _bitbucket, (
        "BITBUCKET_BUILD_NUMBER", "BITBUCKET_PIPELINE_UUID", "BITBUCKET_BRANCH", "BITBUCKET_COMMIT",
        "BITBUCKET_PR_ID", "BITBUCKET_REPO_FULL_NAME", "BITBUCKET_WORKSPACE", "BITBUCKET_GIT_HTTP_ORIGIN",
        "BITBUCKET_CLONE_DIR", "BITBUCKET_EXIT_CODE", "BITBUCKET_DEPLOYMENT_ENVIRONMENT")),
    ("azure_pipelines", ("TF_BUILD", "BUILD_BUILDID"), _azure, (
        "TF_BUILD", "BUILD_BUILDID", "BUILD_BUILDNUMBER", "BUILD_DEFINITIONNAME", "BUILD_SOURCEBRANCH",
        "BUILD_SOURCEBRANCHNAME", "BUILD_SOURCEVERSION", "BUILD_REPOSITORY_URI", "BUILD_SOURCESDIRECTORY",
        "SYSTEM_COLLECTIONURI", "SYSTEM_TEAMPROJECT", "SYSTEM_DEFINITIONID", "SYSTEM_PULLREQUEST_SOURCEBRANCH",
        "SYSTEM_PULLREQUEST_PULLREQUESTID", "SYSTEM_PULLREQUEST_SOURCECOMMITID", "AGENT_JOBSTATUS",
        "ENVIRONMENT_NAME")),
    ("jenkins", ("JENKINS_URL", "JOB_NAME", "BUILD_URL"), _jenkins, (
        "JENKINS_URL", "JOB_NAME", "JOB_URL", "BUILD_NUMBER", "BUILD_URL", "BRANCH_NAME", "GIT_BRANCH",
        "CHANGE_BRANCH", "CHANGE_TITLE", "CHANGE_ID", "GIT_COMMIT", "GIT_PREVIOUS_SUCCESSFUL_COMMIT", "GIT_URL",
        "WORKSPACE")),
    ("awx", ("awx_job_id", "tower_job_id"), _awx, ("CONTROLLER_HOST", "TOWER_HOST")),
)
AWX_VARS = tuple(f"{prefix}_{name}" for prefix in ("awx", "tower") for name in (
    "job_id", "job_template_id", "job_template_name", "job_scm_branch", "project_scm_branch", "project_revision"))
_BY_NAME = {name: (markers, reader) for name, markers, reader, _names in SYSTEMS}


def ci_variables(systems="all"):
    """The environment variables (``env``) and Ansible variables (``vars``) ci_facts reads."""
    wanted = [systems] if isinstance(systems, str) else systems
    if not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError(f"ci_variables: give a CI system name or a list of them, not {type(systems).__name__}")
    unknown = [w for w in wanted if w != "all" and w not in _BY_NAME]
    if unknown:
        raise AnsibleFilterError(f"ci_variables: unknown CI system {', '.join(map(str, unknown))}; "
                                 f"known: {', '.join(_BY_NAME)}")
    names = ["JIRA_CI_SYSTEM"]
    for name, _markers, _reader, env_names in SYSTEMS:
        if "all" in wanted or name in wanted:
            names.extend(n for n in env_names if n not in names)
    awx = "all" in wanted or "awx" in wanted
    return {"env": names, "vars": list(AWX_VARS) if awx else []}


def _event(text):
    if text in (None, ""):
        return {}
    if isinstance(text, dict):
        return text
    try:
        event = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"ci_facts: the GitHub event file (GITHUB_EVENT_PATH) is not JSON: {exc}") from None
    return event if isinstance(event, dict) else {}


def ci_facts(variables, github_event=None):
    """What the CI system running this job says about it, in one shape for every system."""
    if not isinstance(variables, dict):
        raise AnsibleFilterError(f"ci_facts: give a dict of variable names and values, not {type(variables).__name__}")
    env = {str(k): v if isinstance(v, str) else ("" if v is None else str(v)) for k, v in variables.items()}
    forced = env.get("JIRA_CI_SYSTEM", "").strip().lower()
    if forced and forced != "none" and forced not in _BY_NAME:
        raise AnsibleFilterError(f"ci_facts: JIRA_CI_SYSTEM={forced!r} is not one of none, {', '.join(_BY_NAME)}")
    facts = dict.fromkeys(FIELDS, "")
    if forced == "none":
        return facts
    for name, markers, reader, _names in SYSTEMS:
        if forced == name or (not forced and any(env.get(m) for m in markers)):
            found = reader(env, _event(github_event) if name == "github_actions" else {})
            facts.update({k: v or "" for k, v in found.items()})
            facts["system"] = name
            facts["result"] = ci_state(facts["result"])
            for field in FIELDS:
                if field.endswith("_url"):
                    facts[field] = _no_credentials(facts[field])
            break
    return facts


class FilterModule:
    def filters(self):
        return {"ci_facts": ci_facts, "ci_variables": ci_variables, "ci_state": ci_state}
