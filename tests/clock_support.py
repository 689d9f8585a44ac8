"""The test clock: the collection's ``_clock.Clock`` interface on virtual time, so that retry waits, Retry-After
pauses and token lifetimes pass without anybody sleeping, and a test can assert what was waited.

In-process code gets it either directly (``build_client(params, clock=clock)``, ``JiraClient(clock=...)``) or, for
a module's ``main()`` run in-process, through the ``fake_clock`` fixture (tests/conftest.py), which makes it the
collection's default clock (``_clock.SYSTEM``) for that test. A module run by ``ansible-playbook`` runs elsewhere
and keeps the real clock.
"""
from __future__ import annotations

import threading
import time

from ansible_collections.jiraops.integration.plugins.module_utils import _clock


class FakeClock(_clock.Clock):
    """Monotonic and wall time that move only when someone sleeps (or the test calls ``advance``).

    The wall clock starts at the real time (or ``wall``), so that absolute times from a real server, such as an
    ``X-RateLimit-Reset`` instant or a token's ``expires_at``, are seconds ahead of it as they would be. Safe to
    share between threads: a sleep advances the one clock for all of them, as real time would pass.
    """

    def __init__(self, wall=None, on_sleep=None):
        self._lock = threading.Lock()
        self._wall = time.time() if wall is None else wall
        self.waited = 0.0
        self.sleeps = []  # every sleep requested, in seconds, in order
        self.sleepers = []  # the thread ident of each sleep, in the same order
        self._on_sleep = on_sleep  # called with the seconds before the clock moves (to act "during" the wait)

    def monotonic(self):
        return self.waited

    def time(self):
        return self._wall + self.waited

    def sleep(self, seconds):
        if self._on_sleep:
            self._on_sleep(seconds)
        with self._lock:
            self.sleeps.append(seconds)
            self.sleepers.append(threading.get_ident())
            self.waited += max(0.0, seconds)

    def advance(self, seconds):
        """Let time pass without anyone having slept (a token ages on the shelf)."""
        with self._lock:
            self.waited += seconds


def install(clock, monkeypatch):
    """Make ``clock`` the collection's default clock for one test (what ``JiraClient`` takes without ``clock=``)."""
    monkeypatch.setattr(_clock, "SYSTEM", clock)
    return clock
