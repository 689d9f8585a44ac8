from __future__ import annotations

import email.utils

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils._retry import RetryPolicy, parse_retry_after


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


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
                       clock=clock, rand=rand), clock


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
