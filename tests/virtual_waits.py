"""The client's retry waits on a virtual clock, for in-process tests about what is waited rather than the waiting.

``install(monkeypatch)`` puts a ``VirtualWaits`` in place of the RetryPolicy class the client builds its policies
from: each policy's sleep advances a shared offset (counted, and spent from the retry budget) instead of sleeping.
Waits the client takes outside the policy (a pause another thread's Retry-After asked for) stay real.
"""
from __future__ import annotations

import time

from ansible_collections.jiraops.integration.plugins.module_utils import _client, _retry


class VirtualWaits:
    def __init__(self):
        self.waited = 0.0
        self.sleeps = []

    def clock(self):
        return time.monotonic() + self.waited

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.waited += seconds

    def __call__(self, **kwargs):
        kwargs.update(sleep=self.sleep, clock=self.clock)
        return _retry.RetryPolicy(**kwargs)


def install(monkeypatch):
    virtual = VirtualWaits()
    monkeypatch.setattr(_client, "RetryPolicy", virtual)
    return virtual
