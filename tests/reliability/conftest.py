"""Reliability suite: its figures table, written and printed once the session ends (by tests/conftest.py)."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import reliability_support  # noqa: E402  pylint: disable=wrong-import-position


def pytest_sessionfinish(session):
    # A pytest-xdist worker has no terminal: its rows go to the controller (tests/conftest.py merges them).
    out = getattr(session.config, "workeroutput", None)
    if out is not None:
        out["reliability_report"] = reliability_support.REPORT.dump()
