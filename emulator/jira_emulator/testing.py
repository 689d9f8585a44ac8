"""pytest fixtures and a control API client, so every test suite drives the emulator the same way.

Installed, the package registers this module as a pytest plugin (entry point ``pytest11``), so every suite has the
fixtures; with plugin autoloading off, use ``-p jira_emulator.testing``.
"""
from __future__ import annotations

import pytest
import requests

from .app import EmulatorServer


class Emulator:
    """A handle on a running emulator: base URL, direct state access and the control API."""

    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.state = server.state

    def control(self, method, path, **kwargs):
        resp = requests.request(method, f"{self.url}/_emulator{path}", timeout=10, **kwargs)
        resp.raise_for_status()
        return resp.json()

    def fault(self, path, **spec):
        return self.control("POST", "/faults", json=dict(path=path, **spec))

    def requests(self, path=None, method=None):
        params = {k: v for k, v in (("path", path), ("method", method)) if v}
        return self.control("GET", "/requests", params=params)["requests"]

    def seed(self, **data):
        return self.control("POST", "/seed", json=data)

    def configure(self, **values):
        return self.control("POST", "/config", json=values)


@pytest.fixture(scope="session")
def emulator_server():
    """One server for the whole session: starting it costs more than resetting it."""
    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server):  # pylint: disable=redefined-outer-name
    """A freshly reset emulator for each test."""
    emulator_server.state.reset()
    return Emulator(emulator_server)
