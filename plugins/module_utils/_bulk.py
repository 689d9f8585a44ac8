# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sending batches through a ``send(batch)`` callable: bounded parallel, halving on "too large", replies in order.

Nothing here knows HTTP or the DevOps APIs, so that the scheduling rules can be tested with plain functions.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

TOO_LARGE = object()   # what ``send`` returns when the receiver refuses a batch as too large (HTTP 413)


def _run_now(func, *args):
    """A finished Future: how a batch is sent when one request at a time is all there is."""
    future = Future()
    try:
        future.set_result(func(*args))
    except Exception as exc:  # pylint: disable=broad-except  # re-raised by result(), as a pool's Future does
        future.set_exception(exc)
    return future


def _cut(position, units, size):
    """``units`` in pieces of at most ``size``; each piece's position sorts where the whole batch did."""
    if len(units) <= size:
        return [(position, units)]
    return [(position + (index,), units[start:start + size])
            for index, start in enumerate(range(0, len(units), size))]


def halve(units):
    """The usual split: two halves, or None for a batch of one."""
    if len(units) < 2:
        return None
    middle = len(units) // 2
    return [units[:middle], units[middle:]]


def send_batches(batches, send, parallel=1, split=halve, start_parallel=None, debug=None):
    """Send every batch; returns ``[(reply, batch)]`` in the batches' order (``reply`` None: too large alone).

    The first batch goes alone, and so does each one until ``send`` has returned a reply: a failure that every
    batch would meet (a wrong credential, a size the receiver finds too large) then shows once. When ``send``
    returns ``TOO_LARGE`` the batch is split and the batches still waiting are cut to the size being tried. The
    first exception stops new sends; those in flight finish, and it is raised with ``partial`` (the replies so
    far, in order) attached. ``start_parallel()`` is called once before sending from more than one thread.
    """
    queue = deque(((index,), batch) for index, batch in enumerate(batches))
    parallel = min(parallel, len(queue)) or 1
    size = None
    replies = []
    proven = False
    error = None
    in_flight = {}
    pool = None
    if parallel > 1:
        if start_parallel is not None:
            start_parallel(parallel)
        pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="jiraops-bulk")
    try:
        while in_flight or (queue and error is None):
            while queue and error is None and len(in_flight) < (parallel if proven else 1):
                position, batch = queue.popleft()
                future = pool.submit(send, batch) if pool else _run_now(send, batch)
                in_flight[future] = (position, batch)
            done = wait(in_flight, return_when=FIRST_COMPLETED)[0]
            for future in sorted(done, key=lambda f: in_flight[f][0]):
                position, batch = in_flight.pop(future)
                try:
                    reply = future.result()
                except Exception as exc:  # pylint: disable=broad-except  # the first one is raised below
                    error = error or exc
                    continue
                if reply is not TOO_LARGE:
                    proven = True
                    replies.append((position, reply, batch))
                    continue
                halves = split(batch)
                if halves is None:
                    replies.append((position, None, batch))
                    continue
                size = len(halves[0]) if size is None else min(size, len(halves[0]))
                if debug is not None:
                    debug(f"too large: {len(batch)} items split into {len(halves[0])} + {len(halves[1])}")
                pieces = [piece for index, half in enumerate(halves) for piece in _cut(position + (index,), half, size)]
                queue = deque(pieces + [piece for waiting in queue for piece in _cut(*waiting, size)])
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    ordered = [(reply, batch) for _position, reply, batch in sorted(replies, key=lambda r: r[0])]
    if error is not None:
        error.partial = ordered
        raise error
    return ordered
