"""git_info against real checkouts made in a tmp dir: branches, a detached HEAD, a shallow clone, since present and
missing, a clone URL whose credentials must not come back, and the failures the git_facts role explains."""
from __future__ import annotations

import json

import pytest

from roles_support import git, make_repo, playbook

PASSWORD = "s3cret-git-token"


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "pink-logo")


def test_a_branch_its_commits_and_the_origin_without_credentials(run_module, repo):
    (repo / "src").mkdir()
    result = run_module("git_info", {"path": str(repo / "src"), "commit_count": 2})
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["commit"] == git(repo, "rev-parse", "HEAD")
    assert result["branch"] == "feature/JJ-12-pink-logo"
    assert result["repo_root"] == str(repo)
    assert result["shallow"] is False
    assert result["messages"] == "Document the colour\n\n\nJJ-2 make the logo pinker\n\nRelates to OPS-7; files are UTF-8."
    assert result["subject"] == "Document the colour"
    assert result["remote_url"] == "https://git.example.com/jj/pink-logo.git"
    assert result["since_commit"] == "" and result["since_problem"] == ""
    assert PASSWORD not in json.dumps(result) and "bob" not in json.dumps(result)
    # It only reads: check mode gives the same facts.
    checked = run_module("git_info", {"path": str(repo / "src"), "commit_count": 2}, check_mode=True)
    assert {k: v for k, v in checked.items() if k != "invocation"} == \
        {k: v for k, v in result.items() if k != "invocation"}


def test_a_detached_head_has_no_branch_and_token_urls_are_stripped(run_module, repo):
    git(repo, "checkout", "-q", "--detach")
    git(repo, "remote", "set-url", "origin", "https://ghp_0123456789abcdef@github.example.com/jj/pink-logo.git")
    result = run_module("git_info", {"path": str(repo)})
    assert result["branch"] == ""
    assert result["remote_url"] == "https://github.example.com/jj/pink-logo.git"
    assert "ghp_0123456789abcdef" not in json.dumps(result)
    git(repo, "remote", "set-url", "origin", "git@github.example.com:jj/pink-logo.git")
    assert run_module("git_info", {"path": str(repo)})["remote_url"] == "git@github.example.com:jj/pink-logo.git"
    git(repo, "remote", "remove", "origin")
    assert run_module("git_info", {"path": str(repo)})["remote_url"] == ""


def test_since_a_ref_reads_only_the_newer_commits(run_module, repo):
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    git(repo, "tag", "v1", first)
    result = run_module("git_info", {"path": str(repo), "since": "v1", "require_since": True})
    assert result["since_commit"] == first and result["since_problem"] == ""
    assert result["messages"] == "Document the colour\n\n\nJJ-2 make the logo pinker\n\nRelates to OPS-7; files are UTF-8."
    assert "Initial commit" not in result["messages"]


def test_since_missing_in_a_shallow_clone_explains_and_reads_the_last_commits(run_module, repo, tmp_path):
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature/JJ-12-pink-logo", f"file://{repo}", str(shallow))
    result = run_module("git_info", {"path": str(shallow), "since": first})
    assert not result.get("failed"), result
    assert result["shallow"] is True
    assert result["since_commit"] == ""
    assert result["since_problem"].startswith(f"{first} is not in {shallow}: it is a shallow clone")
    assert "GitHub Actions: actions/checkout with fetch-depth 0" in result["since_problem"]
    assert result["messages"] == "Document the colour"
    assert result["remote_url"] == f"file://{repo}"

    strict = run_module("git_info", {"path": str(shallow), "since": first, "require_since": True})
    assert strict["failed"] and strict["reason"] == "since_missing"
    assert strict["msg"].startswith(f"since: since={first} is not in {shallow}: it is a shallow clone")
    assert strict["msg"].endswith("or set require_since false to read the last 20 commits instead")


def test_since_missing_in_a_full_clone_names_no_shallow_clone(run_module, repo):
    result = run_module("git_info", {"path": str(repo), "since": "no-such-tag", "commit_count": 1})
    assert result["since_problem"] == (f"no-such-tag is not in {repo}: no commit of this checkout has that name "
                                       "(history rewritten, or another repository)")
    assert result["messages"] == "Document the colour"


def test_what_cannot_be_read_says_why(run_module, tmp_path):
    missing = run_module("git_info", {"path": str(tmp_path / "nowhere")})
    assert missing["failed"] and missing["reason"] == "missing"
    assert missing["msg"].startswith(f"path: {tmp_path / 'nowhere'} does not exist (git said: fatal: cannot change to")

    plain = tmp_path / "plain"
    plain.mkdir()
    not_git = run_module("git_info", {"path": str(plain)})
    assert not_git["reason"] == "not_a_checkout"
    assert not_git["msg"] == (f"path: {plain} is not a git checkout (git said: fatal: not a git repository (or any of "
                              "the parent directories): .git)")
    assert not_git["git_said"] == "fatal: not a git repository (or any of the parent directories): .git"

    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", str(empty))
    no_commits = run_module("git_info", {"path": str(empty)})
    assert no_commits["reason"] == "no_commits"
    assert no_commits["msg"].startswith(f"path: {empty} has no commits yet (git said: fatal: ambiguous argument 'HEAD'")


def test_a_ref_that_looks_like_an_option_is_refused(run_module, repo):
    result = run_module("git_info", {"path": str(repo), "since": "--output=/tmp/x"})
    assert result["failed"] and result["reason"] == "bad_since"
    assert result["msg"] == "since: must be a commit or a ref, not '--output=/tmp/x' (it would be read as an option)"
    count = run_module("git_info", {"path": str(repo), "commit_count": 0})
    assert count["failed"] and count["msg"] == "commit_count: must be 1 or more, not 0"


ROLE_PLAY = """- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: jiraops.integration.git_facts
      git_facts_since: "--output=/tmp/x"
"""


@pytest.mark.slow
def test_the_role_says_what_to_set_when_git_info_refuses(repo, tmp_path):
    """git_facts keeps its own messages, naming its variables, for what git_info refuses."""
    play = tmp_path / "play.yml"
    play.write_text(ROLE_PLAY)
    proc = playbook(str(play), {"JIRA_GIT_REPO": str(repo)})
    assert proc.returncode != 0
    assert ('git_facts_since must be a commit or a ref, not "--output=/tmp/x" (it would be read as an option)'
            in proc.stdout.replace('\\"', '"'))
    play.write_text(ROLE_PLAY.replace('git_facts_since: "--output=/tmp/x"', 'git_facts_commit_count: ten'))
    proc = playbook(str(play), {"JIRA_GIT_REPO": str(repo)})
    assert proc.returncode != 0
    assert 'git_facts_commit_count must be a number of commits, 1 or more, not "ten"' in proc.stdout.replace('\\"', '"')
    assert "Traceback" not in proc.stdout + proc.stderr
