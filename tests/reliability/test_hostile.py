"""The client against a hostile or careless world: another host that must never see credentials,
servers that echo secrets back, replies without bounds, and replies that cannot be decoded.

A capture server on loopback (capture_server.py) plays the other host and the misbehaving server; the emulator
plays Jira. Every test fails on the client as it was before the change.
"""
from __future__ import annotations

import base64
import json
import time
import tracemalloc
from urllib.parse import quote, quote_plus

import pytest

import capture_server as cap
from reliability_support import REPORT, has_traceback, names_option, run_module

# Built once, before any timed run: compressing 200 MiB takes a while on a busy machine.
# Retry backoff between attempts is taken on the test clock (the timeouts stay real: they are what is tested).
pytestmark = pytest.mark.usefixtures("fake_clock")

BOMB = cap.gzip_bomb(200)

ALICE = {"username": "alice", "password": "alice-password"}
PAT = "alice-pat-0123456789abcdef"
CC = {"client_id": "emu-2lo-client-0001", "client_secret": "emu-2lo-secret-0001-do-not-share"}
CLOUD_ID = "11111111-2222-3333-4444-555555555555"
OAUTH1_TOKEN = "oauth1-access-token-planted-0001"


def _private_key():
    from cases_oauth import keypair  # pylint: disable=import-outside-toplevel
    return keypair()[0]


# Each auth method as the api module takes it, and the secrets it would put on the wire.
AUTHS = {
    "basic": (lambda: dict(ALICE), ["alice-password", base64.b64encode(b"alice:alice-password").decode()]),
    "pat": (lambda: {"token": PAT}, [PAT]),
    "oauth1": (lambda: {"consumer_key": "jiraops", "private_key": _private_key(), "access_token": OAUTH1_TOKEN},
               [OAUTH1_TOKEN, "oauth_signature"]),
    "oauth2": (lambda: dict(CC, cloud_id=CLOUD_ID), [CC["client_secret"], "Bearer "]),
}


def _site(url, **kw):
    args = {"url": url, "api_url": url, "auth_url": url, "timeout": 5, "retry_budget": 5}
    args.update(kw)
    return args


@pytest.fixture
def capture():
    with cap.CaptureServer() as server:
        yield server


# ---------------------------------------------------------------------------------------------------------------
# Credentials leave the site
# ---------------------------------------------------------------------------------------------------------------

def _foreign(capture):
    host = f"127.0.0.1:{capture.port}"
    return {
        "absolute http URL": (f"http://{host}/x", True),
        "absolute URL, upper-case host": (f"http://LOCALHOST:{capture.port}/x", True),
        "slash then URL": (f"/http://{host}/x", False),
        "two slashes (scheme-relative)": (f"//{host}/x", False),
        "slash https colon slash": (f"/https:/{host}/x", False),
    }


@pytest.mark.parametrize("auth", sorted(AUTHS))
def test_no_credentials_reach_another_host(auth, emulator, capture):
    """Every path trick and every auth method: the other host gets nothing; an absolute URL is refused by name."""
    make_args, secrets = AUTHS[auth]
    tried = 0
    for case, (path, refused) in _foreign(capture).items():
        emulator.state.reset()
        outcome = run_module("api", dict(_site(emulator.url, max_retries=0), path=path, **make_args()))
        tried += 1
        assert not has_traceback(outcome), f"{case}: {outcome.traceback or outcome.result}"
        assert capture.requests == [], f"{case}: {capture.requests}"
        if refused:
            assert outcome.failed and names_option(outcome.msg, "path"), f"{case}: {outcome.msg}"
            assert f":{capture.port}" in outcome.msg and "not sent" in outcome.msg, outcome.msg
            # Refused before anything happened: no token minted, nothing sent to Jira either.
            assert emulator.requests() == [], f"{case}: {emulator.requests()}"
        else:
            sent = [r["path"] for r in emulator.requests() if not r["path"].startswith("/oauth/")]
            assert sent and sent[-1].endswith("/x") and f"{capture.port}" in sent[-1], f"{case}: {sent}"
    REPORT.add("hostile", case=f"foreign host via path tricks ({auth})", figure=f"{tried} tried; requests that "
               f"reached the other host: {len(capture.requests)}; credentials there: {capture.seen(*secrets)}")


def test_api_path_to_another_host_is_refused_naming_api_path(emulator, capture):
    outcome = run_module("api", dict(_site(emulator.url), api_path=f"{capture.url}/x", **ALICE))
    assert outcome.failed and names_option(outcome.msg, "api_path") and f":{capture.port}" in outcome.msg
    assert capture.requests == [] and emulator.requests() == []
    # A full URL of a configured host still works.
    outcome = run_module("api", dict(_site(emulator.url), path=f"{emulator.url}/rest/api/2/myself", **ALICE))
    assert outcome.ok and outcome.result["json"]["name"] == "alice", outcome.result


def test_check_mode_refuses_another_host_too(emulator, capture):
    outcome = run_module("api", dict(_site(emulator.url), method="POST", path=f"{capture.url}/x", **ALICE),
                         check_mode=True)
    assert outcome.failed and names_option(outcome.msg, "path"), outcome.result


def test_a_password_in_a_url_is_refused_and_never_shown(emulator):
    host = emulator.url.split("://", 1)[1]
    for option, args in (("url", _site(f"http://alice:url-pw-0123456789@{host}", path="/rest/api/2/myself")),
                         ("path", dict(_site(emulator.url),
                                       path=f"http://alice:url-pw-0123456789@{host}/rest/api/2/myself"))):
        outcome = run_module("api", dict(args, **ALICE))
        assert outcome.failed and names_option(outcome.msg, option), outcome.result
        assert "url-pw-0123456789" not in json.dumps(outcome.result), outcome.result
        assert emulator.requests() == []


# ---------------------------------------------------------------------------------------------------------------
# Secrets printed by errors
# ---------------------------------------------------------------------------------------------------------------

def test_a_token_ending_in_a_newline_is_refused_without_showing_it(emulator):
    outcome = run_module("api", dict(_site(emulator.url), path="/rest/api/2/myself", token=PAT + "\n"))
    assert not has_traceback(outcome), outcome.traceback
    assert outcome.failed and names_option(outcome.msg, "token") and "line break" in outcome.msg, outcome.msg
    assert PAT not in json.dumps(outcome.result)
    assert emulator.requests() == []


SPECIAL_SECRET = 'sec"ret\\with/slash+plus&amp=eq ü space-0123'


def _echo(request):
    """An error reply that quotes the whole request back, as some proxies and debug servers do."""
    text = request["body"] + " | " + " ".join(f"{k}={v}" for k, v in request["headers"].items())
    plain_b64 = request["headers"].get("authorization", "").split(" ")[-1]
    return cap.json_reply({"error": "invalid_request", "error_description": f"could not parse: {text}",
                           "errorMessages": [f"credentials {plain_b64} refused", text]}, status=400)


def _strings(value):
    """Every string in a result, decoded (a secret inside JSON text must be found in its escaped form too)."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _strings(k) + _strings(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _strings(v)]
    return [value] if isinstance(value, str) else []


def _shown(result, forms):
    return sorted({form for form in forms for text in _strings(result) if form in text})


def _forms(secret):
    return {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret),
            quote(secret, safe=""), quote_plus(secret)}


@pytest.mark.parametrize("provider", ["cloud", "datacenter"])
def test_an_echoed_client_secret_is_masked_in_every_encoding(provider):
    """The cloud token request is JSON (the secret comes back JSON-escaped), Data Center's is a form (URL-encoded)."""
    with cap.CaptureServer(_echo) as server:
        outcome = run_module("oauth2_token", _site(server.url, grant_type="client_credentials", provider=provider,
                                                   client_id="echo-client", client_secret=SPECIAL_SECRET))
        assert server.requests, "the token request was not sent"
        sent = server.requests[0]["body"]
    assert not has_traceback(outcome) and outcome.failed, outcome.result
    assert "could not parse" in outcome.msg, outcome.msg  # the echo is shown, masked
    leaked = _shown(outcome.result, _forms(SPECIAL_SECRET))
    assert not leaked, f"{leaked} in {outcome.result}"
    assert any(form in sent for form in _forms(SPECIAL_SECRET) - {SPECIAL_SECRET}), sent  # it was really encoded
    REPORT.add("hostile", case=f"server echoes the client secret ({provider} token request)",
               figure=f"forms checked: {len(_forms(SPECIAL_SECRET))}; shown: {len(leaked)}")


def test_an_echoed_basic_auth_header_is_masked():
    with cap.CaptureServer(_echo) as server:
        outcome = run_module("api", _site(server.url, path="/rest/api/2/myself", username="alice",
                                          password=SPECIAL_SECRET))
    encoded = base64.b64encode(f"alice:{SPECIAL_SECRET}".encode()).decode()
    assert outcome.failed and "HTTP 400" in outcome.msg, outcome.result
    assert not _shown(outcome.result, _forms(SPECIAL_SECRET) | {encoded}), outcome.result


# ---------------------------------------------------------------------------------------------------------------
# Replies without bounds
# ---------------------------------------------------------------------------------------------------------------

def _measured(module, args, env=None):
    tracemalloc.start()
    try:
        started = time.monotonic()
        outcome = run_module(module, args, env=env)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return outcome, elapsed, peak


@pytest.mark.parametrize("method,part", [("GET", "body"), ("POST", "body"), ("GET", "headers")])
def test_a_dripping_reply_is_bounded_by_timeout(method, part):
    """One byte every 0.6 s, timeout 1: about 1 s, not one timeout per byte (a whole reply would take 24 s)."""
    steps = (lambda request: cap.drip(40, 0.6)) if part == "body" else (lambda request: cap.drip_headers(0.6))
    with cap.CaptureServer(steps) as server:
        outcome, elapsed, _peak = _measured("api", _site(server.url, path="/rest/api/2/myself", method=method,
                                                         timeout=1, max_retries=0, **ALICE))
    assert not has_traceback(outcome) and outcome.failed, outcome.result
    assert "timed out" in outcome.msg and "timeout=1" in outcome.msg, outcome.msg
    assert elapsed < 2.0, f"took {elapsed:.1f}s"
    REPORT.add("hostile", case=f"reply {part} dripping 1 byte / 0.6 s, timeout 1 ({method})",
               figure=f"failed in {elapsed:.1f}s")


@pytest.mark.parametrize("scheme,seen", [("http", "http://jira.example.test/rest/api/2/myself"),
                                         ("https", "jira.example.test:443")])
def test_a_dripping_proxy_is_bounded_by_timeout(scheme, seen):
    """HTTP(S)_PROXY (requests reads them): the proxy's reply, to the request or to CONNECT, is cut at the deadline."""
    names = [f"{scheme.upper()}_PROXY", f"{scheme}_proxy"]
    with cap.CaptureServer(lambda request: cap.drip_headers(0.6)) as proxy:
        proxy_env = dict({name: proxy.url for name in names}, NO_PROXY="", no_proxy="")
        outcome, elapsed, _peak = _measured("api", _site(f"{scheme}://jira.example.test", path="/rest/api/2/myself",
                                                         timeout=1, max_retries=0, **ALICE), env=proxy_env)
    assert proxy.requests and proxy.requests[0]["path"] == seen, proxy.requests
    assert not has_traceback(outcome) and outcome.failed, outcome.result
    assert "timed out" in outcome.msg and "timeout=1" in outcome.msg, outcome.msg
    assert elapsed < 2.0, f"took {elapsed:.1f}s"
    REPORT.add("hostile", case=f"{scheme} through a proxy whose reply drips 1 byte / 0.6 s, timeout 1 (GET)",
               figure=f"failed in {elapsed:.1f}s")


def test_a_dripping_tls_handshake_is_bounded_by_timeout():
    """A server answering the ClientHello one byte every 0.6 s: each read gets a byte before a per-read timeout, yet
    the handshake as a whole ends at ``timeout`` (10 bytes would take 6 s). It is the socket timeout the client sets
    that bounds it (Python's ssl applies it to the whole handshake): the request's deadline cannot cut the handshake,
    since wrapping the socket for TLS detaches the one it watches."""
    with cap.DrippingHandshake(lambda hello: cap.drip_handshake(10, 0.6)) as server:
        outcome, elapsed, _peak = _measured("api", _site(server.url, path="/rest/api/2/myself", timeout=1,
                                                         max_retries=0, validate_certs=False, **ALICE))
    assert server.requests == [{"tls_record": True}]
    assert not has_traceback(outcome) and outcome.failed, outcome.result
    assert "timed out" in outcome.msg and "timeout=1" in outcome.msg, outcome.msg
    assert elapsed < 2.0, f"took {elapsed:.1f}s"
    REPORT.add("hostile", case="TLS handshake dripping 1 byte / 0.6 s, timeout 1 (GET)",
               figure=f"failed in {elapsed:.1f}s")


@pytest.mark.parametrize("name,steps", [("100 MB reply", lambda r: cap.oversized(100 * 1024 * 1024)),
                                        ("200 MB gzip bomb (205 KB sent)", lambda r: BOMB)])
def test_an_oversized_reply_fails_naming_the_limit(name, steps):
    with cap.CaptureServer(steps) as server:
        outcome, elapsed, peak = _measured("api", _site(server.url, path="/rest/api/2/myself", **ALICE))
    assert not has_traceback(outcome) and outcome.failed, outcome.result
    assert names_option(outcome.msg, "max_response_size") and "8388608" in outcome.msg, outcome.msg
    assert "content" not in outcome.result
    assert peak < 40 * 1024 * 1024, f"peak memory {peak / 1048576:.0f} MiB"
    REPORT.add("hostile", case=name, figure=f"failed naming max_response_size in {elapsed:.1f}s; "
               f"peak Python memory {peak / 1048576:.0f} MiB")


def test_max_response_size_and_its_env_fallback_set_the_limit():
    with cap.CaptureServer(lambda request: cap.oversized(10 * 1024 * 1024)) as server:
        small = run_module("api", _site(server.url, path="/x", max_response_size=1000, **ALICE))
        large = run_module("api", _site(server.url, path="/x", **ALICE), env={"JIRA_MAX_RESPONSE_SIZE": "20000000"})
    assert small.failed and "max_response_size=1000 " in small.msg, small.msg
    assert large.ok and len(large.result["json"]) == 10 * 1024 * 1024 - 2, large.msg


def _token_then(other):
    def reply(request):
        if request["path"].endswith("/oauth/token"):
            return cap.json_reply({"access_token": "tok-" + "a" * 30, "expires_in": 3600, "token_type": "Bearer",
                                   "scope": "write:build:jira-software"})
        return other()
    return reply


def test_devops_bulk_replies_get_the_larger_default_limit():
    """A 12 MiB bulk reply (one accepted build, padded) is read by build_info (32 MiB) but refused by api (8 MiB)."""
    build = {"schemaVersion": "1.0", "pipelineId": "p", "buildNumber": 1, "updateSequenceNumber": 1,
             "displayName": "b", "url": "https://ci.example.com/1", "state": "successful",
             "lastUpdated": "2026-01-01T00:00:00Z", "issueKeys": ["JJ-1"]}
    big = {"acceptedBuilds": [{"pipelineId": "p", "buildNumber": 1}], "rejectedBuilds": [], "unknownIssueKeys": [],
           "padding": "x" * (12 * 1024 * 1024)}
    with cap.CaptureServer(_token_then(lambda: cap.json_reply(big, status=202))) as server:
        bulk = run_module("build_info", _site(server.url, max_retries=0, cloud_id=CLOUD_ID, builds=[build], **CC))
        plain = run_module("api", _site(server.url, max_retries=0, cloud_id=CLOUD_ID, path="/rest/api/3/myself",
                                        **CC))
    assert not bulk.failed, bulk.result
    assert plain.failed and names_option(plain.msg, "max_response_size"), plain.msg


@pytest.mark.parametrize("module,args", [
    ("oauth2_token", {"grant_type": "client_credentials", **CC}),
    ("build_info", {**CC, "cloud_id": CLOUD_ID, "builds": [{
        "schemaVersion": "1.0", "pipelineId": "p", "buildNumber": 1, "updateSequenceNumber": 1, "displayName": "b",
        "url": "https://ci.example.com/1", "state": "successful", "lastUpdated": "2026-01-01T00:00:00Z",
        "issueKeys": ["JJ-1"]}]}),
    ("applink", {"username": "admin", "password": "admin-password-0001", "name": "x",
                 "application_url": "https://x.example.com"}),
])
def test_token_devops_and_applink_replies_are_bounded(module, args):
    def bomb(_request):
        return BOMB

    reply = bomb if module == "oauth2_token" else _token_then(lambda: BOMB)
    with cap.CaptureServer(reply) as server:
        outcome, elapsed, peak = _measured(module, _site(server.url, max_retries=0, **args))
    assert not has_traceback(outcome) and outcome.failed, outcome.result
    assert names_option(outcome.msg, "max_response_size"), outcome.msg
    assert peak < 80 * 1024 * 1024, f"peak memory {peak / 1048576:.0f} MiB"


# ---------------------------------------------------------------------------------------------------------------
# Replies that cannot be decoded: a clear error naming the problem, retried when the request is idempotent
# ---------------------------------------------------------------------------------------------------------------

UNDECODABLE = {
    "bad gzip": (cap.bad_gzip, "corrupt"),
    "truncated gzip": (cap.truncated_gzip, "ends early|could not be read"),
    "truncated body": (cap.truncated, "could not be read"),
    "bad chunk length": (cap.bad_chunk, "could not be read"),
    "JSON nested 100,000 deep": (cap.deep_json, "nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(UNDECODABLE))
def test_an_undecodable_reply_is_a_clear_error_retried_only_when_idempotent(case):
    steps, match = UNDECODABLE[case]
    with cap.CaptureServer(lambda request: steps()) as server:
        get = run_module("api", _site(server.url, path="/rest/api/2/myself", max_retries=2, **ALICE))
        gets = len(server.requests)
        post = run_module("api", _site(server.url, method="POST", path="/rest/api/2/issue", body={"a": 1},
                                       max_retries=2, **ALICE))
        posts = len(server.requests) - gets
    for outcome in (get, post):
        assert not has_traceback(outcome), outcome.traceback or outcome.result
        assert outcome.failed and "unreadable reply" in outcome.msg, outcome.msg
        assert __import__("re").search(match, outcome.msg), outcome.msg
    assert gets == 3, f"a GET with a broken reply is retried like a dropped connection ({gets} attempts)"
    assert posts == 1 and "may have processed" in post.msg, (posts, post.msg)
    REPORT.add("hostile", case=f"{case} reply", figure=f"clear error; GET attempts {gets}, POST attempts {posts}")


def test_oauth2_client_html_where_a_list_was_expected():
    with cap.CaptureServer(lambda request: cap.html()) as server:
        outcome = run_module("oauth2_client", _site(server.url, token=PAT, name="ci", scope="READ",
                                                    redirect_uris=["https://ci.example.com/cb"]))
        sent = [(r["method"], r["path"]) for r in server.requests]
    assert not has_traceback(outcome) and outcome.failed, outcome.result
    assert "list of OAuth 2.0 clients was expected" in outcome.msg and "text/html" in outcome.msg, outcome.msg
    assert sent == [("GET", "/rest/oauth2/latest/client")], f"nothing may be created after an HTML reply: {sent}"


# ---------------------------------------------------------------------------------------------------------------
# Paths that looked like URLs: no traceback, they stay on the base
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["//localhost:{port}/x", "/https:/host/x", "/http://[::1/x"])
def test_url_like_paths_stay_on_the_base(path, emulator):
    port = emulator.url.rsplit(":", 1)[1]
    outcome = run_module("api", dict(_site(emulator.url), path=path.format(port=port), **ALICE))
    assert not has_traceback(outcome), outcome.traceback or outcome.result
    assert outcome.failed and "HTTP 404" in outcome.msg, outcome.msg
    sent = [r["path"] for r in emulator.requests()]
    assert len(sent) == 1 and sent[0].endswith("/x"), sent


# ---------------------------------------------------------------------------------------------------------------
# Insecure settings: one warning per task saying what is exposed
# ---------------------------------------------------------------------------------------------------------------

def _warnings(result):
    """Warning texts (ansible-core 2.19 returns them as summaries with the text under ``event``)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings") or []]


def test_plain_http_to_another_host_with_credentials_warns_once(run_module):  # pylint: disable=redefined-outer-name
    result = run_module("api", _site("http://jira.example.com", method="POST", path="/rest/api/2/issue",
                                     api_url="https://api.atlassian.com", auth_url="https://auth.atlassian.com",
                                     **ALICE), check_mode=True)
    assert not result.get("failed"), result
    plain = [w for w in _warnings(result) if "plain http://" in w]
    assert len(plain) == 1 and "url=jira.example.com" in plain[0] and "credentials" in plain[0], _warnings(result)


def test_validate_certs_false_warns_once(emulator, run_module):  # pylint: disable=redefined-outer-name
    result = run_module("api", _site(emulator.url, path="/rest/api/2/myself", validate_certs=False, **ALICE))
    assert not result.get("failed"), result
    found = [w for w in _warnings(result) if "validate_certs=false" in w]
    assert len(found) == 1 and "impersonate" in found[0], _warnings(result)
    # Loopback http with credentials, and plain http without any, are no reason to warn.
    loopback = run_module("api", _site(emulator.url, path="/rest/api/2/myself", **ALICE))
    anonymous = run_module("api", _site("http://jira.example.com", method="POST", path="/x",
                                        api_url="https://api.atlassian.com", auth_url="https://auth.atlassian.com"),
                           check_mode=True)
    assert not loopback.get("failed") and not anonymous.get("failed")
    assert _warnings(loopback) == [] and _warnings(anonymous) == [], (_warnings(loopback), _warnings(anonymous))
