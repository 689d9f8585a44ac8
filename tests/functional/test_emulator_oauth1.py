"""The emulator's OAuth 1.0a provider and application-link API, driven by an independent client over real HTTP.

requests-oauthlib's OAuth1Session / OAuth1 sign every request here; nothing of the collection is involved, so
these tests pin down what the emulator accepts and refuses the way Jira does.
"""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC, SIGNATURE_RSA
from requests_oauthlib import OAuth1, OAuth1Session

from _oauth1_support import ADMIN, XSRF, age_token, approve, control, create_link, independent_dance, keypair

REQUEST_TOKEN = "/plugins/servlet/oauth/request-token"
ACCESS_TOKEN = "/plugins/servlet/oauth/access-token"


def signed(access, consumer_key="jiraops", private_pem=None, **kw):
    return OAuth1(consumer_key, signature_method=SIGNATURE_RSA, rsa_key=private_pem or keypair().private_pem,
                  resource_owner_key=access["oauth_token"], **kw)


def problem(resp):
    return parse_qs(resp.text).get("oauth_problem", [None])[0]


def test_independent_client_completes_the_dance_and_calls_as_the_approver(emulator):
    create_link(emulator.url)
    access = independent_dance(emulator.url, user="bob")
    assert access["oauth_token"] and access["oauth_token_secret"]
    resp = requests.get(f"{emulator.url}/rest/api/2/issue/JJ-2", auth=signed(access), timeout=10)
    assert resp.status_code == 200 and resp.json()["fields"]["summary"] == "Jira Junior logo is not pink enough"
    me = requests.get(f"{emulator.url}/rest/api/2/myself", auth=signed(access), timeout=10).json()
    assert me["name"] == "bob" and me["authenticatedVia"] == "oauth1"
    verified = control(emulator.url, "/oauth1/verified")["verified"]
    assert [(v["path"], v["user"], v["consumer_key"]) for v in verified] == [
        ("/rest/api/2/issue/JJ-2", "bob", "jiraops"), ("/rest/api/2/myself", "bob", "jiraops")]


def test_token_replies_are_form_encoded(emulator):
    create_link(emulator.url)
    session = OAuth1Session("jiraops", signature_method=SIGNATURE_RSA, rsa_key=keypair().private_pem,
                            callback_uri="oob")
    resp = session.post(f"{emulator.url}{REQUEST_TOKEN}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = parse_qs(resp.text)
    assert set(form) >= {"oauth_token", "oauth_token_secret", "oauth_callback_confirmed"}


def test_wrong_private_key_is_signature_invalid(emulator):
    create_link(emulator.url)
    access = independent_dance(emulator.url)
    resp = requests.get(f"{emulator.url}/rest/api/2/myself", auth=signed(access, private_pem=keypair(1).private_pem),
                        timeout=10)
    assert resp.status_code == 401 and problem(resp) == "signature_invalid"
    assert 'oauth_problem="signature_invalid"' in resp.headers["WWW-Authenticate"]
    session = OAuth1Session("jiraops", signature_method=SIGNATURE_RSA, rsa_key=keypair(1).private_pem,
                            callback_uri="oob")
    resp = session.post(f"{emulator.url}{REQUEST_TOKEN}")
    assert resp.status_code == 401 and problem(resp) == "signature_invalid"


def test_replayed_nonce_is_refused(emulator):
    create_link(emulator.url)
    access = independent_dance(emulator.url)
    prepared = requests.Request("GET", f"{emulator.url}/rest/api/2/myself", auth=signed(access)).prepare()
    with requests.Session() as session:
        first = session.send(prepared, timeout=10)
        replay = session.send(prepared, timeout=10)
    assert first.status_code == 200
    assert replay.status_code == 401 and problem(replay) == "nonce_used"


def test_same_nonce_with_a_new_timestamp_is_a_new_request(emulator):
    create_link(emulator.url)
    access = independent_dance(emulator.url)
    now = int(time.time())
    first = requests.get(f"{emulator.url}/rest/api/2/myself", timeout=10,
                         auth=signed(access, nonce="n0nce-fixed", timestamp=str(now - 1)))
    second = requests.get(f"{emulator.url}/rest/api/2/myself", timeout=10,
                          auth=signed(access, nonce="n0nce-fixed", timestamp=str(now)))
    assert first.status_code == 200 and second.status_code == 200


@pytest.mark.parametrize("skew", [-3600, 3600])
def test_stale_or_future_timestamp_is_refused(emulator, skew):
    create_link(emulator.url)
    access = independent_dance(emulator.url)
    resp = requests.get(f"{emulator.url}/rest/api/2/myself", timeout=10,
                        auth=signed(access, timestamp=str(int(time.time()) + skew)))
    assert resp.status_code == 400 and problem(resp) == "timestamp_refused"
    low, high = parse_qs(resp.text)["oauth_acceptable_timestamps"][0].split("-")
    assert int(low) <= time.time() <= int(high)


def test_timestamp_window_is_configurable(emulator):
    create_link(emulator.url)
    access = independent_dance(emulator.url)
    emulator.configure(oauth1_timestamp_window=30)
    resp = requests.get(f"{emulator.url}/rest/api/2/myself", timeout=10,
                        auth=signed(access, timestamp=str(int(time.time()) - 60)))
    assert problem(resp) == "timestamp_refused"


def test_unknown_consumer_and_hmac_are_refused(emulator):
    create_link(emulator.url)
    session = OAuth1Session("nobody", signature_method=SIGNATURE_RSA, rsa_key=keypair().private_pem, callback_uri="oob")
    resp = session.post(f"{emulator.url}{REQUEST_TOKEN}")
    assert resp.status_code == 401 and problem(resp) == "consumer_key_unknown"
    session = OAuth1Session("jiraops", client_secret="shared", signature_method=SIGNATURE_HMAC, callback_uri="oob")
    resp = session.post(f"{emulator.url}{REQUEST_TOKEN}")
    assert resp.status_code == 400 and problem(resp) == "signature_method_rejected"


def test_missing_callback_is_parameter_absent(emulator):
    create_link(emulator.url)
    session = OAuth1Session("jiraops", signature_method=SIGNATURE_RSA, rsa_key=keypair().private_pem)
    resp = session.post(f"{emulator.url}{REQUEST_TOKEN}")
    assert resp.status_code == 400 and problem(resp) == "parameter_absent"
    assert "oauth_callback" in parse_qs(resp.text)["oauth_parameters_absent"][0]


def test_unsigned_rest_call_with_oauth_scheme_is_parameter_absent(emulator):
    resp = requests.get(f"{emulator.url}/rest/api/2/myself", headers={"Authorization": 'OAuth oauth_token="x"'},
                        timeout=10)
    assert resp.status_code == 400 and problem(resp) == "parameter_absent"


def _request_token(url, private_pem=None):
    session = OAuth1Session("jiraops", signature_method=SIGNATURE_RSA, rsa_key=private_pem or keypair().private_pem,
                            callback_uri="oob")
    return session.fetch_request_token(f"{url}{REQUEST_TOKEN}")["oauth_token"]


def _exchange(url, token, verifier):
    session = OAuth1Session("jiraops", signature_method=SIGNATURE_RSA, rsa_key=keypair().private_pem,
                            resource_owner_key=token, verifier=verifier)
    return session.post(f"{url}{ACCESS_TOKEN}")


def test_unapproved_denied_wrong_verifier_and_reused_tokens(emulator):
    create_link(emulator.url)
    token = _request_token(emulator.url)
    resp = _exchange(emulator.url, token, "guess1")
    assert resp.status_code == 401 and problem(resp) == "permission_unknown"

    denied = _request_token(emulator.url)
    approve(emulator.url, denied, approve_it=False)
    assert problem(_exchange(emulator.url, denied, "guess1")) == "permission_denied"

    verifier = approve(emulator.url, token)["verifier"]
    assert problem(_exchange(emulator.url, token, verifier[::-1] + "x")) == "token_rejected"
    assert _exchange(emulator.url, token, verifier).status_code == 200
    assert problem(_exchange(emulator.url, token, verifier)) == "token_used"
    assert problem(_exchange(emulator.url, "neverIssuedToken123", verifier)) == "token_rejected"


def test_request_tokens_expire(emulator):
    create_link(emulator.url)
    emulator.configure(oauth1_request_token_ttl=1)
    token = _request_token(emulator.url)
    assert age_token(emulator, "request_tokens", token, 1.1) == 1, "the configured lifetime is the token's"
    resp = requests.post(f"{emulator.url}/_emulator/oauth1/approve", json={"oauth_token": token}, timeout=10)
    assert resp.status_code == 409 and "expired" in resp.json()["error"]
    emulator.state.features["oauth1"]["request_tokens"][token].update(status="approved", verifier="abc123")
    resp = _exchange(emulator.url, token, "abc123")
    assert resp.status_code == 401 and problem(resp) == "token_expired"


def test_request_tokens_live_ten_minutes_by_default(emulator):
    create_link(emulator.url)
    token = _request_token(emulator.url)
    record = control(emulator.url, "/oauth1/tokens")["request_tokens"][0]
    assert record["token"] == token
    assert record["expires_at"] - record["created"] == 600


def test_access_tokens_expire(emulator):
    create_link(emulator.url)
    emulator.configure(oauth1_access_token_ttl=1)
    access = independent_dance(emulator.url)
    assert int(access["oauth_expires_in"]) == 1
    assert age_token(emulator, "access_tokens", access["oauth_token"], 1.1) == 1
    resp = requests.get(f"{emulator.url}/rest/api/2/myself", auth=signed(access), timeout=10)
    assert resp.status_code == 401 and problem(resp) == "token_expired"


def test_deleting_the_link_revokes_its_tokens(emulator):
    link_id = create_link(emulator.url)
    access = independent_dance(emulator.url)
    resp = requests.delete(f"{emulator.url}/rest/applinks/3.0/applinks/{link_id}", auth=ADMIN, headers=XSRF,
                           timeout=10)
    assert resp.status_code == 204
    resp = requests.get(f"{emulator.url}/rest/api/2/myself", auth=signed(access), timeout=10)
    assert resp.status_code == 401 and problem(resp) == "consumer_key_unknown"


def test_browser_authorize_page_shows_the_verification_code(emulator):
    create_link(emulator.url)
    token = _request_token(emulator.url)
    page = requests.get(f"{emulator.url}/plugins/servlet/oauth/authorize", params={"oauth_token": token}, timeout=10)
    assert page.status_code == 401, "a user must log in before approving"
    page = requests.get(f"{emulator.url}/plugins/servlet/oauth/authorize", params={"oauth_token": token},
                        auth=("alice", "alice-password"), timeout=10)
    assert page.status_code == 200 and "Allow" in page.text
    done = requests.post(f"{emulator.url}/plugins/servlet/oauth/authorize", data={"oauth_token": token,
                         "approve": "Allow"}, auth=("alice", "alice-password"), timeout=10)
    record = control(emulator.url, "/oauth1/tokens")["request_tokens"][0]
    assert record["status"] == "approved" and record["user"] == "alice"
    assert f"<code>{record['verifier']}</code>" in done.text
    assert _exchange(emulator.url, token, record["verifier"]).status_code == 200


def test_callback_redirect_carries_the_verifier(emulator):
    create_link(emulator.url)
    session = OAuth1Session("jiraops", signature_method=SIGNATURE_RSA, rsa_key=keypair().private_pem,
                            callback_uri="https://ansible.example.com/callback")
    token = session.fetch_request_token(f"{emulator.url}{REQUEST_TOKEN}")["oauth_token"]
    resp = requests.post(f"{emulator.url}/plugins/servlet/oauth/authorize", data={"oauth_token": token},
                         auth=("bob", "bob-password"), allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["oauth_token"] == [token] and query["oauth_verifier"][0]


# -- application links ----------------------------------------------------------------------------------------
def test_applinks_are_admin_only(emulator):
    url = f"{emulator.url}/rest/applinks/3.0/applinks"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, auth=("alice", "alice-password"), timeout=10).status_code == 403
    assert requests.get(url, auth=ADMIN, headers={"Accept": "application/json"}, timeout=10).json() == []


def test_mutating_calls_without_the_xsrf_header_are_refused(emulator):
    body = {"id": None, "name": "A", "rpcUrl": "https://a.example.com", "displayUrl": "https://a.example.com",
            "typeId": "generic"}
    resp = requests.put(f"{emulator.url}/rest/applinks/3.0/applicationlink", json=body, auth=ADMIN, timeout=10)
    assert resp.status_code == 403 and resp.text == "XSRF check failed"
    link_id = create_link(emulator.url, consumer_key=None)
    for method, path in (("DELETE", f"/rest/applinks/3.0/applinks/{link_id}"),
                         ("PUT", f"/rest/applinks/3.0/status/{link_id}/oauth")):
        resp = requests.request(method, emulator.url + path, auth=ADMIN, timeout=10,
                                json={"incoming": {"enabled": False}})
        assert resp.status_code == 403 and resp.text == "XSRF check failed"
    assert control(emulator.url, "/applinks")["count"] == 1


def test_create_answers_a_status_entity_xml_unless_json_is_accepted(emulator):
    body = {"id": None, "name": "X", "rpcUrl": "https://x.example.com", "displayUrl": "https://x.example.com",
            "typeId": "generic"}
    resp = requests.put(f"{emulator.url}/rest/applinks/3.0/applicationlink", json=body, auth=ADMIN, timeout=10,
                        headers={"X-Atlassian-Token": "no-check"})
    assert resp.status_code == 201 and resp.headers["Content-Type"].startswith("application/xml")
    link_id = control(emulator.url, "/applinks")["applinks"][0]["id"]
    assert f'<resources-created><link href="{emulator.url}/rest/applinks/3.0/applicationlink/{link_id}"' in resp.text


def test_links_are_listed_with_type_not_type_id(emulator):
    create_link(emulator.url)
    links = requests.get(f"{emulator.url}/rest/applinks/3.0/applinks", auth=ADMIN,
                         headers={"Accept": "application/json"}, timeout=10).json()
    assert links[0]["type"] == "generic" and "typeId" not in links[0]


def test_duplicate_names_urls_and_consumer_keys_are_refused(emulator):
    create_link(emulator.url)
    dup = {"id": None, "name": "ansible", "rpcUrl": "https://other.example.com", "typeId": "generic"}
    resp = requests.put(f"{emulator.url}/rest/applinks/3.0/applicationlink", json=dup, auth=ADMIN, headers=XSRF,
                        timeout=10)
    assert resp.status_code == 400 and "already exists" in resp.text
    dup = {"id": None, "name": "Other", "rpcUrl": "https://ansible.example.com/", "typeId": "generic"}
    resp = requests.put(f"{emulator.url}/rest/applinks/3.0/applicationlink", json=dup, auth=ADMIN, headers=XSRF,
                        timeout=10)
    assert resp.status_code == 400 and "already been configured" in resp.text
    other = create_link(emulator.url, name="Other", app_url="https://other.example.com", consumer_key=None)
    resp = requests.put(f"{emulator.url}/rest/applinks-oauth/1.0/applicationlink/{other}/authentication/consumer",
                        auth=ADMIN, headers=XSRF, timeout=10,
                        json={"key": "jiraops", "name": "Other", "publicKey": keypair(1).oneline, "outgoing": False})
    assert resp.status_code == 409 and "Ansible" in resp.text


def test_rpc_url_and_type_cannot_change(emulator):
    link_id = create_link(emulator.url, consumer_key=None)
    for method, path in (("POST", f"/rest/applinks/3.0/applicationlink/{link_id}"),
                         ("PUT", f"/rest/applinks/3.0/applinks/{link_id}")):
        for change in ({"rpcUrl": "https://moved.example.com"}, {"typeId": "confluence"}):
            body = {"id": link_id, "name": "Ansible", "rpcUrl": "https://ansible.example.com", "typeId": "generic"}
            body.update(change)
            resp = requests.request(method, emulator.url + path, json=body, auth=ADMIN, headers=XSRF, timeout=10)
            assert resp.status_code == 400 and "cannot be changed" in resp.text


def test_unmapped_methods_answer_405(emulator):
    """Jira maps no PUT on .../applicationlink/{id} and no DELETE on the consumer resource."""
    link_id = create_link(emulator.url)
    body = {"id": link_id, "name": "Renamed", "rpcUrl": "https://ansible.example.com", "typeId": "generic"}
    resp = requests.put(f"{emulator.url}/rest/applinks/3.0/applicationlink/{link_id}", json=body, auth=ADMIN,
                        headers=XSRF, timeout=10)
    assert resp.status_code == 405
    resp = requests.delete(f"{emulator.url}{CONSUMER.format(link_id)}", auth=ADMIN, headers=XSRF, timeout=10)
    assert resp.status_code == 405
    [link] = control(emulator.url, "/applinks")["applinks"]
    assert link["name"] == "Ansible" and link["consumer"]["key"] == "jiraops"


def test_both_update_resources_rename_and_v3_clears_a_missing_primary(emulator):
    link_id = create_link(emulator.url, consumer_key=None)
    assert control(emulator.url, "/applinks")["applinks"][0]["primary"] is True
    resp = requests.post(f"{emulator.url}/rest/applinks/3.0/applicationlink/{link_id}", auth=ADMIN, headers=XSRF,
                         timeout=10, json={"id": link_id, "name": "One", "rpcUrl": "https://ansible.example.com",
                                           "displayUrl": "https://ansible.example.com", "typeId": "generic"})
    assert resp.status_code == 200 and resp.json()["resources-updated"][0]["href"].endswith(link_id)
    v3 = f"{emulator.url}/rest/applinks/3.0/applinks/{link_id}"
    body = {"name": "Two", "rpcUrl": "https://ansible.example.com", "displayUrl": "https://ansible.example.com"}
    resp = requests.put(v3, json=dict(body, primary=True), auth=ADMIN, headers=XSRF, timeout=10)
    assert resp.status_code == 200 and resp.json()["name"] == "Two" and resp.json()["primary"] is True
    resp = requests.put(v3, json=dict(body, name="Three"), auth=ADMIN, headers=XSRF, timeout=10)
    assert resp.status_code == 200
    [link] = control(emulator.url, "/applinks")["applinks"]
    assert link["name"] == "Three" and link["primary"] is False


def test_create_reply_lists_resources_created_as_an_array_in_json(emulator):
    body = {"id": None, "name": "X", "rpcUrl": "https://x.example.com", "displayUrl": "https://x.example.com",
            "typeId": "generic"}
    resp = requests.put(f"{emulator.url}/rest/applinks/3.0/applicationlink", json=body, auth=ADMIN, headers=XSRF,
                        timeout=10)
    link_id = control(emulator.url, "/applinks")["applinks"][0]["id"]
    assert resp.status_code == 201 and resp.json()["resources-created"] == [
        {"href": f"{emulator.url}/rest/applinks/3.0/applicationlink/{link_id}", "rel": "applicationlink"}]


CONSUMER = "/rest/applinks-oauth/1.0/applicationlink/{}/authentication/consumer"


def test_consumer_resource_answers_a_list_and_404_when_there_is_none(emulator):
    link_id = create_link(emulator.url, consumer_key=None)
    url = emulator.url + CONSUMER.format(link_id)
    assert requests.get(url, auth=ADMIN, headers=XSRF, timeout=10).status_code == 404
    resp = requests.put(url, auth=ADMIN, headers=XSRF, timeout=10,
                        json={"key": "jiraops", "name": "Ansible", "publicKey": keypair().oneline, "outgoing": False})
    assert resp.status_code == 201
    requests.post(f"{emulator.url}/_emulator/applinks/{link_id}/outgoing-consumer", json={}, timeout=10)
    consumers = requests.get(url, auth=ADMIN, headers=XSRF, timeout=10).json()["consumers"]
    shapes = [(c["signatureMethod"], c["publicKey"] is not None) for c in consumers]
    assert shapes == [("HMAC_SHA1", False), ("RSA_SHA1", True)]
    assert consumers[1]["key"] == "jiraops" and consumers[1]["publicKey"] == keypair().oneline
    assert {"key", "name", "description", "signatureMethod", "publicKey", "callback", "twoLOAllowed",
            "executingTwoLOUser", "twoLOImpersonationAllowed"} <= set(consumers[1])


def test_another_key_orphans_the_old_consumer_and_incoming_off_removes_the_linked_one(emulator):
    link_id = create_link(emulator.url)
    access = independent_dance(emulator.url)
    url = emulator.url + CONSUMER.format(link_id)
    resp = requests.put(url, auth=ADMIN, headers=XSRF, timeout=10,
                        json={"key": "jiraops-2", "name": "Ansible", "publicKey": keypair(1).oneline})
    assert resp.status_code == 201
    store = control(emulator.url, "/applinks")["consumers"]
    assert sorted((c["key"], c["link_id"]) for c in store) == [("jiraops", None), ("jiraops-2", link_id)]
    # The old consumer's access token still works, as it does in Jira.
    session = OAuth1Session("jiraops", signature_method=SIGNATURE_RSA, rsa_key=keypair().private_pem,
                            resource_owner_key=access["oauth_token"])
    assert session.get(f"{emulator.url}/rest/api/2/myself", timeout=10).status_code == 200

    status = f"{emulator.url}/rest/applinks/3.0/status/{link_id}/oauth"
    assert requests.get(status, auth=ADMIN, timeout=10).json()["incoming"]["enabled"] is True
    resp = requests.put(status, auth=ADMIN, headers=XSRF, timeout=10, json={"incoming": {"enabled": False}})
    assert resp.status_code == 400 and "both sides" in resp.text, "Jira needs the outgoing side too"
    resp = requests.put(status, auth=ADMIN, headers=XSRF, timeout=10,
                        json={"incoming": {"enabled": False}, "outgoing": {"enabled": False}})
    assert resp.status_code == 204
    assert requests.get(status, auth=ADMIN, timeout=10).json()["incoming"]["enabled"] is False
    assert requests.get(url, auth=ADMIN, headers=XSRF, timeout=10).status_code == 404
    assert [c["key"] for c in control(emulator.url, "/applinks")["consumers"]] == ["jiraops"]
    # The orphan stays until the incoming side of a link holding it is turned off; its tokens with it.
    assert [t["token"] for t in control(emulator.url, "/oauth1/tokens")["access_tokens"]] == [access["oauth_token"]]


def test_consumer_public_key_must_be_rsa(emulator):
    link_id = create_link(emulator.url, consumer_key=None)
    resp = requests.put(f"{emulator.url}/rest/applinks-oauth/1.0/applicationlink/{link_id}/authentication/consumer",
                        auth=ADMIN, headers=XSRF, timeout=10,
                        json={"key": "k", "name": "n", "publicKey": "bm90IGEga2V5", "outgoing": False})
    assert resp.status_code == 400 and "publicKey" in resp.text
