"""JiraClient's connection reuse against an emulator that keeps connections alive and closes idle ones."""
from __future__ import annotations

import time

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError
from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client
from jira_emulator import EmulatorServer
from jira_emulator.testing import Emulator

IDLE = 0.3  # this server's idle timeout: short, so that a test outwaits it in well under a second


@pytest.fixture(scope="module")
def idle_server():
    with EmulatorServer(idle_timeout=IDLE) as server:
        yield server


@pytest.fixture
def emu(idle_server):
    idle_server.state.reset()
    return Emulator(idle_server)


def _client(emu):
    return build_client({"url": emu.url, "api_url": emu.url, "auth_url": emu.url, "auth_method": "auto",
                         "username": "alice", "password": "alice-password", "timeout": 5, "validate_certs": True,
                         "max_retries": 3, "retry_budget": 30})


def _outwait_idle_timeout():
    """Longer than the idle timeout plus the server's check interval (a quarter of it), with room for a busy host."""
    time.sleep(IDLE * 2.5)


def test_a_clients_requests_share_one_connection(emu):
    client = _client(emu)
    for _i in range(3):
        assert client.get("/rest/api/2/myself").json["name"] == "alice"
    client.request("POST", "/rest/api/2/issue/JJ-2/comment", json={"body": "pink"}, expected=(201,))
    peers = [entry["peer"] for entry in emu.requests()]
    assert len(peers) == 4 and len(set(peers)) == 1, f"one connection for four requests: {peers}"


def test_a_get_after_the_server_closed_the_idle_connection_succeeds_unretried(emu):
    client = _client(emu)
    for _i in range(2):
        assert client.get("/rest/api/2/myself").status == 200
    _outwait_idle_timeout()
    resp = client.get("/rest/api/2/myself")
    assert resp.status == 200 and resp.retries == 0, "the closed connection was noticed before it was used"
    first, second, third = (entry["peer"] for entry in emu.requests("/rest/api/2/myself"))
    assert first == second != third, "kept alive while in use, a new connection once the server closed it"


def test_a_post_after_the_server_closed_the_idle_connection_is_sent_once_on_a_new_one(emu):
    """urllib3 checks a pooled connection before reusing it, so a POST never goes out on one the server closed."""
    client = _client(emu)
    for _i in range(2):
        assert client.get("/rest/api/2/myself").status == 200
    _outwait_idle_timeout()
    resp = client.request("POST", "/rest/api/2/issue/JJ-2/comment", json={"body": "pink"}, expected=(201,))
    assert resp.retries == 0 and client.requests_made == 3
    posts = emu.requests("/rest/api/2/issue/JJ-2/comment", method="POST")
    first, second = (entry["peer"] for entry in emu.requests("/rest/api/2/myself"))
    assert len(posts) == 1 and first == second != posts[0]["peer"]


def test_a_post_whose_kept_alive_connection_closes_without_a_reply_is_not_sent_again(emu):
    """The race urllib3's check cannot rule out (the server closing as the POST goes out) looks like this."""
    client = _client(emu)
    assert client.get("/rest/api/2/myself").status == 200
    emu.fault("/rest/api/2/issue/JJ-2/comment", method="POST", kind="drop", times=1)
    with pytest.raises(JiraError) as err:
        client.request("POST", "/rest/api/2/issue/JJ-2/comment", json={"body": "pink"}, expected=(201,))
    assert "may have processed this POST" in str(err.value) and err.value.retries == 0
    posts = emu.requests("/rest/api/2/issue/JJ-2/comment", method="POST")
    assert len(posts) == 1 and posts[0]["peer"] == emu.requests("/rest/api/2/myself")[0]["peer"]
    assert client.get("/rest/api/2/myself").status == 200, "the client goes on with a new connection"
