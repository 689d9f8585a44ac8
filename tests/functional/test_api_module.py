"""The api module run for real (in-process main()) against the emulator over HTTP."""
from __future__ import annotations

import json


def args(emulator, **kw):
    base = {"url": emulator.url, "api_url": emulator.url, "username": "alice", "password": "alice-password",
            "retry_budget": 20}
    base.update(kw)
    return base


def test_get_issue(emulator, run_module):
    res = run_module("api", args(emulator, path="/rest/api/2/issue/JJ-2", query={"fields": "summary"}))
    assert not res.failed and res["changed"] is False
    assert res["status"] == 200
    assert res["json"]["fields"] == {"summary": "Jira Junior logo is not pink enough"}
    assert emulator.requests("/rest/api/2/issue/JJ-2")[0]["query"] == "fields=summary"


def test_post_changes_and_check_mode_sends_nothing(emulator, run_module):
    spec = args(emulator, method="POST", path="/rest/api/2/issue/JJ-2/comment", body={"body": "hello"},
                status_code=[201])
    res = run_module("api", spec, check_mode=True)
    assert res["changed"] is True and res["status"] is None
    assert emulator.requests("/rest/api/2/issue/JJ-2/comment") == []
    res = run_module("api", spec)
    assert res["changed"] is True and res["status"] == 201
    assert emulator.state.issues["JJ-2"]["comments"][0]["body"] == "hello"
    sent = emulator.requests("/rest/api/2/issue/JJ-2/comment")[0]
    assert sent["headers"]["Content-Type"] == "application/json" and json.loads(sent["body"]) == {"body": "hello"}


def test_unexpected_status_fails_with_jira_text(emulator, run_module):
    res = run_module("api", args(emulator, path="/rest/api/2/issue/NOPE-9"))
    assert res.failed and res["status"] == 404
    assert "GET /rest/api/2/issue/NOPE-9 returned HTTP 404" in res["msg"]
    assert "Issue does not exist" in res["msg"]
    assert "Traceback" not in json.dumps(res)


def test_wrong_password_fails_without_leaking_it(emulator, run_module):
    res = run_module("api", args(emulator, password="hunter2-wrong", path="/rest/api/2/myself"))
    assert res.failed and res["status"] == 401
    assert "authentication failed" in res["msg"]
    assert "hunter2-wrong" not in json.dumps(res)


def test_token_and_basic_together_is_refused(emulator, run_module):
    res = run_module("api", args(emulator, token="alice-pat-0123456789abcdef", path="/rest/api/2/myself"))
    assert res.failed and "auth_method=auto cannot choose" in res["msg"]
    assert emulator.requests() == []


def test_headers_are_redacted(emulator, run_module):
    res = run_module("api", args(emulator, path="/rest/api/2/myself"))
    assert res["headers"]["Content-Type"].startswith("application/json")
    assert "alice-password" not in json.dumps(res)


def test_retries_reported(emulator, run_module):
    emulator.fault("/rest/api/2/myself", status=429, retry_after=0, times=2)
    res = run_module("api", args(emulator, path="/rest/api/2/myself"))
    assert res["status"] == 200 and res["retries"] == 2


def test_path_must_start_with_slash(emulator, run_module):
    res = run_module("api", args(emulator, path="rest/api/2/myself"))
    assert res.failed and res["msg"].startswith("path:")
