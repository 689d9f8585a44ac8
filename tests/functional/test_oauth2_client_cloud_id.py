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


def client_calls(emulator):
    """(method, path, status) of every call to the client-admin resource, in order."""
    return [(r["method"], r["path"], r["status"]) for r in emulator.requests("/rest/oauth2/latest/client")]


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
    assert client_calls(emulator)[2] == ("POST", "/rest/oauth2/latest/client", 200), "Jira creates with 200"


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
    # Jira's PUT takes the client's id (not its clientId) and answers 204 without a body: the result is read back.
    client_id = created["client"]["id"]
    assert client_id != created["client_id"]
    assert client_calls(emulator)[-2:] == [("PUT", f"/rest/oauth2/latest/client/{client_id}", 204),
                                           ("GET", f"/rest/oauth2/latest/client/{client_id}", 200)]
    assert res["client"] == {**created["client"], "redirect_uris": sorted([other, REDIRECT])}
    # order does not matter
    assert run_module("oauth2_client", client_args(emulator, redirect_uris=[REDIRECT, other]))["changed"] is False


def test_update_of_scope_and_check_mode_send_nothing_but_what_differs(emulator, run_module):
    created = run_module("oauth2_client", client_args(emulator))
    before = len(client_calls(emulator))
    check = run_module("oauth2_client", client_args(emulator, scope="READ"), check_mode=True, diff=True)
    assert check["changed"] is True and check["diff"]["after"]["scope"] == "READ"
    assert [c[0] for c in client_calls(emulator)[before:]] == ["GET"], "check mode only reads"
    res = run_module("oauth2_client", client_args(emulator, scope="READ"))
    assert res["changed"] is True and res["client"]["scope"] == "READ" and "client_secret" not in res
    assert server_clients(emulator)[0]["scope"] == "READ"
    put = emulator.requests("/rest/oauth2/latest/client/", method="PUT")[-1]
    assert put["path"].endswith("/" + created["client"]["id"]) and json.loads(put["body"]) == {
        "name": "CI server", "scope": "READ", "redirects": [REDIRECT]}
    assert run_module("oauth2_client", client_args(emulator, scope="READ"))["changed"] is False


def test_rotate_secret_returns_a_new_working_secret(emulator, run_module):
    created = run_module("oauth2_client", client_args(emulator))
    check = run_module("oauth2_client", client_args(emulator, rotate_secret=True), check_mode=True)
    assert check["changed"] is True and "client_secret" not in check
    assert [c[0] for c in client_calls(emulator)].count("PUT") == 0, "check mode resets nothing"
    rotated = run_module("oauth2_client", client_args(emulator, rotate_secret=True))
    assert rotated["changed"] is True and rotated["client_secret"] != created["client_secret"]
    # Jira's reset resource: PUT client/reset/{clientId} (here the clientId, not the id)
    assert client_calls(emulator)[-1] == ("PUT", f"/rest/oauth2/latest/client/reset/{created['client_id']}", 200)
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
    assert client_calls(emulator)[-1] == ("DELETE", f"/rest/oauth2/latest/client/{created['client']['id']}", 200)
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
    # Jira refuses a second client of the same name; two can still exist (a race, an import): stage them.
    for _attempt in range(2):
        emulator.control("POST", "/oauth2/clients", json={"kind": "datacenter", "name": "CI server",
                                                          "scope": "READ", "redirects": [REDIRECT]})
    res = run_module("oauth2_client", client_args(emulator))
    assert res.failed and res["option"] == "name" and "2 OAuth 2.0 clients are named 'CI server'" in res["msg"]


def test_secrets_in_the_client_list_stay_inside_the_module(emulator, run_module):
    """Jira lists every client with its clientSecret; the module returns a secret only on create or rotate."""
    other = run_module("oauth2_client", client_args(emulator, name="Other tool"))
    created = run_module("oauth2_client", client_args(emulator))
    listed = requests.get(f"{emulator.url}/rest/oauth2/latest/client", auth=("admin", "admin"), timeout=10).json()
    assert {c["clientSecret"] for c in listed} == {other["client_secret"], created["client_secret"]}
    for kw in ({}, {"scope": "READ"}, {"state": "absent"}):
        res = run_module("oauth2_client", client_args(emulator, **kw), diff=True)
        out = json.dumps(res)
        assert other["client_secret"] not in out and created["client_secret"] not in out, kw
    rotated = run_module("oauth2_client", client_args(emulator, name="Other tool", rotate_secret=True))
    assert other["client_secret"] not in json.dumps(rotated)


def test_client_admin_paths_answer_as_jira_maps_them(emulator, run_module):
    created = run_module("oauth2_client", client_args(emulator))
    base, admin = f"{emulator.url}/rest/oauth2/latest/client", ("admin", "admin")
    ident, client_id = created["client"]["id"], created["client_id"]
    # the path the module used before: no such resource in Jira
    assert requests.post(f"{base}/{client_id}/reset-secret", auth=admin, timeout=10).status_code == 404
    # mapped paths, other methods: 405
    assert requests.post(f"{base}/reset/{client_id}", auth=admin, timeout=10).status_code == 405
    assert requests.post(f"{base}/{ident}", auth=admin, json={}, timeout=10).status_code == 405
    # client/{id} is the id: the clientId there names no client
    for method in ("GET", "PUT", "DELETE"):
        resp = requests.request(method, f"{base}/{client_id}", auth=admin, json={"scope": "READ"}, timeout=10)
        assert resp.status_code == 404 and resp.json()["errorMessages"] == ["The client does not exist."], method
    # and reset/{clientId} is the clientId
    assert requests.put(f"{base}/reset/{ident}", auth=admin, timeout=10).status_code == 404
    got = requests.get(f"{base}/{ident}", auth=admin, timeout=10)
    assert got.status_code == 200 and got.json()["clientId"] == client_id
    # blank fields keep their value on update (Jira merges them); a second client cannot take the name
    assert requests.put(f"{base}/{ident}", auth=admin, json={"scope": "READ"}, timeout=10).status_code == 204
    assert server_clients(emulator)[0] == {**server_clients(emulator)[0], "scope": "READ", "name": "CI server",
                                           "redirects": [REDIRECT]}
    dup = requests.post(base, auth=admin, json={"name": "CI server", "scope": "READ", "redirects": [REDIRECT]},
                        timeout=10)
    assert dup.status_code == 400 and "name" in dup.json()["errors"]
    deleted = requests.delete(f"{base}/{ident}", auth=admin, timeout=10)
    assert deleted.status_code == 200 and deleted.json()["clientId"] == client_id


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
