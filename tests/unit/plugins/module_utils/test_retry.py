from __future__ import annotations

import datetime
import email.utils

import pytest
from clock_support import FakeClock

from ansible_collections.jiraops.integration.plugins.module_utils._retry import (
    RetryPolicy, parse_reset, parse_retry_after)


@pytest.mark.parametrize("value, expected", [("3", 3.0), (" 0 ", 0.0), ("1.5", 1.5), ("-4", 0.0)])
def test_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_retry_after_http_date():
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(42, abs=1)


@pytest.mark.parametrize("value", [None, "", "soon", "Mon, 99 Foo 2020"])
def test_retry_after_garbled_is_ignored(value):
    assert parse_retry_after(value) is None


def make(max_retries=5, budget=100.0, rand=lambda: 1.0):
    clock = FakeClock()
    return RetryPolicy(max_retries=max_retries, budget=budget, base_delay=0.5, max_delay=8, sleep=clock.sleep,
                       clock=clock.monotonic, rand=rand), clock


def test_backoff_grows_exponentially_and_is_capped():
    policy, clock = make(max_retries=6)
    waits = []
    while (w := policy.next_wait()) is not None:
        waits.append(w)
        policy.wait(w)
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert clock.sleeps == waits


def test_full_jitter_stays_within_ceiling():
    policy, dummy = make(rand=lambda: 0.25)
    assert policy.next_wait() == pytest.approx(0.125)


def test_retry_after_is_the_minimum_wait():
    policy, dummy = make(rand=lambda: 0.0)
    wait = policy.next_wait(retry_after=7)
    assert wait >= 7


def test_budget_stops_a_wait_that_would_cross_it():
    policy, dummy = make(budget=5)
    assert policy.next_wait(retry_after=10) is None
    assert policy.next_wait(retry_after=3) is not None


def test_max_retries_bounds_attempts():
    policy, dummy = make(max_retries=2)
    for dummy in range(2):
        policy.wait(policy.next_wait())
    assert policy.next_wait() is None
    assert policy.retries == 2


# -- Atlassian's rate-limit headers (X-RateLimit-Reset, RateLimit-Reason, ...) --------------------------------
WALL = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC


def iso(epoch, fmt="%Y-%m-%dT%H:%M:%SZ"):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(fmt)


def limited(budget=120.0, max_retries=5, wall=WALL):
    """A policy whose monotonic clock and wall clock advance together with every (fake) sleep."""
    clock = FakeClock(wall=wall)
    policy = RetryPolicy(max_retries=max_retries, budget=budget, base_delay=0.5, max_delay=8, sleep=clock.sleep,
                         clock=clock.monotonic, rand=lambda: 0.0, wall_clock=clock.time)
    return policy, clock


@pytest.mark.parametrize("value, expected", [
    ("2026-05-28T20:30Z", WALL + 200),  # the form Atlassian documents: yyyy-MM-ddTHH:mmZ
    ("2026-05-28T20:26:45Z", WALL + 5),
    ("2026-05-28T20:26:45.500Z", WALL + 5.5),
    ("2026-05-28T22:26:45+02:00", WALL + 5),
    ("2026-05-28T20:26:45", WALL + 5),  # no offset: UTC, as Jira means it
])
def test_reset_parses_iso_8601(value, expected):
    assert parse_reset(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", [None, "", "soon", "1780000005", "2026-13-01T00:00Z", "2026-05-28T25:00Z",
                                   "2026-05-28T20:26:45+99:00", "2026-05-28", "2026-05-28T20:26:45Z; evil"])
def test_garbled_reset_is_ignored(value):
    assert parse_reset(value) is None


def test_reset_is_the_wait_floor_without_retry_after():
    policy, clock = limited()
    floor = policy.observe(429, {"X-RateLimit-Reset": iso(WALL + 7), "RateLimit-Reason": "jira-burst-based"})
    assert floor == pytest.approx(7)
    wait = policy.next_wait(floor)
    assert wait >= 7
    policy.wait(wait)
    assert clock.sleeps == [wait]


def test_retry_after_wins_over_reset():
    policy, dummy = limited()
    assert policy.observe(429, {"Retry-After": "2", "X-RateLimit-Reset": iso(WALL + 60)}) == 2.0


def test_reset_in_the_past_leaves_plain_backoff():
    policy, dummy = limited()
    assert policy.observe(429, {"x-ratelimit-reset": iso(WALL - 30)}) == 0.0
    assert policy.next_wait(0.0) is not None


def test_quota_beyond_the_budget_fails_at_once_with_reset_time_and_reason():
    policy, clock = limited(budget=120)
    headers = {"X-RateLimit-Reset": iso(WALL + 3600), "RateLimit-Reason": "jira-quota-tenant-based",
               "X-RateLimit-Limit": "350", "X-RateLimit-Remaining": "0"}
    floor = policy.observe(429, headers)
    assert policy.next_wait(floor) is None
    assert clock.sleeps == [], "a limit that outlasts the budget must not be slept on"
    msg = policy.give_up_message(floor)
    assert iso(WALL + 3600, "%Y-%m-%d %H:%M:%S UTC") in msg
    assert "3600s from now" in msg
    assert "retry_budget to at least 3601" in msg
    assert "RateLimit-Reason: jira-quota-tenant-based" in msg and "X-RateLimit-Remaining: 0 of 350" in msg


def test_quota_after_some_retries_counts_the_time_already_spent():
    policy, clock = limited(budget=10)
    policy.wait(policy.next_wait(policy.observe(429, {"Retry-After": "3"})))
    floor = policy.observe(429, {"Retry-After": "30", "RateLimit-Reason": "jira-burst-based"})
    assert policy.next_wait(floor) is None
    msg = policy.give_up_message(floor)
    assert "after 1 retry" in msg and "7s of 10s left" in msg and "at least 34" in msg


@pytest.mark.parametrize("reason", ["jira-burst-based", "jira-per-issue-on-write", "jira-quota-global-based"])
def test_reason_is_in_the_message_when_retries_run_out(reason):
    policy, dummy = limited(max_retries=1)
    policy.wait(policy.next_wait(policy.observe(429, {"Retry-After": "1", "RateLimit-Reason": reason})))
    floor = policy.observe(429, {"Retry-After": "1", "RateLimit-Reason": reason})
    assert policy.next_wait(floor) is None
    msg = policy.give_up_message(floor)
    assert msg.startswith("gave up after 1 retry") and f"RateLimit-Reason: {reason}" in msg


def test_malformed_limit_headers_are_ignored_safely():
    policy, dummy = limited()
    floor = policy.observe(429, {"Retry-After": "nan", "X-RateLimit-Reset": "tomorrow", "X-RateLimit-Limit": "-3",
                                 "X-RateLimit-Remaining": "lots", "RateLimit-Reason": "bad\x00reason <script>"})
    assert floor is None
    assert policy.rate_limit.note() == ""
    assert policy.next_wait(floor) == 0.0
    assert policy.give_up_message(floor).startswith("gave up after 0 retries")
    assert parse_retry_after("inf") is None and parse_retry_after("1e999") is None


def test_a_reset_too_far_to_show_still_fails_cleanly():
    policy, dummy = limited()
    floor = policy.observe(429, {"Retry-After": "1e15"})
    assert policy.next_wait(floor) is None
    assert "from now" in policy.give_up_message(floor)


def test_headers_of_a_later_non_retryable_reply_clear_the_note():
    policy, dummy = limited()
    policy.observe(429, {"RateLimit-Reason": "jira-burst-based"})
    assert "jira-burst-based" in policy.with_limit_note("x")
    assert policy.observe(404, {"RateLimit-Reason": "jira-burst-based"}) is None
    assert policy.with_limit_note("not found") == "not found"
