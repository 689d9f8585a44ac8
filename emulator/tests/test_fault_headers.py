"""Rate-limit replies from the emulator's fault injection, read over raw HTTP (no collection code involved)."""
from __future__ import annotations

import datetime
import time

import pytest
import requests

MYSELF = "/rest/api/2/myself"


def get(emulator):
    return requests.get(emulator.url + MYSELF, auth=("alice", "alice-password"), timeout=10)


def test_a_fault_carries_arbitrary_headers_and_a_relative_reset(emulator):
    emulator.fault(MYSELF, status=429, reset_in=60, times=1,
                   headers={"RateLimit-Reason": "jira-quota-tenant-based", "X-RateLimit-Limit": 350,
                            "X-RateLimit-Remaining": "0"})
    before = time.time()
    resp = get(emulator)
    assert resp.status_code == 429
    assert resp.headers["RateLimit-Reason"] == "jira-quota-tenant-based"
    assert resp.headers["X-RateLimit-Limit"] == "350" and resp.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in resp.headers
    reset = datetime.datetime.strptime(resp.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%M:%SZ")
    reset = reset.replace(tzinfo=datetime.timezone.utc).timestamp()
    assert before + 60 <= reset <= time.time() + 61
    logged = emulator.requests(MYSELF)[0]
    assert logged["fault_headers"]["X-RateLimit-Reset"] == resp.headers["X-RateLimit-Reset"]
    assert get(emulator).status_code == 200, "times=1: the next request gets through"


def test_retry_after_and_headers_together(emulator):
    emulator.fault(MYSELF, status=429, retry_after=3, headers={"X-RateLimit-Reset": "2026-03-26T16:00Z"})
    resp = get(emulator)
    assert resp.headers["Retry-After"] == "3" and resp.headers["X-RateLimit-Reset"] == "2026-03-26T16:00Z"


@pytest.mark.parametrize("spec", [
    {"headers": ["RateLimit-Reason"]},
    {"headers": {"Bad Name": "x"}},
    {"headers": {"X-Evil": "a\r\nSet-Cookie: x=1"}},
    {"headers": {"X-Flag": True}},
    {"reset_in": "soon"},
    {"reset_in": True},
])
def test_bad_fault_headers_are_refused(emulator, spec):
    resp = requests.post(f"{emulator.url}/_emulator/faults", json=dict(path=MYSELF, status=429, **spec), timeout=10)
    assert resp.status_code == 400
    assert get(emulator).status_code == 200, "a refused fault must not be installed"
