# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark helper: writes each task's wall time (task start to its result) to $BENCH_TIMINGS as JSON."""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: task_timer
type: aggregate
short_description: Record task wall times for the push_builds benchmark
description:
  - "Writes C({task name: seconds}) to the file named by E(BENCH_TIMINGS) when the playbook ends."
  - A task lasts from its start to the next task's start.
options: {}
"""


class CallbackModule(CallbackBase):
    """A task's time runs from its start to the start of the next task (or the end of the play).

    With the linear strategy the next task starts only after every result of this one has been processed (the
    stdout callback included), so that is the time a user waits. Results are deliberately not received here:
    Ansible hands each callback that implements ``v2_runner_on_ok`` its own deep copy of the result, and copying
    10,000 accepted builds would add the benchmark's own cost to the task it measures.
    """

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._current = None
        self._times = {}

    def _close(self):
        now = time.perf_counter()
        if self._current is not None:
            name, started = self._current
            self._times[name] = round(now - started, 4)
        return now

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._current = (task.get_name(), self._close())

    def v2_playbook_on_stats(self, stats):
        self._close()
        self._current = None
        path = os.environ.get("BENCH_TIMINGS")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self._times, handle)
