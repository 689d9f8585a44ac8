"""The oauth1_token module and the oauth1 auth method, run for real against the emulator over HTTP."""
from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography.exceptions import UnsupportedAlgorithm, _Reasons
from jwt.algorithms import RSAAlgorithm

from _oauth1_support import age_token, approve, control, create_link, keypair


@pytest.fixture
def key_path(tmp_path):
    return keypair().write(tmp_path)


def args(emulator, key_path, **kw):
    base = {"url": emulator.url, "consumer_key": "jiraops", "private_key_path": key_path}
    base.update(kw)
    return base


def api_args(emulator, key_path, access_token, **kw):
    base = {"url": emulator.url, "consumer_key": "jiraops", "private_key_path": key_path,
            "access_token": access_token, "path": "/rest/api/2/myself"}
    base.update(kw)
    return base


def test_the_dance_with_options_only(emulator, run_module, key_path):
    create_link(emulator.url)
    first = run_module("oauth1_token", args(emulator, key_path))
    assert not first.failed and first["changed"] is True
    token = first["request_token"]
    assert first["authorize_url"] == f"{emulator.url}/plugins/servlet/oauth/authorize?oauth_token={token}"
    assert "access_token" not in first
    [record] = control(emulator.url, "/oauth1/tokens")["request_tokens"]
    assert record["token"] == token and record["consumer_key"] == "jiraops" and record["callback"] == "oob"

    verifier = approve(emulator.url, token, user="bob")["verifier"]
    second = run_module("oauth1_token", args(emulator, key_path, request_token=token, verifier=verifier))
    assert second["changed"] is True and second["source"] == "jira"
    [stored] = control(emulator.url, "/oauth1/tokens")["access_tokens"]
    assert second["access_token"] == stored["token"] and second["access_token_secret"] == stored["secret"]
    assert second["expires_in"] == 157680000
    assert verifier not in json.dumps(second), "the verifier is no_log and must not be echoed"

    res = run_module("api", api_args(emulator, key_path, second["access_token"], path="/rest/api/2/issue/JJ-2"))
    assert res["status"] == 200 and res["json"]["key"] == "JJ-2"
    assert second["access_token"] not in json.dumps(res)
    [verified] = control(emulator.url, "/oauth1/verified")["verified"]
    assert verified["path"] == "/rest/api/2/issue/JJ-2" and verified["user"] == "bob"


def test_token_store_carries_the_dance_and_makes_reruns_idempotent(emulator, run_module, key_path, tmp_path):
    create_link(emulator.url)
    store = str(tmp_path / "tokens.json")
    spec = args(emulator, key_path, token_store=store)
    first = run_module("oauth1_token", spec)
    assert first["changed"] is True and stat.S_IMODE(os.stat(store).st_mode) == 0o600
    saved = json.loads(open(store, encoding="utf-8").read())
    assert saved["request_token"] == first["request_token"] and saved["consumer_key"] == "jiraops"
    assert "PRIVATE KEY" not in open(store, encoding="utf-8").read()

    verifier = approve(emulator.url, first["request_token"])["verifier"]
    second = run_module("oauth1_token", dict(spec, verifier=verifier))  # no request_token: read from the store
    assert second["changed"] is True and second["source"] == "jira"
    saved = json.loads(open(store, encoding="utf-8").read())
    assert saved["access_token"] == second["access_token"] and "request_token" not in saved
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600

    count = len(emulator.requests("/plugins/servlet/oauth"))
    for extra in ({}, {"verifier": verifier}):  # a rerun, with or without the spent verifier
        again = run_module("oauth1_token", dict(spec, **extra))
        assert again["changed"] is False and again["source"] == "token_store"
        assert again["access_token"] == second["access_token"]
    assert len(emulator.requests("/plugins/servlet/oauth")) == count, "a stored token needs no call to Jira"

    forced = run_module("oauth1_token", dict(spec, force=True))
    assert forced["changed"] is True and forced["request_token"] != first["request_token"]


def test_check_mode_sends_and_writes_nothing(emulator, run_module, key_path, tmp_path):
    create_link(emulator.url)
    store = str(tmp_path / "tokens.json")
    res = run_module("oauth1_token", args(emulator, key_path, token_store=store), check_mode=True)
    assert res["changed"] is True and "would obtain" in res["msg"]
    res = run_module("oauth1_token", args(emulator, key_path, request_token="abcdefgh12345678", verifier="x1y2z3"),
                     check_mode=True)
    assert res["changed"] is True and "would exchange" in res["msg"]
    assert emulator.requests("/plugins/servlet/oauth") == [] and not os.path.exists(store)


def test_not_yet_approved_says_to_open_the_authorize_url(emulator, run_module, key_path):
    create_link(emulator.url)
    first = run_module("oauth1_token", args(emulator, key_path))
    res = run_module("oauth1_token", args(emulator, key_path, request_token=first["request_token"], verifier="abc123"))
    assert res.failed and res["status"] == 401
    assert "permission_unknown" in res["msg"] and "open authorize_url" in res["msg"] and "click Allow" in res["msg"]


def test_expired_request_token_says_to_start_again(emulator, run_module, key_path):
    create_link(emulator.url)
    emulator.configure(oauth1_request_token_ttl=1)
    first = run_module("oauth1_token", args(emulator, key_path))
    verifier = approve(emulator.url, first["request_token"])["verifier"]
    assert age_token(emulator, "request_tokens", first["request_token"], 1.1) == 1
    res = run_module("oauth1_token", args(emulator, key_path, request_token=first["request_token"], verifier=verifier))
    assert res.failed and "token_expired" in res["msg"] and "10 minutes" in res["msg"]


def test_unknown_consumer_and_wrong_key_messages(emulator, run_module, key_path, tmp_path):
    create_link(emulator.url)
    res = run_module("oauth1_token", args(emulator, key_path, consumer_key="nobody"))
    assert res.failed and "consumer_key_unknown" in res["msg"] and "jiraops.integration.applink" in res["msg"]
    wrong = keypair(1).write(tmp_path, "other.pem")
    res = run_module("oauth1_token", args(emulator, wrong))
    assert res.failed and "signature_invalid" in res["msg"] and "public key" in res["msg"]
    assert keypair(1).private_pem.splitlines()[1] not in json.dumps(res)


def test_signed_call_with_wrong_key_or_unknown_token(emulator, run_module, key_path, tmp_path):
    create_link(emulator.url)
    first = run_module("oauth1_token", args(emulator, key_path))
    verifier = approve(emulator.url, first["request_token"])["verifier"]
    access = run_module("oauth1_token", args(emulator, key_path, request_token=first["request_token"],
                                             verifier=verifier))["access_token"]
    wrong = keypair(1).write(tmp_path, "other.pem")
    res = run_module("api", api_args(emulator, wrong, access))
    assert res.failed and res["status"] == 401 and "signature_invalid" in res["msg"]
    assert access not in json.dumps(res)
    res = run_module("api", api_args(emulator, key_path, "unknownAccessToken123"))
    assert res.failed and "token_rejected" in res["msg"] and "oauth1_token" in res["msg"]


@pytest.mark.parametrize("content,mode,expected", [
    ('{"version": 1}', 0o644, "has mode 0644"),
    ("{not json", 0o600, "is not valid JSON"),
    ('{"version": 1, "consumer_key": "other", "access_token": "t"}', 0o600, "holds tokens of consumer_key 'other'"),
    ('["a list"]', 0o600, "not a version 1"),
])
def test_bad_token_stores_are_refused_by_name(emulator, run_module, key_path, tmp_path, content, mode, expected):
    store = tmp_path / "tokens.json"
    store.write_text(content)
    store.chmod(mode)
    res = run_module("oauth1_token", args(emulator, key_path, token_store=str(store)))
    assert res.failed and res["option"] == "token_store" and expected in res["msg"]
    assert store.read_text() == content, "a refused store is left as it was"
    assert emulator.requests("/plugins/servlet/oauth") == []


def test_option_errors(emulator, run_module, key_path):
    res = run_module("oauth1_token", args(emulator, key_path, request_token="abcdefgh12345678"))
    assert res.failed and res["option"] == "verifier"
    res = run_module("oauth1_token", args(emulator, key_path, verifier="abc123"))
    assert res.failed and res["option"] == "request_token"
    res = run_module("oauth1_token", args(emulator, key_path, consumer_key=None))
    assert res.failed and res["option"] == "consumer_key"
    res = run_module("oauth1_token", args(emulator, None))
    assert res.failed and res["option"] == "private_key"
    res = run_module("oauth1_token", args(emulator, key_path, private_key=keypair().private_pem))
    assert res.failed and "mutually exclusive" in res["msg"]


def test_private_key_content_and_env_fallbacks(emulator, run_module, key_path, monkeypatch):
    create_link(emulator.url)
    res = run_module("oauth1_token", {"url": emulator.url, "consumer_key": "jiraops",
                                      "private_key": keypair().private_pem})
    assert not res.failed and res["request_token"]
    assert keypair().private_pem.splitlines()[1] not in json.dumps(res)
    verifier = approve(emulator.url, res["request_token"])["verifier"]
    access = run_module("oauth1_token", args(emulator, key_path, request_token=res["request_token"],
                                             verifier=verifier))["access_token"]
    monkeypatch.setenv("JIRA_URL", emulator.url)
    monkeypatch.setenv("JIRA_CONSUMER_KEY", "jiraops")
    monkeypatch.setenv("JIRA_PRIVATE_KEY_PATH", key_path)
    monkeypatch.setenv("JIRA_ACCESS_TOKEN", access)
    res = run_module("api", {"path": "/rest/api/2/myself"})
    assert not res.failed and res["json"]["name"] == "alice" and res["json"]["authenticatedVia"] == "oauth1"
    monkeypatch.delenv("JIRA_PRIVATE_KEY_PATH")
    monkeypatch.setenv("JIRA_PRIVATE_KEY", keypair().private_pem)
    res = run_module("api", {"path": "/rest/api/2/myself"})
    assert not res.failed and res["json"]["name"] == "alice"
    assert access not in json.dumps(res) and keypair().private_pem.splitlines()[1] not in json.dumps(res)


def test_a_host_refusing_rsa_sha1_fails_before_any_request_and_says_what_to_do(emulator, run_module, key_path,
                                                                               monkeypatch):
    """RHEL 9 / UBI 9: the crypto policy's OpenSSL refuses SHA-1 signatures (simulated with cryptography's error)."""
    def refuse(self, msg, key):
        raise UnsupportedAlgorithm("sha1 is not supported by this backend for RSA signing.", _Reasons.UNSUPPORTED_HASH)

    monkeypatch.setattr(RSAAlgorithm, "sign", refuse)
    emulator.control("DELETE", "/requests")
    for module, spec in (("oauth1_token", args(emulator, key_path)),
                         ("api", api_args(emulator, key_path, "anAccessToken12345"))):
        res = run_module(module, spec)
        assert res.failed and "RSA-SHA1 signing is refused on this host" in res["msg"], res
        assert "from PyPI" in res["msg"] and "DEFAULT:SHA1" in res["msg"] and "Traceback" not in json.dumps(res)
    assert [r for r in emulator.requests() if not r["path"].startswith("/_emulator")] == []
