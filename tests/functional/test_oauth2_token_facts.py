"""oauth2_token against what Atlassian's token replies and grant policy really are."""
from __future__ import annotations

import json
import time

import pytest
from oauth2_support import APP, CC, REDIRECT, SCOPES, base_args, grant, token_requests

DAY = 86400


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / "tokens.json")


def user_entry(cache):
    with open(cache, encoding="utf-8") as handle:
        return next((k, e) for k, e in json.load(handle)["entries"].items() if e["kind"] == "user")


def age_grant(cache, days):
    """Pretend the user consented ``days`` ago (the store is the only record of it)."""
    with open(cache, encoding="utf-8") as handle:
        data = json.load(handle)
    for entry in data["entries"].values():
        if entry["kind"] == "user":
            entry["granted_at"] -= days * DAY
    with open(cache, "w", encoding="utf-8") as handle:  # an existing file keeps its 0600 mode
        json.dump(data, handle)


def authorize(emulator, run_module, cache):
    return grant(emulator, run_module, cache, access_ttl=3600)


def refresh(emulator, run_module, cache, **kw):
    return run_module("oauth2_token", base_args(emulator, **APP, token_cache=cache, grant_type="refresh_token", **kw))


def warnings_text(result):
    return json.dumps(result.get("warnings") or [])


def test_a_2lo_reply_without_scope_is_cached_and_reused_for_the_scopes_asked(emulator, run_module, cache):
    emulator.configure(oauth2_omit_reply_fields=["scope", "refresh_token"])
    args = base_args(emulator, **CC, token_cache=cache, scopes=["read:jira-work"])
    first = run_module("oauth2_token", args)
    assert not first.failed, first["msg"]
    assert first["changed"] is True and first["scopes"] == ["read:jira-work"]
    assert "grant_expires_at" not in first  # client credentials are no user's grant
    second = run_module("oauth2_token", args)
    assert second["cached"] is True and second["changed"] is False
    assert second["access_token"] == first["access_token"]
    assert token_requests(emulator, client_id=CC["client_id"])["count"] == 1


def test_a_3lo_refresh_without_scope_or_refresh_token_keeps_the_grant_and_is_reused(emulator, run_module, cache):
    done = authorize(emulator, run_module, cache)
    emulator.configure(oauth2_omit_reply_fields=["scope", "refresh_token"])
    renewed = refresh(emulator, run_module, cache, min_ttl=7200)  # forces a refresh: its reply has neither field
    assert not renewed.failed, renewed["msg"]
    assert renewed["changed"] is True and renewed["refresh_token"] == done["refresh_token"]
    _key, entry = user_entry(cache)
    assert entry["refresh_token"] == done["refresh_token"] and sorted(entry["scopes"]) == sorted(SCOPES)
    again = refresh(emulator, run_module, cache, scopes=["read:jira-work"])
    assert again["cached"] is True and again["access_token"] == renewed["access_token"]
    assert token_requests(emulator, client_id=APP["client_id"], grant_type="refresh_token")["count"] == 1


def test_the_grant_time_is_recorded_kept_across_rotations_and_bounds_grant_expires_at(emulator, run_module, cache):
    before = time.time()
    done = authorize(emulator, run_module, cache)
    _key, entry = user_entry(cache)
    granted = entry["granted_at"]
    assert before <= granted <= time.time()
    assert abs(done["grant_expires_at"] - (granted + 90 * DAY)) <= 1  # 90 days unused come before 365 days
    assert "grant for client" not in warnings_text(done)
    for _round in range(2):
        rotated = refresh(emulator, run_module, cache, min_ttl=7200)
        assert not rotated.failed and rotated["refresh_token"] != done["refresh_token"]
    _key, entry = user_entry(cache)
    assert entry["granted_at"] == granted and entry["obtained_at"] > granted
    assert abs(rotated["grant_expires_at"] - (entry["obtained_at"] + 90 * DAY)) <= 1

    age_grant(cache, 340)  # consented 340 days ago: 25 days of the grant are left, whatever the last use
    late = refresh(emulator, run_module, cache)
    assert not late.failed and late["cached"] is True
    assert late["grant_expires_at"] == int(granted - 340 * DAY + 365 * DAY)
    assert "ends by" in warnings_text(late) and "(in 25 days)" in warnings_text(late)
    assert "authorize again" in warnings_text(late)
    rotated = refresh(emulator, run_module, cache, min_ttl=7200)
    assert user_entry(cache)[1]["granted_at"] == granted - 340 * DAY
    assert rotated["grant_expires_at"] == late["grant_expires_at"] and "ends by" in warnings_text(rotated)


# -- client credentials on Data Center ---------------------------------------------------------------------------
def test_datacenter_client_credentials_for_an_incoming_link_client_say_it_needs_a_service_account(
        emulator, run_module):
    admin = base_args(emulator, username="admin", password="admin")
    client = run_module("oauth2_client", dict(admin, name="CI server", redirect_uris=[REDIRECT], scope="WRITE"))
    assert not client.failed, client
    res = run_module("oauth2_token", base_args(emulator, provider="datacenter", client_id=client["client_id"],
                                               client_secret=client["client_secret"]))
    assert res.failed and res["status"] == 400 and res["option"] == "grant_type"
    assert "on Data Center it exists only for service accounts (Jira 10.x and later, POST " \
           f"{emulator.url}/rest/oauth2/latest/token, no refresh token)" in res["msg"]
    assert "not for the incoming-link OAuth 2.0 clients of Jira 8.22 to 10" in res["msg"]
    assert "unsupported_grant_type" in res["msg"] and client["client_secret"] not in json.dumps(res)
