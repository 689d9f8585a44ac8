"""Jira Cloud's rate limits (enforced since March 2026) met by real module runs over HTTP against the emulator.

The emulator answers 429 with the headers Atlassian documents: ``Retry-After``, ``X-RateLimit-Reset`` (ISO 8601),
``X-RateLimit-Limit`` / ``-Remaining`` and ``RateLimit-Reason``.
"""
from __future__ import annotations

import datetime
import json
import re
import time

import pytest
from devops_support import BULK, TOKEN, builds
from devops_support import args as devops_args

MYSELF = "/rest/api/2/myself"
QUOTA = {"RateLimit-Reason": "jira-quota-tenant-based", "X-RateLimit-Limit": 350, "X-RateLimit-Remaining": 0}


def args(emulator, **kw):
    base = {"url": emulator.url, "api_url": emulator.url, "username": "alice", "password": "alice-password",
            "retry_budget": 20}
    base.update(kw)
    return base


def reset_epoch(entry):
    """The X-RateLimit-Reset the emulator sent with a fault, as epoch seconds."""
    text = entry["fault_headers"]["X-RateLimit-Reset"]
    when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


def test_reset_without_retry_after_is_waited_for_then_the_call_succeeds(emulator, run_module, fake_clock):
    emulator.fault(MYSELF, status=429, reset_in=1, times=1, headers={"RateLimit-Reason": "jira-burst-based"})
    res = run_module("api", args(emulator, path=MYSELF))
    assert not res.failed, res["msg"]
    assert res["status"] == 200 and res["json"]["name"] == "alice" and res["retries"] == 1
    first, second = emulator.requests(MYSELF)
    assert first["status"] == 429 and "Retry-After" not in first["fault_headers"]
    # Backoff alone would retry within half a second; the reset is the floor (waited on the test clock, whose wall
    # time started at the real time).
    assert len(fake_clock.sleeps) == 1 and fake_clock.time() >= reset_epoch(first), \
        "the retry went out before X-RateLimit-Reset"
    assert second["time"] > first["time"]


def test_quota_an_hour_away_fails_at_once_with_reset_time_and_reason(emulator, run_module):
    emulator.fault(MYSELF, status=429, reset_in=3600, times=-1, headers=QUOTA)
    started = time.monotonic()
    res = run_module("api", args(emulator, path=MYSELF, retry_budget=120))
    elapsed = time.monotonic() - started
    assert res.failed and res["status"] == 429
    assert elapsed < 0.5, f"a quota limit must not be slept on ({elapsed:.2f}s)"
    sent = emulator.requests(MYSELF)
    assert len(sent) == 1, "nothing is sent again before the reset"
    reset = datetime.datetime.fromtimestamp(reset_epoch(sent[0]), datetime.timezone.utc)
    msg = res["msg"]
    assert msg.startswith("GET /rest/api/2/myself returned HTTP 429: gave up without waiting")
    assert reset.strftime("%Y-%m-%d %H:%M:%S UTC") in msg
    assert re.search(r"\b360[01]s from now", msg), msg
    assert re.search(r"set retry_budget to at least 360[1-3]\b", msg), msg
    assert "RateLimit-Reason: jira-quota-tenant-based" in msg and "X-RateLimit-Remaining: 0 of 350" in msg
    assert "Traceback" not in json.dumps(res)


def test_quota_in_retry_after_fails_at_once_too(emulator, run_module):
    emulator.fault(MYSELF, status=429, retry_after=1800, times=-1,
                   headers={"RateLimit-Reason": "jira-quota-global-based"})
    started = time.monotonic()
    res = run_module("api", args(emulator, path=MYSELF))
    assert res.failed and time.monotonic() - started < 0.5
    assert "1800s from now" in res["msg"] and "jira-quota-global-based" in res["msg"]


def test_the_reason_is_in_the_error_when_retries_run_out(emulator, run_module):
    emulator.fault("/rest/api/2/issue/JJ-2/comment", status=429, retry_after=0, times=-1,
                   headers={"RateLimit-Reason": "jira-per-issue-on-write"})
    res = run_module("api", args(emulator, method="POST", path="/rest/api/2/issue/JJ-2/comment",
                                 body={"body": "pinker"}, status_code=[201], max_retries=1))
    assert res.failed and res["status"] == 429 and res["retries"] == 1
    assert "gave up after 1 retry" in res["msg"] and "RateLimit-Reason: jira-per-issue-on-write" in res["msg"]
    assert "comments" not in emulator.state.issues["JJ-2"] or emulator.state.issues["JJ-2"]["comments"] == []


@pytest.fixture
def emu(emulator):
    scopes = [f"{verb}:build:jira-software" for verb in ("read", "write")]
    emulator.seed(bearer_tokens={TOKEN: {"user": "alice", "scopes": scopes, "expires_at": None, "client_id": "ci"}})
    return emulator


def test_quota_on_parallel_bulk_submissions_fails_at_once_and_names_the_reason(emu, run_module):
    emu.fault(BULK, method="POST", status=429, reset_in=3600, times=-1, headers=QUOTA)
    started = time.monotonic()
    res = run_module("build_info", devops_args(emu, builds=builds(250), retry_budget=120))
    elapsed = time.monotonic() - started
    assert res.failed
    assert elapsed < 1.0, f"a quota limit must not be slept on ({elapsed:.2f}s)"
    assert "jira-quota-tenant-based" in res["msg"] and "from now" in res["msg"]
    assert len([r for r in emu.requests(BULK) if r["method"] == "POST"]) <= 3, "no batch is sent twice"
    assert emu.control("GET", "/devops/builds")["builds"] == []
