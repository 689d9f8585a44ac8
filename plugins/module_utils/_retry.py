# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry policy of the collection: exponential backoff with full jitter, the server's wait as a floor.

The floor is ``Retry-After``, else Atlassian's ``X-RateLimit-Reset``; a floor the budget cannot hold (an hourly
quota) ends the request at once with the reset time instead of a sleep. Kept free of HTTP so that unit tests can
drive it with a fake clock.
"""
from __future__ import annotations

import datetime
import math
import random
import re
import time
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset((429, 502, 503, 504))
# Atlassian documents yyyy-MM-ddTHH:mmZ; seconds, fractions and numeric offsets are ISO 8601 too.
_ISO_8601 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
# RateLimit-Reason values are short tokens (jira-burst-based, jira-quota-tenant-based); anything else is dropped.
_REASON = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}")


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent or garbled."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def parse_reset(value):
    """Epoch seconds of an ``X-RateLimit-Reset`` ISO 8601 time (UTC when no offset); None if absent or garbled."""
    if value is None:
        return None
    match = _ISO_8601.fullmatch(str(value).strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz = datetime.timezone.utc
    if zone and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        if offset >= datetime.timedelta(hours=24):
            return None
        tz = datetime.timezone(-offset if zone[0] == "-" else offset)
    try:
        when = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                                 int((fraction or "0").ljust(6, "0")[:6]), tzinfo=tz)
        return when.timestamp()
    except (ValueError, OverflowError):
        return None


def _count(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def utc_text(epoch):
    """A wall-clock time for messages; None when it cannot be shown (absurdly far away)."""
    try:
        return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (ValueError, OverflowError, OSError):
        return None


class RateLimit:
    """What one reply said about Atlassian's rate limits; any header may be missing or garbled (then ignored)."""

    def __init__(self, headers, now):
        get = _getter(headers)
        self.now = now
        self.retry_after = parse_retry_after(get("Retry-After"), now)
        self.reset_at = parse_reset(get("X-RateLimit-Reset"))
        self.limit = _count(get("X-RateLimit-Limit"))
        self.remaining = _count(get("X-RateLimit-Remaining"))
        reason = str(get("RateLimit-Reason") or "").strip()
        self.reason = reason if _REASON.fullmatch(reason) else None

    @property
    def floor(self):
        """Seconds to wait at least: ``Retry-After`` wins, else the time left until ``X-RateLimit-Reset``."""
        if self.retry_after is not None:
            return self.retry_after
        if self.reset_at is not None:
            return max(0.0, self.reset_at - self.now)
        return None

    def note(self):
        """The reply's own words on the limit, for error messages ("" when it said nothing)."""
        parts = []
        if self.reason:
            parts.append(f"RateLimit-Reason: {self.reason}")
        if self.remaining is not None:
            parts.append(f"X-RateLimit-Remaining: {self.remaining}"
                         + (f" of {self.limit}" if self.limit is not None else ""))
        return ", ".join(parts)


def _getter(headers):
    """Case-insensitive lookup for plain dicts too (requests already gives a case-insensitive mapping)."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    return lambda name: lowered.get(name.lower())


class RetryPolicy:
    """Decides whether and how long to wait before the next attempt.

    ``max_retries`` bounds the attempts, ``budget`` bounds the total time spent (waits included): a wait that
    would cross the budget is not started, so the caller fails fast with a clear message instead.
    """

    def __init__(self, max_retries=5, budget=120.0, base_delay=0.5, max_delay=30.0, sleep=time.sleep,
                 clock=time.monotonic, rand=random.random, wall_clock=time.time):
        self.max_retries = max(0, int(max_retries))
        self.budget = float(budget)
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._wall_clock = wall_clock
        self.started = clock()
        self.retries = 0
        self.waited = 0.0
        self.rate_limit = None

    def observe(self, status, headers):
        """Read a reply's rate-limit headers; returns the wait floor in seconds for a retryable status, else None."""
        if status not in RETRY_STATUSES:
            self.rate_limit = None  # an earlier 429's headers say nothing about this reply
            return None
        self.rate_limit = RateLimit(headers, self._wall_clock())
        return self.rate_limit.floor

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

    def give_up_message(self, retry_after=None):
        """Why no further attempt is made; a limit that outlasts the budget says when it resets and what to raise."""
        floor = retry_after
        elapsed = self.elapsed
        if floor is not None and elapsed + floor > self.budget:
            left = max(0.0, self.budget - elapsed)
            when = utc_text(self._wall_clock() + floor)
            message = (f"gave up without waiting{' after ' + self._retries_text() if self.retries else ''}: "
                       f"the limit resets "
                       f"{'at ' + when + ', ' if when else ''}{floor:.0f}s from now, later than retry_budget allows "
                       f"({left:.0f}s of {self.budget:g}s left); set retry_budget to at least "
                       f"{math.ceil(elapsed + floor) + 1} to wait for the reset, or run the task again after it")
        else:
            message = (f"gave up after {self._retries_text()} in {elapsed:.1f}s"
                       + (f" (server asked to wait {floor:.0f}s more; raise retry_budget or max_retries)"
                          if floor is not None else ""))
        return self.with_limit_note(message)

    def _retries_text(self):
        return f"{self.retries} retr{'y' if self.retries == 1 else 'ies'}"

    def limit_note(self):
        """What the last retryable reply said about the rate limit ("" when nothing)."""
        return self.rate_limit.note() if self.rate_limit is not None else ""

    def with_limit_note(self, message):
        note = self.limit_note()
        return f"{message}; {note}" if note else message
