"""The emulator's own tests use the fixtures it offers every suite."""
from __future__ import annotations

from jira_emulator.testing import emulator, emulator_server  # noqa: F401  pylint: disable=unused-import
