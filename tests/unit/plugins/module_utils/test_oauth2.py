"""OAuth 2.0 pieces: method selection, authorize URLs, PKCE, callback parsing, redaction (no server); token ageing
on the client's clock (the emulator)."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from clock_support import FakeClock

from ansible_collections.jiraops.integration.plugins.module_utils._auth import select_auth
from ansible_collections.jiraops.integration.plugins.module_utils._auth_oauth2 import (
    ClientCredentialsAuth,
    RefreshTokenAuth,
)
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._oauth2 import (
    authorize_url,
    new_pkce,
    parse_callback,
)
from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client
from ansible_collections.jiraops.integration.plugins.module_utils._redact import Redactor


def params(**kw):
    base = {"auth_method": "auto", "username": None, "password": None, "token": None, "client_id": None,
            "client_secret": None, "refresh_token": None, "token_cache": None, "provider": "cloud", "min_ttl": 60}
    base.update(kw)
    return base


def test_auto_picks_client_credentials():
    method = select_auth(params(client_id="cid", client_secret="s3cr3t-value"))
    assert isinstance(method, ClientCredentialsAuth) and method.uses_gateway
    assert method.secrets() == ["s3cr3t-value"]


def test_auto_picks_refresh_token_when_one_is_given():
    method = select_auth(params(client_id="cid", client_secret="s3cr3t-value", refresh_token="rt-123456"))
    assert isinstance(method, RefreshTokenAuth)
    assert sorted(method.secrets()) == ["rt-123456", "s3cr3t-value"]


def test_refresh_token_needs_a_token_or_a_store():
    with pytest.raises(OptionError) as err:
        select_auth(params(auth_method="refresh_token", client_id="cid", client_secret="s3cr3t-value"))
    assert err.value.option == "refresh_token" and "JIRA_REFRESH_TOKEN" in str(err.value)
    assert isinstance(select_auth(params(auth_method="refresh_token", client_id="cid", client_secret="x" * 8,
                                         token_cache="/tmp/t.json")), RefreshTokenAuth)


def test_client_credentials_and_basic_together_are_refused():
    with pytest.raises(OptionError) as err:
        select_auth(params(username="a", password="pw-12345", client_id="cid", client_secret="s3cr3t-value"))
    assert "basic (username, password)" in str(err.value)
    assert "client_credentials (client_id, client_secret)" in str(err.value)


def test_missing_secret_names_the_env_variable():
    with pytest.raises(OptionError) as err:
        select_auth(params(client_id="cid"))
    assert err.value.option == "client_secret" and "JIRA_CLIENT_SECRET" in str(err.value)


def test_datacenter_tokens_go_to_the_site_and_cloud_needs_a_cloud_id():
    common = {"url": "https://jira.example.com", "api_url": "https://api.example.com", "timeout": 5}
    dc = build_client(params(provider="datacenter", client_id="c", client_secret="s" * 8, **common))
    assert dc.url_for("/rest/api/2/myself") == "https://jira.example.com/rest/api/2/myself"
    cloud = build_client(params(client_id="c", client_secret="s" * 8, cloud_id="abc", **common))
    assert cloud.url_for("/rest/api/3/myself") == "https://api.example.com/ex/jira/abc/rest/api/3/myself"
    without = build_client(params(client_id="c", client_secret="s" * 8, **common))
    with pytest.raises(OptionError) as err:
        without.url_for("/rest/api/3/myself")
    assert err.value.option == "cloud_id"


def test_authorize_urls():
    client = build_client(params(url="https://jira.example.com", auth_url="https://auth.example.com", timeout=5))
    url = authorize_url(client, "cloud", "cid", "https://cb.example.com/x", ["read:jira-work", "offline_access"], "st")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://auth.example.com/authorize"
    assert "scope=read%3Ajira-work%20offline_access" in parts.query
    dc = authorize_url(client, "datacenter", "cid", "https://cb.example.com/x", ["WRITE"], "st", code_challenge="cc")
    query = {k: v[0] for k, v in parse_qs(urlsplit(dc).query).items()}
    assert dc.startswith("https://jira.example.com/rest/oauth2/latest/authorize?")
    assert query == {"client_id": "cid", "redirect_uri": "https://cb.example.com/x", "response_type": "code",
                     "scope": "WRITE", "state": "st", "code_challenge": "cc", "code_challenge_method": "S256"}


def test_pkce_is_s256_of_the_verifier():
    verifier, challenge = new_pkce()
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected
    assert new_pkce()[0] != verifier


def test_parse_callback():
    assert parse_callback("abc123", None) == ("abc123", False)
    url = "https://cb.example.com/x?code=the-code&state=s1"
    assert parse_callback(url, "s1") == ("the-code", True)
    with pytest.raises(OptionError) as err:
        parse_callback(url, "s2")
    assert err.value.option == "state" and "state mismatch" in str(err.value)
    with pytest.raises(OptionError) as err:
        parse_callback(url, None)
    assert err.value.option == "state"
    with pytest.raises(JiraError) as err:
        parse_callback("https://cb.example.com/x?error=access_denied&error_description=no&state=s1", "s1")
    assert "the user denied access" in str(err.value)
    with pytest.raises(OptionError) as err:
        parse_callback("https://cb.example.com/x?state=s1", "s1")
    assert err.value.option == "code"


def test_redactor_keeps_protocol_names_and_masks_credentials():
    r = Redactor()
    assert r.text("use OAuth 2.0 access tokens") == "use OAuth 2.0 access tokens"
    assert r.text("OAuth 1.0a needs RSA-SHA1") == "OAuth 1.0a needs RSA-SHA1"
    assert r.text("Authorization: Bearer emu-at-xyz") == "Authorization: Bearer ********"
    assert r.text('Authorization: OAuth oauth_consumer_key="k", oauth_token="t"') == "Authorization: OAuth ********"
    assert r.text("CI reporting (OAuth credentials)") == "CI reporting (OAuth credentials)"


def test_a_cached_token_is_renewed_once_it_has_aged_on_the_client_clock(emulator, tmp_path):
    """Token lifetimes are judged on the client's clock: a test clock lets a token age an hour in no time."""
    emulator.configure(oauth2_credentials_ttl=3600)
    clock = FakeClock()
    client = build_client(params(url=emulator.url, api_url=emulator.url, auth_url=emulator.url, timeout=5,
                                 client_id="emu-2lo-client-0001", client_secret="emu-2lo-secret-0001-do-not-share",
                                 token_cache=str(tmp_path / "tokens.json")), clock=clock)
    source = client.auth.source(client)
    first, obtained = source.get()
    assert obtained and first.remaining(clock.time()) == pytest.approx(3600, abs=5)
    clock.advance(3600 - 60 - 5)  # still more than min_ttl (60 s) left: the stored token is used
    again, obtained = source.get()
    assert not obtained and again.access_token == first.access_token
    clock.advance(10)  # now less than min_ttl left
    assert source.cached() is None
    renewed, obtained = source.get()
    assert obtained and renewed.access_token != first.access_token
    assert renewed.remaining(clock.time()) == pytest.approx(3600, abs=5)
    assert len(emulator.requests("/oauth/token")) == 2 and clock.sleeps == []
