"""A strict Jira test double: real HTTP on loopback, Jira's error shapes, a control API and fault injection."""
from __future__ import annotations

from .app import EmulatorServer, create_app
from .state import State

__all__ = ["EmulatorServer", "State", "create_app"]
