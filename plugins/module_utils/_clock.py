# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time as the collection's code sees it: one object, so that tests can hand in a clock that advances without
sleeping (retry waits, Retry-After pauses, gating polls, token expiry) instead of waiting in real time."""
from __future__ import annotations

import time


class Clock:
    """The real clock. A test clock has the same three methods."""

    def monotonic(self):
        return time.monotonic()

    def time(self):
        return time.time()

    def sleep(self, seconds):
        time.sleep(seconds)


SYSTEM = Clock()
