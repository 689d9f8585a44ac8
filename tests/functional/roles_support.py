"""What the role tests share: a real git repository, a token the emulator knows, ansible-playbook with a clean
environment (only the variables a test gives, as on a CI runner)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import ansible_collections.jiraops.integration as collection

CLOUD_ID = "11111111-2222-3333-4444-555555555555"
TOKEN = "ci-token-for-the-roles-0123"
COLLECTIONS_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(list(collection.__path__)[0])))


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def make_repo(path):
    """A checkout on feature/JJ-12-pink-logo with commits naming issues, a remote URL carrying credentials."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "alice@example.com")
    git(path, "config", "user.name", "Alice Developer")
    (path / "logo.svg").write_text("<svg/>\n")
    git(path, "add", "logo.svg")
    git(path, "commit", "-qm", "Initial commit")
    git(path, "checkout", "-qb", "feature/JJ-12-pink-logo")
    (path / "logo.svg").write_text("<svg fill='pink'/>\n")
    git(path, "commit", "-qam", "JJ-2 make the logo pinker", "-m", "Relates to OPS-7; files are UTF-8.")
    (path / "README").write_text("pink\n")
    git(path, "add", "README")
    git(path, "commit", "-qm", "Document the colour")
    git(path, "remote", "add", "origin", "https://bob:s3cret-git-token@git.example.com/jj/pink-logo.git")
    return path


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "pink-logo")


@pytest.fixture
def emu(emulator):
    scopes = ["write:build:jira-software", "write:deployment:jira-software", "read:deployment:jira-software"]
    emulator.seed(bearer_tokens={TOKEN: {"user": "alice", "scopes": scopes, "expires_at": None, "client_id": "ci"}})
    return emulator


def playbook(name, env, *args, cwd=None):
    """Run a playbook of the collection (or a path) with only ``env`` (and PATH, HOME, locale) set."""
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    clean.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                 ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", PWD=str(cwd or env.get("JIRA_GIT_REPO", "/")))
    clean.update(env)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    target = name if os.path.sep in name else f"jiraops.integration.{name}"
    return subprocess.run([ansible_playbook, target, *args], env=clean, capture_output=True, text=True,
                          timeout=300, check=False, cwd=cwd)
