"""The generic bulk sender, with plain functions in place of HTTP."""
from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils import _bulk as bulk


def test_replies_come_back_in_the_batches_order_whatever_order_they_finish_in():
    def send(batch):
        time.sleep(0.002 * (5 - batch[0]))   # later batches answer first
        return {"got": batch}
    batches = [[i] for i in range(5)]
    assert bulk.send_batches(batches, send, parallel=4) == [({"got": b}, b) for b in batches]


def test_the_first_batch_goes_alone_then_up_to_parallel_at_once():
    lock, state = threading.Lock(), {"now": 0, "most": 0, "first_alone": None}

    def send(batch):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            if batch == [0]:
                state["first_alone"] = state["now"] == 1
        time.sleep(0.01)
        with lock:
            state["now"] -= 1
        return {}
    started = []
    bulk.send_batches([[i] for i in range(9)], send, parallel=3, start_parallel=started.append)
    assert state["first_alone"] is True and state["most"] == 3 and started == [3]


def test_too_large_halves_the_batch_and_cuts_those_waiting_and_a_lone_item_is_reported():
    sizes = []

    def send(batch):
        sizes.append(len(batch))
        if len(batch) > 2 or "huge" in batch:
            return bulk.TOO_LARGE
        return {"ok": list(batch)}
    out = bulk.send_batches([["a", "b", "c", "d"], ["e", "f", "g", "huge"]], send)
    assert sizes[:3] == [4, 2, 2]                      # then the waiting batch goes in pieces of 2, never 4
    assert 4 not in sizes[1:]
    assert [batch for _reply, batch in out] == [["a", "b"], ["c", "d"], ["e", "f"], ["g"], ["huge"]]
    assert out[-1][0] is None and out[0][0] == {"ok": ["a", "b"]}


def test_the_first_error_stops_new_sends_and_carries_the_replies_so_far():
    sent = []

    def send(batch):
        sent.append(batch)
        if batch == [1]:
            raise ValueError("refused")
        return {"ok": batch}
    with pytest.raises(ValueError) as info:
        bulk.send_batches([[0], [1], [2], [3]], send)
    assert sent == [[0], [1]] and info.value.partial == [({"ok": [0]}, [0])]
