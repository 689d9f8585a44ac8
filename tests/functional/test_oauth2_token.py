"""oauth2_token and the OAuth 2.0 auth methods run for real (in-process main()) against the emulator over HTTP."""
from __future__ import annotations

import json
import os
import stat
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from oauth2_support import APP, CC, REDIRECT, SCOPES, approve, base_args, chains, token_requests


def raw_requests(emulator, path):
    """The request log with credentials unmasked (the control API masks them unless asked)."""
    return emulator.control("GET", "/requests", params={"path": path, "raw": 1})["requests"]


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / "tokens.json")


def cc_args(emulator, cache=None, **kw):
    args = base_args(emulator, **CC)
    if cache:
        args["token_cache"] = cache
    args.update(kw)
    return args


def app_args(emulator, cache=None, **kw):
    args = base_args(emulator, **APP)
    if cache:
        args["token_cache"] = cache
    args.update(kw)
    return args


def authorize(emulator, run_module, cache=None, scopes=None, user="alice"):
    """Run 3LO for real: first step, user approval in the 'browser', exchange. Returns the exchange's result."""
    start = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                                scopes=scopes or SCOPES))
    assert not start.failed, start
    redirect_url = approve(start["authorize_url"], user=user)
    done = run_module("oauth2_token", app_args(emulator, cache, grant_type="authorization_code",
                                               redirect_uri=REDIRECT, code=redirect_url, state=start["state"]))
    assert not done.failed, done
    return done


# -- client credentials (2LO) -------------------------------------------------------------------------------
def test_client_credentials_are_cached_and_reused(emulator, run_module, cache):
    first = run_module("oauth2_token", cc_args(emulator, cache))
    assert not first.failed and first["changed"] is True and first["cached"] is False
    assert first["token_type"] == "Bearer" and 890 <= first["expires_in"] <= 900
    assert abs(first["expires_at"] - (time.time() + 900)) < 5
    assert {"read:jira-user", "read:jira-work", "write:jira-work", "write:build:jira-software"} <= set(first["scopes"])
    assert emulator.state.bearer_tokens[first["access_token"]]["client_id"] == CC["client_id"]
    second = run_module("oauth2_token", cc_args(emulator, cache))
    assert second["changed"] is False and second["cached"] is True
    assert second["access_token"] == first["access_token"]
    assert token_requests(emulator, client_id=CC["client_id"])["count"] == 1
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    sent = json.loads(emulator.requests("/oauth/token")[0]["body"])
    assert sent["audience"] == "api.atlassian.com" and sent["grant_type"] == "client_credentials"


def test_token_within_min_ttl_is_replaced_not_reused(emulator, run_module, cache):
    emulator.configure(oauth2_credentials_ttl=50)  # shorter than the default min_ttl of 60 s
    first = run_module("oauth2_token", cc_args(emulator, cache, min_ttl=10))
    again = run_module("oauth2_token", cc_args(emulator, cache, min_ttl=10))
    assert again["cached"] is True and again["access_token"] == first["access_token"]
    renewed = run_module("oauth2_token", cc_args(emulator, cache))  # min_ttl 60 > 50 s left
    assert renewed["changed"] is True and renewed["cached"] is False
    assert renewed["access_token"] != first["access_token"]
    assert token_requests(emulator, client_id=CC["client_id"])["count"] == 2


def test_api_module_uses_client_credentials_through_the_gateway(emulator, run_module, cache):
    cloud_id = emulator.state.config["cloud_id"]
    for _call in range(3):
        res = run_module("api", cc_args(emulator, cache, cloud_id=cloud_id, path="/rest/api/3/issue/JJ-2"))
        assert not res.failed, res
        assert res["url"] == f"{emulator.url}/ex/jira/{cloud_id}/rest/api/3/issue/JJ-2"
        assert res["json"]["key"] == "JJ-2"
    assert token_requests(emulator, client_id=CC["client_id"])["count"] == 1
    calls = raw_requests(emulator, f"/ex/jira/{cloud_id}/rest/api/3/issue/JJ-2")
    assert len(calls) == 3 and all(c["headers"]["Authorization"].startswith("Bearer emu-at-") for c in calls)


def test_client_credentials_without_cloud_id_say_why(emulator, run_module):
    res = run_module("api", cc_args(emulator, path="/rest/api/3/myself"))
    assert res.failed and res["option"] == "cloud_id"
    assert "only through the API gateway" in res["msg"] and "OAuth 2.0" in res["msg"]
    assert emulator.requests() == []


def test_cloud_token_is_refused_on_the_site_url(emulator, run_module):
    token = run_module("oauth2_token", cc_args(emulator))["access_token"]
    res = run_module("api", base_args(emulator, token=token, path="/rest/api/3/myself"))
    assert res.failed and res["status"] == 401
    assert "accepted only through the API gateway" in res["msg"]
    assert token not in json.dumps(res)


def test_wrong_client_secret_is_a_clear_error(emulator, run_module, cache):
    run_module("oauth2_token", cc_args(emulator, cache))  # a valid token is cached for the right secret
    res = run_module("oauth2_token", cc_args(emulator, cache, client_secret="not-the-secret-4242"))
    assert res.failed and res["status"] == 401 and res["option"] == "client_secret"
    assert res["msg"] == ("POST /oauth/token returned HTTP 401: the token endpoint refused the client credentials: "
                          "check client_id and client_secret (and provider=cloud) (access_denied: Unauthorized)")
    assert "not-the-secret-4242" not in json.dumps(res)
    api = run_module("api", cc_args(emulator, cache, client_secret="not-the-secret-4242",
                                    cloud_id=emulator.state.config["cloud_id"], path="/rest/api/3/myself"))
    assert api.failed and "refused the client credentials" in api["msg"]


def test_wrong_audience_is_a_clear_error(emulator, run_module):
    res = run_module("oauth2_token", cc_args(emulator, audience="api.example.com"))
    assert res.failed and res["option"] == "audience"
    assert "refused the audience 'api.example.com'" in res["msg"]


def test_check_mode_requests_nothing(emulator, run_module, cache):
    res = run_module("oauth2_token", cc_args(emulator, cache), check_mode=True)
    assert res["changed"] is True and "access_token" not in res
    assert token_requests(emulator)["count"] == 0 and not os.path.exists(cache)
    run_module("oauth2_token", cc_args(emulator, cache))
    res = run_module("oauth2_token", cc_args(emulator, cache), check_mode=True)
    assert res["changed"] is False and res["cached"] is True and res["access_token"]


def test_loose_store_mode_is_refused(emulator, run_module, cache):
    run_module("oauth2_token", cc_args(emulator, cache))
    os.chmod(cache, 0o644)
    res = run_module("oauth2_token", cc_args(emulator, cache))
    assert res.failed and res["option"] == "token_cache"
    assert "has mode 0644" in res["msg"] and "chmod 600" in res["msg"]


def test_corrupt_store_is_refused(emulator, run_module, cache):
    with open(cache, "w", encoding="utf-8") as handle:
        handle.write("{not json")
    os.chmod(cache, 0o600)
    res = run_module("oauth2_token", cc_args(emulator, cache))
    assert res.failed and res["msg"].startswith("token_cache:") and "not a token store" in res["msg"]
    assert "Traceback" not in json.dumps(res)


# -- authorization code (3LO) -------------------------------------------------------------------------------
def test_authorize_url_and_state(emulator, run_module):
    res = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                              scopes=SCOPES))
    assert res["changed"] is False and len(res["state"]) >= 32
    parts = urlsplit(res["authorize_url"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{emulator.url}/authorize"
    assert query == {"audience": "api.atlassian.com", "client_id": APP["client_id"], "scope": " ".join(SCOPES),
                     "redirect_uri": REDIRECT, "state": res["state"], "response_type": "code", "prompt": "consent"}
    assert "%20" in res["authorize_url"]
    other = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                                scopes=SCOPES))
    assert other["state"] != res["state"]
    assert emulator.requests() == []


def test_3lo_to_the_gateway_and_three_rotations(emulator, run_module, cache):
    done = authorize(emulator, run_module, cache)
    assert done["changed"] is True and done["refresh_token"].startswith("emu-rt-")
    cloud = run_module("cloud_id", app_args(emulator, cache, auth_method="refresh_token", url=emulator.url))
    assert not cloud.failed, cloud
    assert cloud["source"] == "accessible_resources" and cloud["cloud_id"] == emulator.state.config["cloud_id"]
    cloud_id = cloud["cloud_id"]
    seen = {done["access_token"]}
    # min_ttl beyond the lifetime forces a refresh on every use: three rotations, each call through the gateway.
    for round_ in range(3):
        res = run_module("api", app_args(emulator, cache, auth_method="refresh_token", cloud_id=cloud_id,
                                         min_ttl=7200, path="/rest/api/3/myself"))
        assert not res.failed, res
        assert res["json"]["name"] == "alice" and res["json"]["authenticatedVia"] == "oauth2"
        sent = raw_requests(emulator, f"/ex/jira/{cloud_id}/rest/api/3/myself")[-1]["headers"]["Authorization"]
        assert sent.split()[1] not in seen, f"round {round_}: the access token must be new"
        seen.add(sent.split()[1])
    info = chains(emulator, client_id=APP["client_id"])
    assert len(info["chains"]) == 1
    chain = info["chains"][0]
    assert chain["rotations"] == 3 and chain["revoked"] is False and chain["grace_reuses"] == 0
    assert info["events"] == []
    with open(cache, encoding="utf-8") as handle:
        entry = next(e for e in json.load(handle)["entries"].values() if e["kind"] == "user")
    import hashlib  # pylint: disable=import-outside-toplevel
    assert hashlib.sha256(entry["refresh_token"].encode()).hexdigest() == chain["head_sha256"]
    # The original refresh token (e.g. still in a vault) continues the stored chain instead of being reused.
    res = run_module("oauth2_token", app_args(emulator, cache, grant_type="refresh_token",
                                              refresh_token=done["refresh_token"], min_ttl=7200))
    assert not res.failed, res
    assert chains(emulator)["chains"][0]["revoked"] is False


def test_refresh_without_store_returns_the_rotated_token(emulator, run_module):
    done = authorize(emulator, run_module)
    res = run_module("oauth2_token", app_args(emulator, grant_type="refresh_token", refresh_token=done["refresh_token"]))
    assert res["changed"] is True and res["refresh_token"] != done["refresh_token"]
    assert "keep the new refresh_token" in json.dumps(res.get("warnings"))
    # the returned token is not masked: it was asked for by name
    assert res["refresh_token"].startswith("emu-rt-")


def test_mismatched_state_is_refused(emulator, run_module):
    start = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                                scopes=SCOPES))
    redirect_url = approve(start["authorize_url"])
    res = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                              code=redirect_url, state="some-other-request-state"))
    assert res.failed and res["option"] == "state"
    assert res["msg"].startswith("state: state mismatch: the redirect URL's state does not match")
    assert token_requests(emulator)["count"] == 0, "nothing may be exchanged after a state mismatch"


def test_denied_consent_is_reported(emulator, run_module):
    start = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                                scopes=SCOPES))
    redirect_url = approve(start["authorize_url"], decision="deny")
    res = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                              code=redirect_url, state=start["state"]))
    assert res.failed and "error 'access_denied'" in res["msg"] and "the user denied access" in res["msg"]


def test_expired_code_is_a_clear_error(emulator, run_module):
    emulator.configure(oauth2_code_ttl=0.5)
    start = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                                scopes=SCOPES))
    redirect_url = approve(start["authorize_url"])
    with emulator.state.lock:  # 0.6 s pass for the code in the emulator's store (it judges on its own clock)
        (code,) = emulator.state.features["oauth2"]["codes"].values()
        assert code["expires_at"] - time.time() <= 0.5, "the configured lifetime is the code's"
        code["expires_at"] -= 0.6
    res = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                              code=redirect_url, state=start["state"]))
    assert res.failed and res["status"] == 403 and res["option"] == "code"
    assert res["msg"] == ("POST /oauth/token returned HTTP 403: the authorization code was refused: a code works "
                          "once, for a few minutes, with the same redirect_uri (and code_verifier when PKCE was "
                          "used); start the authorization again (invalid_grant: Invalid authorization code: the "
                          "code expired)")


def test_code_used_twice_is_refused_and_revokes_the_grant(emulator, run_module, cache):
    start = run_module("oauth2_token", app_args(emulator, grant_type="authorization_code", redirect_uri=REDIRECT,
                                                scopes=SCOPES))
    redirect_url = approve(start["authorize_url"])
    args = app_args(emulator, cache, grant_type="authorization_code", redirect_uri=REDIRECT, code=redirect_url,
                    state=start["state"])
    assert not run_module("oauth2_token", args).failed
    again = run_module("oauth2_token", args)
    assert again.failed and "already used" in again["msg"]
    assert chains(emulator)["chains"][0]["revoked"] is True


def test_revoked_refresh_token_is_a_clear_error(emulator, run_module, cache):
    authorize(emulator, run_module, cache)
    emulator.control("POST", "/oauth2/revoke", json={"client_id": APP["client_id"]})
    res = run_module("oauth2_token", app_args(emulator, cache, grant_type="refresh_token", min_ttl=7200))
    assert res.failed and res["status"] == 403 and res["option"] == "refresh_token"
    assert res["msg"] == ("POST /oauth/token returned HTTP 403: the refresh token was refused: it was revoked, "
                          "expired unused, or already rotated and reused; the user must authorize the app again "
                          "(role jiraops.integration.oauth2_authorize) (unauthorized_client: refresh_token is "
                          "invalid: the grant was revoked (access revoked by the user))")
    assert "emu-rt-" not in json.dumps(res)


def test_reuse_of_a_rotated_refresh_token_revokes_the_chain(emulator, run_module):
    emulator.configure(oauth2_reuse_grace=0)
    done = authorize(emulator, run_module)
    first = run_module("oauth2_token", app_args(emulator, grant_type="refresh_token", refresh_token=done["refresh_token"]))
    assert not first.failed
    replay = run_module("oauth2_token", app_args(emulator, grant_type="refresh_token",
                                                 refresh_token=done["refresh_token"]))
    assert replay.failed and "a rotated refresh token was reused" in replay["msg"]
    assert chains(emulator)["chains"][0]["revoked"] is True
    # and the access tokens of the grant stop working
    assert emulator.state.bearer_tokens[first["access_token"]]["revoked"] is True


def test_server_side_expiry_is_handled_with_one_refresh(emulator, run_module, cache):
    authorize(emulator, run_module, cache)
    cloud_id = emulator.state.config["cloud_id"]
    emulator.control("POST", "/oauth2/expire-access-tokens", json={"client_id": APP["client_id"]})
    res = run_module("api", app_args(emulator, cache, auth_method="refresh_token", cloud_id=cloud_id,
                                     path="/rest/api/3/myself"))
    assert not res.failed, res
    statuses = [r["status"] for r in emulator.requests(f"/ex/jira/{cloud_id}/rest/api/3/myself")]
    assert statuses == [401, 200]
    assert chains(emulator)["chains"][0]["rotations"] == 1


def test_no_refresh_token_without_offline_access(emulator, run_module):
    done = authorize(emulator, run_module, scopes=["read:jira-work", "read:jira-user"])
    assert "refresh_token" not in done
    assert "add the offline_access scope" in json.dumps(done.get("warnings"))


# -- Data Center ---------------------------------------------------------------------------------------------
def test_datacenter_authorization_code_with_pkce(emulator, run_module, cache):
    admin = base_args(emulator, username="admin", password="admin")
    client = run_module("oauth2_client", dict(admin, name="CI server", redirect_uris=[REDIRECT], scope="WRITE"))
    assert not client.failed, client
    dc = base_args(emulator, provider="datacenter", client_id=client["client_id"],
                   client_secret=client["client_secret"])
    start = run_module("oauth2_token", dict(dc, grant_type="authorization_code", redirect_uri=REDIRECT,
                                            scopes=["WRITE"]))
    assert start["code_challenge_method"] == "S256" and start["code_verifier"]
    assert start["authorize_url"].startswith(f"{emulator.url}/rest/oauth2/latest/authorize?client_id=")
    redirect_url = approve(start["authorize_url"], user="bob")
    # without the verifier the exchange fails clearly
    bad = run_module("oauth2_token", dict(dc, grant_type="authorization_code", redirect_uri=REDIRECT,
                                          code=redirect_url, state=start["state"]))
    assert bad.failed and "code_verifier is required" in bad["msg"]
    redirect_url = approve(start["authorize_url"], user="bob")
    done = run_module("oauth2_token", dict(dc, token_cache=cache, grant_type="authorization_code",
                                           redirect_uri=REDIRECT, code=redirect_url, state=start["state"],
                                           code_verifier=start["code_verifier"]))
    assert not done.failed, done
    assert done["refresh_token"].startswith("emu-dc-rt-")
    # Data Center tokens go to the site itself, and WRITE includes READ
    for _call in range(2):
        me = run_module("api", dict(dc, token_cache=cache, auth_method="refresh_token", min_ttl=7200,
                                    path="/rest/api/2/myself"))
        assert not me.failed, me
        assert me["url"] == f"{emulator.url}/rest/api/2/myself" and me["json"]["name"] == "bob"
    assert token_requests(emulator, provider="datacenter", grant_type="refresh_token")["count"] == 2
    assert chains(emulator)["chains"][0]["revoked"] is False


def test_devops_module_with_oauth_credentials(emulator, run_module, cache):
    """Jira Software Cloud OAuth credentials end to end: build_info gets its token from /oauth/token (2LO)."""
    cloud_id = emulator.state.config["cloud_id"]
    build = {"pipelineId": "pink-logo", "buildNumber": 7, "displayName": "pink-logo #7", "state": "successful",
             "url": "https://ci.example.com/pink-logo/7", "issueKeys": ["JJ-12"]}
    for number in (7, 8):
        res = run_module("build_info", cc_args(emulator, cache, cloud_id=cloud_id, builds=[dict(build, buildNumber=number)]))
        assert not res.failed, res
        assert res["changed"] is True and len(res["accepted"]) == 1
    assert token_requests(emulator, client_id=CC["client_id"])["count"] == 1
    sent = raw_requests(emulator, f"/jira/builds/0.1/cloud/{cloud_id}/bulk")
    assert len(sent) == 2 and all(r["headers"]["Authorization"].startswith("Bearer emu-at-") for r in sent)
    narrow = run_module("build_info", cc_args(emulator, cloud_id=cloud_id, builds=[build]))
    assert not narrow.failed
    # scopes enforced: a token narrowed to read:jira-work may not write builds
    token = run_module("oauth2_token", cc_args(emulator, scopes=["read:jira-work"]))["access_token"]
    denied = run_module("build_info", base_args(emulator, token=token, cloud_id=cloud_id, builds=[build]))
    assert denied.failed and denied["status"] == 403


def _dc_app(emulator, run_module, **kw):
    """A Data Center incoming-link client, and the oauth2_token arguments for it."""
    admin = base_args(emulator, username="admin", password="admin")
    client = run_module("oauth2_client", dict(admin, name="CI server", redirect_uris=[REDIRECT], scope="WRITE"))
    assert not client.failed, client
    return dict(base_args(emulator, provider="datacenter", client_id=client["client_id"],
                          client_secret=client["client_secret"]), grant_type="authorization_code",
                redirect_uri=REDIRECT, **kw)


def _entries(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["entries"]


def test_keep_pending_keeps_state_and_verifier_in_the_store_until_the_exchange(emulator, run_module, cache):
    dc = _dc_app(emulator, run_module, token_cache=cache)
    checked = run_module("oauth2_token", dict(dc, scopes=["WRITE"], keep_pending=True), check_mode=True)
    assert checked["changed"] is True and checked["authorize_url"] and not os.path.exists(cache)
    start = run_module("oauth2_token", dict(dc, scopes=["WRITE"], keep_pending=True))
    assert not start.failed and start["changed"] is True, start
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    [kept] = _entries(cache).values()
    assert kept["kind"] == "pending" and kept["state"] == start["state"]
    assert kept["code_verifier"] == start["code_verifier"]
    redirect_url = approve(start["authorize_url"], user="bob")
    # The kept state is checked: a redirect of another request is refused, and the request stays for another try.
    forged = redirect_url.replace(f"state={start['state']}", "state=forged")
    refused = run_module("oauth2_token", dict(dc, code=forged))
    assert refused.failed and "state mismatch" in refused["msg"]
    assert list(_entries(cache).values()) == [kept]
    done = run_module("oauth2_token", dict(dc, code=redirect_url))  # neither state nor code_verifier given
    assert not done.failed, done
    assert start["code_verifier"] not in json.dumps(done)
    exchange = raw_requests(emulator, "/rest/oauth2/latest/token")[-1]
    assert f"code_verifier={start['code_verifier']}" in exchange["body"]
    entries = _entries(cache)
    assert [e["kind"] for e in entries.values()] == ["user"], "the pending request is gone after the exchange"
    assert start["code_verifier"] not in open(cache, encoding="utf-8").read()


def test_keep_pending_never_writes_through_a_link_or_into_another_users_store(emulator, run_module, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    store_dir = tmp_path / "store"
    store_dir.mkdir(mode=0o700)
    link = store_dir / "tokens.json"
    os.symlink(elsewhere / "planted.json", link)
    dc = _dc_app(emulator, run_module, scopes=["WRITE"], keep_pending=True)
    for check_mode in (True, False):
        res = run_module("oauth2_token", dict(dc, token_cache=str(link)), check_mode=check_mode)
        assert res.failed and res["msg"].startswith(f"token_cache: {link} is a symbolic link to "), res
        assert "dangling link is never followed" in res["msg"] and "code_verifier" not in res
    assert os.listdir(elsewhere) == [] and os.listdir(store_dir) == ["tokens.json"]
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"version": 1, "entries": {}}\n')
    foreign.chmod(0o600)
    os.chown(foreign, 65534, 65534)
    res = run_module("oauth2_token", dict(dc, token_cache=str(foreign)))
    assert res.failed and res["msg"].startswith(f"token_cache: {foreign} is owned by uid 65534"), res
    assert foreign.read_text() == '{"version": 1, "entries": {}}\n'
    assert not os.path.exists(f"{foreign}.lock")


def test_keep_pending_needs_a_store_and_the_first_step(emulator, run_module, cache):
    dc = _dc_app(emulator, run_module, scopes=["WRITE"], keep_pending=True)
    res = run_module("oauth2_token", dc)
    assert res.failed and res["msg"].startswith("keep_pending: needs token_cache"), res
    res = run_module("oauth2_token", dict(dc, token_cache=cache, code="abc"))
    assert res.failed and res["msg"].startswith("keep_pending: only applies to the first step"), res
    assert not os.path.exists(cache) and token_requests(emulator, provider="datacenter")["count"] == 0
