"""The emulator's Atlassian token endpoint over raw HTTP: optional reply fields and the grant's lifetime."""
from __future__ import annotations

import requests
from oauth2_support import APP, CC, REDIRECT, SCOPES, approve


def token(emu, **body):
    return requests.post(emu.url + "/oauth/token", json=body, timeout=10)


def grant(emu):
    url = (f"{emu.url}/authorize?audience=api.atlassian.com&client_id={APP['client_id']}&scope={'%20'.join(SCOPES)}"
           f"&redirect_uri={REDIRECT}&state=s1&response_type=code&prompt=consent")
    code = approve(url).split("code=")[1].split("&")[0]
    resp = token(emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, **APP)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_scope_and_refresh_token_can_be_left_out_and_then_nothing_rotates(emulator):
    emulator.configure(oauth2_omit_reply_fields=["scope", "refresh_token"])
    two = token(emulator, grant_type="client_credentials", audience="api.atlassian.com", **CC).json()
    assert "scope" not in two and "refresh_token" not in two and two["access_token"]
    emulator.configure(oauth2_omit_reply_fields=[])
    first = grant(emulator)
    emulator.configure(oauth2_omit_reply_fields=["scope", "refresh_token"])
    for _attempt in range(2):  # the same refresh token keeps working: it was not rotated
        reply = token(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"], **APP)
        assert reply.status_code == 200 and set(reply.json()) == {"access_token", "expires_in", "token_type"}
    chain = emulator.control("GET", "/oauth2/chains", params={"client_id": APP["client_id"]})["chains"][0]
    assert chain["rotations"] == 0 and chain["revoked"] is False


def test_a_grant_older_than_its_maximum_lifetime_is_refused(emulator):
    first = grant(emulator)
    emulator.configure(oauth2_grant_max_age=0)
    reply = token(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"], **APP)
    assert reply.status_code == 403 and reply.json()["error"] == "unauthorized_client"
    assert "older than its maximum lifetime" in reply.json()["error_description"]
