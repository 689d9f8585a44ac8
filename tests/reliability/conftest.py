"""Reliability suite: write and print the figures table once the session ends."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import reliability_support  # noqa: E402  pylint: disable=wrong-import-position


def pytest_terminal_summary(terminalreporter):
    path = reliability_support.write_report()
    if path:
        terminalreporter.write_sep("=", "reliability figures")
        terminalreporter.write_line(reliability_support.REPORT.markdown())
        terminalreporter.write_line(f"(written to {path})")
