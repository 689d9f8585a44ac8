"""Reliability rows for the ``api`` module and the shared connection/auth options every Jira module has."""
from __future__ import annotations

from reliability_support import BadInput, FaultTarget, run_module

ALICE = {"username": "alice", "password": "alice-password"}


def _api(path="/rest/api/2/myself", **kw):
    args = {"url": "{url}", "api_url": "{url}", "auth_url": "{url}", "path": path, "retry_budget": 10}
    args.update(ALICE)
    args.update(kw)
    return args


def _not_a_cert(ctx):
    ctx.write("ca.pem", b"this is not a certificate\n", 0o644)


def _binary_ca(ctx):
    ctx.write("ca-binary.pem", bytes(range(256)) * 4, 0o644)


def _unreadable_ca(ctx):
    ctx.write("ca-0000.pem", b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0o000)


# Each row: the api module with one thing wrong. Nothing may be sent to the emulator (checked by the test).
BAD_INPUT = [
    BadInput("url without scheme", "api", _api(url="jira.example.com"), "url", "absolute http"),
    BadInput("url with ftp scheme", "api", _api(url="ftp://jira.example.com"), "url", "absolute http"),
    BadInput("url relative path", "api", _api(url="/jira"), "url", "absolute http"),
    BadInput("JIRA_URL env without scheme", "api", {k: v for k, v in _api().items() if k != "url"}, "url",
             "absolute http", env={"JIRA_URL": "jira.example.com"}),
    BadInput("JIRA_URL env not UTF-8", "api", {k: v for k, v in _api().items() if k != "url"}, "url",
             "absolute http", env={"JIRA_URL": b"jira.\xff\xfe.example.com"}),
    BadInput("api_url without scheme", "api", _api(path=None, api_path="/oauth/token/accessible-resources",
                                                   api_url="api.atlassian.com"), "api_url", "absolute http"),
    BadInput("auth_url not a URL", "api", _api(auth_url="not a url"), "auth_url", "absolute http"),
    BadInput("no url at all", "api", {k: v for k, v in _api().items() if k != "url"}, "url", "required"),
    BadInput("timeout zero", "api", _api(timeout=0), "timeout", "positive"),
    BadInput("timeout negative", "api", _api(timeout=-5), "timeout", "positive"),
    BadInput("timeout not a number", "api", _api(timeout="soon"), "timeout", ""),
    BadInput("JIRA_TIMEOUT env not a number", "api", _api(), "timeout", "", env={"JIRA_TIMEOUT": "soon"}),
    BadInput("max_retries negative", "api", _api(max_retries=-1), "max_retries", "0 or more"),
    BadInput("validate_certs not a boolean", "api", _api(validate_certs="perhaps"), "validate_certs", ""),
    BadInput("ca_path missing file", "api", _api(ca_path="{tmp}/no-such-ca.pem"), "ca_path", "does not exist"),
    BadInput("ca_path not a certificate", "api", _api(ca_path="{tmp}/ca.pem"), "ca_path", "no PEM certificate",
             setup=_not_a_cert),
    BadInput("ca_path binary (not UTF-8)", "api", _api(ca_path="{tmp}/ca-binary.pem"), "ca_path",
             "no PEM certificate", setup=_binary_ca),
    BadInput("ca_path unreadable (mode 0000)", "api", _api(ca_path="{tmp}/ca-0000.pem"), "ca_path", "cannot read",
             setup=_unreadable_ca, needs_non_root=True),
    BadInput("unknown auth_method", "api", _api(auth_method="kerberos"), "auth_method", "kerberos"),
    BadInput("conflicting auth: password and token", "api", _api(token="alice-pat-0123456789abcdef"),
             "auth_method", "cannot choose"),
    BadInput("auth_method=basic without password", "api",
             {k: v for k, v in _api(auth_method="basic").items() if k != "password"}, "password", "needs password"),
    BadInput("auth_method=bearer without token", "api", _api(auth_method="bearer"), "token", "needs token"),
    BadInput("username without password", "api", {k: v for k, v in _api().items() if k != "password"},
             "password", "needs password"),
    BadInput("unknown HTTP method", "api", _api(method="FETCH"), "method", "FETCH"),
    BadInput("neither path nor api_path", "api", _api(path=None), "path", "api_path"),
    BadInput("both path and api_path", "api", _api(api_path="/x"), "path", "api_path"),
    BadInput("path without leading slash", "api", _api(path="rest/api/2/myself"), "path", "must start with"),
    BadInput("status_code not integers", "api", _api(status_code=["ok"]), "status_code", ""),
    BadInput("query not a mapping", "api", _api(query=["a", "b"]), "query", ""),
    BadInput("headers not a mapping", "api", _api(headers=["X-A: b"]), "headers", ""),
    BadInput("unknown option", "api", _api(colour="pink"), "colour", "Unsupported"),
    # inputs that used to end in a traceback, or in a request to the wrong place
    BadInput("header value with CR/LF", "api", _api(headers={"X-Trace": "a\r\nX-Injected: 1"}), "headers",
             "line break"),
    BadInput("header value not Latin-1", "api", _api(headers={"X-Note": "snowman \u2603"}), "headers", "ISO-8859-1"),
    BadInput("header value an int", "api", _api(headers={"X-Count": 3}), "headers", "must be a string"),
    BadInput("header name with a space", "api", _api(headers={"X Trace": "a"}), "headers", "header name"),
    BadInput("token ending in a newline", "api",
             {k: v for k, v in _api(token="alice-pat-0123456789abcdef\n").items() if k not in ALICE}, "token",
             "line break"),
    BadInput("timeout nan", "api", _api(timeout="nan"), "timeout", "finite"),
    BadInput("timeout inf", "api", _api(timeout="inf"), "timeout", "finite"),
    BadInput("timeout 1e308", "api", _api(timeout=1e308), "timeout", "at most"),
    BadInput("retry_budget nan", "api", _api(retry_budget="nan"), "retry_budget", "finite"),
    BadInput("retry_budget negative", "api", _api(retry_budget=-5), "retry_budget", "at least 0"),
    BadInput("max_retries huge", "api", _api(max_retries=10**9), "max_retries", "at most"),
    BadInput("max_response_size zero", "api", _api(max_response_size=0), "max_response_size", "positive"),
    BadInput("JIRA_MAX_RESPONSE_SIZE env not a number", "api", _api(), "max_response_size", "",
             env={"JIRA_MAX_RESPONSE_SIZE": "lots"}),
    BadInput("url unparseable IPv6 host", "api", _api(url="http://[::1"), "url", "parsed"),
    BadInput("url with a 100,000-character host", "api", _api(url="https://" + "a" * 100_000 + ".example.com"),
             "url", "characters"),
    BadInput("url with a 300-character host", "api", _api(url="https://" + "a" * 300 + ".example.com"), "url",
             "at most 253"),
    BadInput("url with user:password", "api", _api(url="https://alice:hunter2-secret@jira.example.com"), "url",
             "user name or password"),
    BadInput("url with a query string", "api", _api(url="https://jira.example.com/?os_authType=basic"), "url",
             "query string"),
    BadInput("url with a fragment", "api", _api(url="https://jira.example.com/#top"), "url", "fragment"),
    BadInput("api_url with a query string", "api", _api(api_url="https://api.atlassian.com?x=1"), "api_url",
             "query string"),
    BadInput("path to another host", "api", _api(path="http://other-host.example.com/x"), "path",
             "other-host.example.com"),
    BadInput("path to the site host on another port", "api", _api(path="http://127.0.0.1:1/x"), "path",
             "127.0.0.1:1"),
    BadInput("api_path to another host", "api", _api(path=None, api_path="https://other-host.example.com/x"),
             "api_path", "other-host.example.com"),
]


# ---------------------------------------------------------------------------------------------------------------
# Fault targets: a read (GET myself) and a write (POST a comment; each item is one comment with a unique body).
# ---------------------------------------------------------------------------------------------------------------

def _conn(ctx, extra):
    args = {"url": ctx.url, "api_url": ctx.url, "auth_url": ctx.url, "retry_budget": 10, "timeout": 5}
    args.update(ALICE)
    args.update(extra)
    return args


def _send_myself(ctx, items, extra):
    return [run_module("api", dict(_conn(ctx, extra), path="/rest/api/2/myself")) for _item in items]


def _check_myself(_ctx, outcome):
    body = outcome.result.get("json") or {}
    return None if body.get("name") == "alice" else f"unexpected reply {body!r}"


def _send_comments(ctx, items, extra):
    return [run_module("api", dict(_conn(ctx, extra), method="POST", path="/rest/api/2/issue/JJ-2/comment",
                                   body={"body": item}, status_code=[201])) for item in items]


def _stored_comments(ctx, items):
    with ctx.emulator.state.lock:
        bodies = [c["body"] for c in ctx.emulator.state.issues["JJ-2"].get("comments", [])]
    return [bodies.count(item) for item in items]


FAULT_TARGETS = [
    FaultTarget("api GET /myself", "api", "/rest/api/2/myself", "GET", send=_send_myself, check=_check_myself),
    FaultTarget("api POST comment", "api", "/rest/api/2/issue/JJ-2/comment", "POST", send=_send_comments,
                stored=_stored_comments, idempotent=False),
]
