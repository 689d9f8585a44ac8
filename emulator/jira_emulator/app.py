"""Application factory and a threaded server that tests, CI and the demo start on loopback."""
from __future__ import annotations

import logging
import threading

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from . import applinks, control, core, devops, oauth1, oauth2, pats, rest
from .state import State

# Each feature registers its routes (and reset hooks) in order.
FEATURES = [core, control, rest, applinks, oauth1, devops, oauth2, pats]


def create_app(state=None):
    app = Flask("jira_emulator")
    app.config["STATE"] = state or State()
    app.config["JSON_SORT_KEYS"] = False
    for feature in FEATURES:
        feature.register(app, app.config["STATE"])
    return app


class _KeepAliveHandler(WSGIRequestHandler):
    # HTTP/1.1 keep-alive, as Jira's front ends do; clients reuse connections and benchmarks stay fair.
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs):
        if logging.getLogger("werkzeug").isEnabledFor(logging.INFO):
            super().log_request(*args, **kwargs)


class EmulatorServer:
    """A real HTTP(S) server on a free loopback port, in a background thread."""

    def __init__(self, host="127.0.0.1", port=0, ssl_context=None, quiet=True):
        self.state = State()
        self.app = create_app(self.state)
        if quiet:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(host, port, self.app, threaded=True, ssl_context=ssl_context,
                                   request_handler=_KeepAliveHandler)
        self.host = host
        self.port = self._server.server_port
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://{host}:{self.port}"
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name="jira-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
