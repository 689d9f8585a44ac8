"""The oauth1 auth method without a server: selection, option errors, RSA-SHA1 signatures, problem messages."""
from __future__ import annotations

import pytest
import requests
from cryptography.exceptions import UnsupportedAlgorithm, _Reasons
from jwt.algorithms import RSAAlgorithm
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1 import Client
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header

from ansible_collections.jiraops.integration.plugins.module_utils import _keys
from ansible_collections.jiraops.integration.plugins.module_utils._auth import select_auth
from ansible_collections.jiraops.integration.plugins.module_utils._auth_oauth1 import (
    OAuth1Auth,
    explain_problem,
    parse_problem,
)
from ansible_collections.jiraops.integration.plugins.module_utils._client import Response
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._options import connection_argspec


@pytest.fixture(scope="module")
def keypair():
    key = _keys.generate_private_key(2048)
    return _keys.private_key_pem(key).decode(), _keys.public_key_pem(key)


def _text(value):
    # oauthlib hands requests the header as UTF-8 bytes; requests sends either.
    return value.decode("utf-8") if isinstance(value, bytes) else value


def params(**kw):
    base = {name: None for name in connection_argspec()}
    base["auth_method"] = "auto"
    base.update(kw)
    return base


def test_auto_picks_oauth1_from_its_options(keypair):
    method = select_auth(params(consumer_key="jiraops", private_key=keypair[0], access_token="tok-abcdefgh"))
    assert isinstance(method, OAuth1Auth)


def test_oauth1_with_basic_is_ambiguous_and_names_both(keypair):
    with pytest.raises(OptionError) as err:
        select_auth(params(consumer_key="jiraops", private_key=keypair[0], access_token="tok-abcdefgh",
                           username="admin", password="admin-pw"))
    assert "oauth1 (" in str(err.value) and "basic (" in str(err.value)
    assert keypair[0] not in str(err.value)


def test_missing_access_token_names_option_and_env(keypair):
    with pytest.raises(OptionError) as err:
        select_auth(params(consumer_key="jiraops", private_key=keypair[0]))
    assert err.value.option == "access_token" and "JIRA_ACCESS_TOKEN" in str(err.value)


def test_missing_private_key_names_both_options():
    with pytest.raises(OptionError) as err:
        select_auth(params(auth_method="oauth1", consumer_key="jiraops", access_token="tok-abcdefgh"))
    assert "private_key_path" in str(err.value) and "JIRA_PRIVATE_KEY" in str(err.value)


def test_both_key_options_is_an_error(keypair, tmp_path):
    path = tmp_path / "k.pem"
    path.write_text(keypair[0])
    with pytest.raises(OptionError) as err:
        select_auth(params(consumer_key="c", private_key=keypair[0], private_key_path=str(path), access_token="t" * 10))
    assert "not both" in str(err.value)


def test_a_public_key_in_place_of_the_private_key_is_explained(keypair):
    with pytest.raises(OptionError) as err:
        select_auth(params(consumer_key="c", private_key=keypair[1], access_token="t" * 10))
    assert err.value.option == "private_key" and "PUBLIC KEY" in str(err.value)


def test_missing_key_file_names_the_path(tmp_path):
    with pytest.raises(OptionError) as err:
        select_auth(params(consumer_key="c", private_key_path=str(tmp_path / "nope.pem"), access_token="t" * 10))
    assert err.value.option == "private_key_path" and "does not exist" in str(err.value)


def test_signature_is_rsa_sha1_and_verifies_with_the_public_key(keypair, tmp_path):
    path = tmp_path / "k.pem"
    path.write_text(keypair[0])
    method = select_auth(params(consumer_key="jiraops", private_key_path=str(path), access_token="acc-12345678"))
    prepared = method.apply(requests.Request("GET", "http://jira.test/rest/api/2/issue/JJ-2?fields=summary").prepare())
    header = _text(prepared.headers["Authorization"])
    assert header.startswith("OAuth ")
    oauth = dict(oauth_signature.collect_parameters(headers={"Authorization": header}, exclude_oauth_signature=False))
    assert oauth["oauth_signature_method"] == "RSA-SHA1"
    assert oauth["oauth_consumer_key"] == "jiraops" and oauth["oauth_token"] == "acc-12345678"
    # Verify independently with oauthlib's own verifier and the public key.
    req = OAuthRequest(prepared.url, "GET", headers={"Authorization": header})
    req.params = list(oauth_signature.collect_parameters(
        uri_query="fields=summary", headers={"Authorization": header}, exclude_oauth_signature=True))
    req.signature = oauth["oauth_signature"]
    assert oauth_signature.verify_rsa_sha1(req, keypair[1])
    other = _keys.public_key_pem(_keys.generate_private_key(2048))
    assert not oauth_signature.verify_rsa_sha1(req, other)


def test_every_attempt_gets_a_fresh_nonce(keypair):
    method = select_auth(params(consumer_key="jiraops", private_key=keypair[0], access_token="acc-12345678"))
    nonces = {dict(parse_authorization_header(_text(
        method.apply(requests.Request("GET", "http://jira.test/x").prepare()).headers["Authorization"])))["oauth_nonce"]
        for _i in range(3)}
    assert len(nonces) == 3


def test_secrets_cover_the_key_lines_and_token(keypair):
    method = select_auth(params(consumer_key="jiraops", private_key=keypair[0], access_token="acc-12345678"))
    secrets = method.secrets()
    assert "acc-12345678" in secrets and keypair[0] in secrets
    body_line = keypair[0].splitlines()[1]
    assert body_line in secrets
    assert "jiraops" not in secrets


def _resp(body=b"", headers=None, status=401):
    return Response(status, headers or {}, body, "http://jira.test/x", "GET", "/x")


def test_problem_is_read_from_body_or_header():
    assert parse_problem(_resp(b"oauth_problem=nonce_used"))[0] == "nonce_used"
    assert parse_problem(_resp(b"", {"WWW-Authenticate": 'OAuth realm="x", oauth_problem="token_expired"'}))[0] == \
        "token_expired"
    problem, details = parse_problem(_resp(b"oauth_problem=timestamp_refused&oauth_acceptable_timestamps=1-2", status=400))
    assert problem == "timestamp_refused" and details["oauth_acceptable_timestamps"] == "1-2"
    assert parse_problem(_resp(b'{"errorMessages": []}'))[0] is None


@pytest.mark.parametrize("problem,stage,expected", [
    ("signature_invalid", "resource", "public key"),
    ("consumer_key_unknown", "request", "jiraops.integration.applink"),
    ("timestamp_refused", "resource", "NTP"),
    ("nonce_used", "resource", "replayed"),
    ("token_expired", "access", "10 minutes"),
    ("token_rejected", "access", "verifier"),
    ("token_rejected", "resource", "force=true"),
    ("permission_unknown", "access", "Allow"),
    ("permission_denied", "access", "Allow"),
    ("signature_method_rejected", "request", "RSA-SHA1"),
])
def test_problem_messages_say_what_to_do(problem, stage, expected):
    text = explain_problem(problem, {}, stage=stage, consumer_key="jiraops")
    assert text.startswith(f"OAuth 1.0a problem {problem}:") and expected in text


def test_unknown_problem_is_still_named():
    assert "'brand_new_problem'" in explain_problem("brand_new_problem")


# -- hosts that refuse RSA-SHA1 (RHEL 9 / UBI 9) ----------------------------------------------------------------
def _openssl_refuses_sha1(self, msg, key):
    # What cryptography raises when its OpenSSL's crypto policy refuses SHA-1 signatures.
    raise UnsupportedAlgorithm("sha1 is not supported by this backend for RSA signing.", _Reasons.UNSUPPORTED_HASH)


def _oauth1(keypair):
    return OAuth1Auth(params(consumer_key="jiraops", private_key=keypair[0], access_token="tok-abcdefgh"))


def test_openssl_refusing_sha1_signatures_fails_validation_with_what_to_do(keypair, monkeypatch):
    monkeypatch.setattr(RSAAlgorithm, "sign", _openssl_refuses_sha1)
    with pytest.raises(JiraError) as err:
        _oauth1(keypair).validate()
    text = str(err.value)
    assert "RSA-SHA1 signing is refused on this host" in text and "OpenSSL" in text
    assert "sha1 is not supported by this backend" in text
    assert "pip install 'oauthlib[signedtoken]' requests-oauthlib cryptography" in text
    assert "update-crypto-policies --set DEFAULT:SHA1" in text and "meta/execution-environment.yml" in text
    assert keypair[0].splitlines()[1] not in text


def test_a_refusal_while_signing_a_request_is_explained_too(keypair, monkeypatch):
    method = _oauth1(keypair)
    method.validate()
    monkeypatch.setattr(RSAAlgorithm, "sign", _openssl_refuses_sha1)
    request = requests.Request("GET", "https://jira.example.com/rest/api/2/myself").prepare()
    with pytest.raises(JiraError) as err:
        method.apply(request)
    assert "RSA-SHA1 signing is refused on this host" in str(err.value)


def test_oauthlib_without_rsa_sha1_fails_validation_with_what_to_do(keypair, monkeypatch):
    patched = {name: signer for name, signer in Client.SIGNATURE_METHODS.items() if name != "RSA-SHA1"}
    monkeypatch.setattr(Client, "SIGNATURE_METHODS", patched)
    with pytest.raises(JiraError) as err:
        _oauth1(keypair).validate()
    text = str(err.value)
    assert "the installed oauthlib has no RSA-SHA1 signer" in text and "from PyPI" in text


def test_other_signing_failures_are_not_mistaken_for_a_refusal(keypair, monkeypatch):
    def broken(self, msg, key):
        raise RuntimeError("something else")

    monkeypatch.setattr(RSAAlgorithm, "sign", broken)
    with pytest.raises(RuntimeError):
        _oauth1(keypair).validate()
