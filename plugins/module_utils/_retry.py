# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry policy of the collection: exponential backoff with full jitter, ``Retry-After`` as a floor.

Kept free of HTTP so that unit tests can drive it with a fake clock.
"""
from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset((429, 502, 503, 504))


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent or garbled."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class RetryPolicy:
    """Decides whether and how long to wait before the next attempt.

    ``max_retries`` bounds the attempts, ``budget`` bounds the total time spent (waits included): a wait that
    would cross the budget is not started, so the caller fails fast with a clear message instead.
    """

    def __init__(self, max_retries=5, budget=120.0, base_delay=0.5, max_delay=30.0, sleep=time.sleep,
                 clock=time.monotonic, rand=random.random):
        self.max_retries = max(0, int(max_retries))
        self.budget = float(budget)
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self.started = clock()
        self.retries = 0
        self.waited = 0.0

    def backoff(self, attempt):
        """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**attempt)]."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** attempt))
        return self._rand() * ceiling

    def next_wait(self, retry_after=None):
        """Seconds to wait before the next attempt, or None when retries or budget are exhausted."""
        if self.retries >= self.max_retries:
            return None
        wait = self.backoff(self.retries)
        if retry_after is not None:
            # The server's word is the minimum; a little jitter above it keeps forks from stampeding.
            wait = max(wait, retry_after) + (self._rand() * min(1.0, self.base_delay) if wait <= retry_after else 0)
        elapsed = self._clock() - self.started
        if elapsed + wait > self.budget:
            return None
        return wait

    def wait(self, seconds):
        self.retries += 1
        self.waited += seconds
        if seconds > 0:
            self._sleep(seconds)

    @property
    def elapsed(self):
        return self._clock() - self.started
