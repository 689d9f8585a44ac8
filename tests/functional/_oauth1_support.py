"""Shared by the OAuth 1.0a tests: key pairs, an application link made over Jira's REST API, an independent dance."""
from __future__ import annotations

import functools

import requests
from oauthlib.oauth1 import SIGNATURE_RSA
from requests_oauthlib import OAuth1Session

from ansible_collections.jiraops.integration.plugins.module_utils import _keys

ADMIN = ("admin", "admin")
XSRF = {"X-Atlassian-Token": "no-check", "Accept": "application/json"}


class KeyPair:
    def __init__(self, size=2048):
        key = _keys.generate_private_key(size)
        self.private_pem = _keys.private_key_pem(key).decode()
        self.public_pem = _keys.public_key_pem(key)
        self.oneline = _keys.public_key_oneline(key)
        self.fingerprint = _keys.fingerprint(key)

    def write(self, directory, name="jira_privatekey.pem"):
        path = directory / name
        path.write_text(self.private_pem)
        path.chmod(0o600)
        return str(path)


@functools.lru_cache(maxsize=None)
def keypair(index=0):
    """A few key pairs per test session: RSA generation is the slow part of these tests."""
    return KeyPair()


def create_link(url, name="Ansible", app_url="https://ansible.example.com", consumer_key="jiraops", public=None):
    """An application link with an incoming consumer, made the way an admin script would (not with the module)."""
    resp = requests.put(f"{url}/rest/applinks/3.0/applicationlink", auth=ADMIN, headers=XSRF, timeout=10,
                        json={"id": None, "name": name, "rpcUrl": app_url, "displayUrl": app_url, "typeId": "generic"})
    assert resp.status_code == 201, resp.text
    link_id = resp.json()["resources-created"][0]["href"].rsplit("/", 1)[1]
    if consumer_key:
        resp = requests.put(
            f"{url}/rest/applinks-oauth/1.0/applicationlink/{link_id}/authentication/consumer", auth=ADMIN,
            headers=XSRF, timeout=10,
            json={"key": consumer_key, "name": name, "description": "", "sharedSecret": None,
                  "publicKey": public or keypair().oneline, "outgoing": False, "twoLOAllowed": False})
        assert resp.status_code == 201, resp.text
    return link_id


def approve(url, request_token, user="alice", approve_it=True):
    resp = requests.post(f"{url}/_emulator/oauth1/approve", timeout=10,
                         json={"oauth_token": request_token, "user": user, "approve": approve_it})
    resp.raise_for_status()
    return resp.json()


def independent_dance(url, consumer_key="jiraops", private_pem=None, user="alice"):
    """The whole dance with requests-oauthlib's OAuth1Session only: no code of the collection involved."""
    private_pem = private_pem or keypair().private_pem
    session = OAuth1Session(consumer_key, signature_method=SIGNATURE_RSA, rsa_key=private_pem, callback_uri="oob")
    request_token = session.fetch_request_token(f"{url}/plugins/servlet/oauth/request-token")
    verifier = approve(url, request_token["oauth_token"], user)["verifier"]
    session = OAuth1Session(consumer_key, signature_method=SIGNATURE_RSA, rsa_key=private_pem,
                            resource_owner_key=request_token["oauth_token"], verifier=verifier)
    return session.fetch_access_token(f"{url}/plugins/servlet/oauth/access-token")


def control(url, path):
    resp = requests.get(f"{url}/_emulator{path}", timeout=10)
    resp.raise_for_status()
    return resp.json()


def age_token(emulator, kind, token, seconds):
    """Move a token's creation and expiry ``seconds`` into the past in the emulator's store, as if that much time
    had passed (the emulator then judges it on its own clock, as Jira would): no test waits for a lifetime."""
    with emulator.state.lock:
        record = emulator.state.features["oauth1"][kind][token]
        record["created"] -= seconds
        record["expires_at"] -= seconds
        return record["expires_at"] - record["created"]
