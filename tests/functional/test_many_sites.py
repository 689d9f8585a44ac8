"""One play reports the same build to two Jira Cloud sites of an inventory, each with its own OAuth credentials
from host vars: the emulator serves both sites (two cloud ids, two clients) and sees one token request per site."""
from __future__ import annotations

import json
import sys

import pytest

from roles_support import CLOUD_ID, git, playbook, repo  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.slow
SITE_B = "22222222-3333-4444-5555-666666666666"
CLIENTS = {"site-a": ("emu-site-a-client", "site-a-secret-0123456789", CLOUD_ID),
           "site-b": ("emu-site-b-client", "site-b-secret-9876543210", SITE_B)}


def test_one_build_to_two_sites_with_their_own_credentials(emulator, repo, tmp_path):
    emulator.configure(extra_sites=[{"id": SITE_B, "url": "https://pink-b.atlassian.net", "name": "pink-b"}])
    for client_id, secret, cloud_id in CLIENTS.values():
        emulator.control("POST", "/oauth2/clients", json={
            "kind": "credentials", "client_id": client_id, "client_secret": secret, "cloud_id": cloud_id,
            "scopes": ["write:build:jira-software", "read:build:jira-software"]})
    inventory = tmp_path / "sites.yml"
    inventory.write_text(json.dumps({"jira_sites": {"hosts": {
        name: {"jira_cloud_id": cloud_id, "jira_client_id": client_id, "jira_client_secret": secret,
               "ansible_python_interpreter": sys.executable}
        for name, (client_id, secret, cloud_id) in CLIENTS.items()}}}))
    proc = playbook("report_build_sites", {
        "JIRA_API_URL": emulator.url, "JIRA_TOKEN_CACHE": str(tmp_path / "tokens.json"), "JIRA_GIT_REPO": str(repo),
        "JOB_NAME": "pink-logo", "BUILD_NUMBER": "12", "BUILD_URL": "https://ci.example.com/job/pink-logo/12/",
    }, "-i", str(inventory))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("Jira build pink-logo #12 (successful) on JJ-12, JJ-2, OPS-7: 1 accepted") == 2

    for client_id, secret, cloud_id in CLIENTS.values():
        tokens = emulator.control("GET", "/oauth2/token-requests", params={"client_id": client_id})
        assert tokens["count"] == 1, tokens  # the read-back and the send share the token
        posts = emulator.control("GET", "/requests", params={
            "path": f"/jira/builds/0.1/cloud/{cloud_id}/bulk", "method": "POST", "raw": "1"})["requests"]
        assert len(posts) == 1 and posts[0]["status"] == 202
        token = posts[0]["headers"]["Authorization"].split()[1]
        assert emulator.state.bearer_tokens[token]["client_id"] == client_id
        assert secret not in proc.stdout + proc.stderr
