"""oauth2_client (Data Center incoming OAuth 2.0 clients) and cloud_id, run for real against the emulator."""
from __future__ import annotations

import json

import requests

from oauth2_support import APP, CC, REDIRECT, SCOPES, approve, base_args, datacenter_exchange

ADMIN = {"token": "admin-pat-0123456789abcdef"}


def client_args(emulator, **kw):
    args = base_args(emulator, **ADMIN)
    args.update(name="CI server", redirect_uris=[REDIRECT], scope="WRITE")
    args.update(kw)
    return {k: v for k, v in args.items() if v is not None}  # as Ansible does for options left out


def server_clients(emulator):
    return emulator.control("GET", "/oauth2/clients")["datacenter"]


def test_create_check_mode_then_apply_then_idempotent(emulator, run_module):
    check = run_module("oauth2_client", client_args(emulator), check_mode=True, diff=True)
    assert check["changed"] is True and "client_secret" not in check
    assert check["diff"] == {"before": {}, "after": {"name": "CI server", "scope": "WRITE", "redirect_uris": [REDIRECT]}}
    assert server_clients(emulator) == []
    created = run_module("oauth2_client", client_args(emulator))
    assert created["changed"] is True and len(created["client_secret"]) == 64
    assert created["client"]["user_key"] == "admin"
    listed = server_clients(emulator)
    assert [c["clientId"] for c in listed] == [created["client_id"]] and listed[0]["scope"] == "WRITE"
    again = run_module("oauth2_client", client_args(emulator, redirect_uris=[REDIRECT]), check_mode=True)
    assert again["changed"] is False
    again = run_module("oauth2_client", client_args(emulator))
    assert again["changed"] is False and again["client_id"] == created["client_id"]
    assert "client_secret" not in again, "the secret is returned only on create or rotate"
    methods = [r["method"] for r in emulator.requests("/rest/oauth2/latest/client")]
    assert methods == ["GET", "GET", "POST", "GET", "GET"]


def test_update_only_what_differs_and_leave_unset_alone(emulator, run_module):
    created = run_module("oauth2_client", client_args(emulator))
    other = "https://ci.example.com/other"
    res = run_module("oauth2_client", client_args(emulator, redirect_uris=[other, REDIRECT], scope=None), diff=True)
    assert res["changed"] is True
    assert res["diff"]["before"]["redirect_uris"] == [REDIRECT]
    assert res["diff"]["after"] == {"name": "CI server", "scope": "WRITE", "redirect_uris": sorted([other, REDIRECT])}
    server = server_clients(emulator)[0]
    assert server["scope"] == "WRITE" and sorted(server["redirects"]) == sorted([other, REDIRECT])
    assert server["clientId"] == created["client_id"]
    # order does not matter
    assert run_module("oauth2_client", client_args(emulator, redirect_uris=[REDIRECT, other]))["changed"] is False


def test_rotate_secret_returns_a_new_working_secret(emulator, run_module):
    created = run_module("oauth2_client", client_args(emulator))
    check = run_module("oauth2_client", client_args(emulator, rotate_secret=True), check_mode=True)
    assert check["changed"] is True and "client_secret" not in check
    rotated = run_module("oauth2_client", client_args(emulator, rotate_secret=True))
    assert rotated["changed"] is True and rotated["client_secret"] != created["client_secret"]
    # An incoming-link client has no client_credentials grant (Jira 8.22-10): the code exchange proves the secret.
    old = datacenter_exchange(emulator, run_module, created["client_id"], created["client_secret"])
    assert old.failed and old["status"] == 401 and "refused the client credentials" in old["msg"]
    new = datacenter_exchange(emulator, run_module, created["client_id"], rotated["client_secret"])
    assert not new.failed and new["scopes"] == ["WRITE"]


def test_absent_deletes_and_revokes(emulator, run_module):
    created = run_module("oauth2_client", client_args(emulator))
    token = datacenter_exchange(emulator, run_module, created["client_id"], created["client_secret"])["access_token"]
    check = run_module("oauth2_client", client_args(emulator, state="absent"), check_mode=True)
    assert check["changed"] is True and len(server_clients(emulator)) == 1
    gone = run_module("oauth2_client", client_args(emulator, state="absent"))
    assert gone["changed"] is True and server_clients(emulator) == []
    assert run_module("oauth2_client", client_args(emulator, state="absent"))["changed"] is False
    me = run_module("api", base_args(emulator, token=token, path="/rest/api/2/myself"))
    assert me.failed and me["status"] == 401 and "revoked" in me["msg"]


def test_create_needs_scope_and_redirects_and_admin(emulator, run_module):
    res = run_module("oauth2_client", client_args(emulator, scope=None))
    assert res.failed and res["msg"] == "scope: required to create the client 'CI server'"
    res = run_module("oauth2_client", client_args(emulator, redirect_uris=["ci.example.com/cb"]))
    assert res.failed and res["msg"].startswith("redirect_uris: item 0 ('ci.example.com/cb') must be an absolute")
    res = run_module("oauth2_client", client_args(emulator, token="alice-pat-0123456789abcdef"))
    assert res.failed and res["status"] == 403 and "administrator" in res["msg"]


def test_duplicate_names_are_a_clear_error(emulator, run_module):
    for _attempt in range(2):
        emulator_post = requests.post(
            f"{emulator.url}/rest/oauth2/latest/client", auth=("admin", "admin"), timeout=10,
            json={"name": "CI server", "scope": "READ", "redirects": [REDIRECT]})
        assert emulator_post.status_code == 201
    res = run_module("oauth2_client", client_args(emulator))
    assert res.failed and res["option"] == "name" and "2 OAuth 2.0 clients are named 'CI server'" in res["msg"]


def test_cloud_id_from_tenant_info(emulator, run_module):
    res = run_module("cloud_id", base_args(emulator))
    assert res == {**res, "changed": False, "source": "tenant_info", "cloud_id": emulator.state.config["cloud_id"]}
    assert emulator.requests("/_edge/tenant_info")[0]["headers"].get("Authorization") is None
    # with client credentials it still reads the tenant info (no token needed, none requested)
    res = run_module("cloud_id", base_args(emulator, **CC))
    assert res["cloud_id"] == emulator.state.config["cloud_id"]
    assert emulator.control("GET", "/oauth2/token-requests")["count"] == 0


def test_cloud_id_not_a_cloud_site(emulator, run_module):
    res = run_module("cloud_id", base_args(emulator, url=emulator.url + "/nothing-here"))
    assert res.failed and res["option"] == "url" and "it is not a Jira Cloud site" in res["msg"]


def test_cloud_id_from_accessible_resources(emulator, run_module):
    emulator.configure(extra_sites=[{"id": "22222222-0000-0000-0000-000000000002", "name": "other",
                                     "url": "https://other.atlassian.net"}])
    start = run_module("oauth2_token", base_args(emulator, **APP, grant_type="authorization_code",
                                                 redirect_uri=REDIRECT, scopes=SCOPES))
    done = run_module("oauth2_token", base_args(emulator, **APP, grant_type="authorization_code", redirect_uri=REDIRECT,
                                                code=approve(start["authorize_url"]), state=start["state"]))
    token = done["access_token"]
    both = run_module("cloud_id", base_args(emulator, token=token, url=None))
    assert both["source"] == "accessible_resources" and len(both["resources"]) == 2
    assert "cloud_id" not in both and "give url to choose one" in json.dumps(both.get("warnings"))
    one = run_module("cloud_id", base_args(emulator, token=token, url="https://OTHER.atlassian.net/"))
    assert one["cloud_id"] == "22222222-0000-0000-0000-000000000002" and one["site"]["name"] == "other"
    assert "read:jira-work" in one["site"]["scopes"]
    none = run_module("cloud_id", base_args(emulator, token=token, url="https://nope.atlassian.net"))
    assert none.failed and none["msg"].startswith("url: the token has no access to https://nope.atlassian.net")
    assert token not in json.dumps(none) and token not in json.dumps(one)
