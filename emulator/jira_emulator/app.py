"""Application factory and a threaded HTTP/1.1 server with persistent connections, on loopback."""
from __future__ import annotations

import errno
import logging
import socket
import threading
from urllib.parse import unquote_to_bytes, urlsplit

from cheroot import server as cheroot_server, wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from flask import Flask, request

from . import applinks, control, core, devops, oauth1, oauth2, pats, rest
from .state import State

# Each feature registers its routes (and reset hooks) in order.
FEATURES = [core, control, rest, applinks, oauth1, devops, oauth2, pats]

# Seconds an idle connection stays open. Jira Data Center's server.xml sets the connector's connectionTimeout to
# 20000 ms, and Tomcat's keepAliveTimeout defaults to it; Atlassian's cloud edge closes idle connections too.
IDLE_TIMEOUT = 20.0
# Worker threads: each request in progress holds one (an idle keep-alive connection holds none), so this is how
# many requests are served at once, delay faults included.
THREADS = 32
# Idle keep-alive connections kept at most; past that a reply says Connection: close.
KEEPALIVE_LIMIT = 256

LOG = logging.getLogger("jira_emulator")


def create_app(state=None):
    app = Flask("jira_emulator")
    app.config["STATE"] = state or State()
    app.config["JSON_SORT_KEYS"] = False
    for feature in FEATURES:
        feature.register(app, app.config["STATE"])
    return app


class _Gateway(wsgi.Gateway_10):
    """WSGI 1.0 plus ``environ[core.DROP_KEY]``: a callable that ends the exchange without a reply (``drop``)."""

    dropped = False

    def get_environ(self):
        environ = super().get_environ()
        # cheroot leaves %2F encoded in PATH_INFO; decoded, as WSGI has it, an id such as "jj/pink-logo" sent as
        # jj%2Fpink-logo reaches the DevOps routes whole.
        target = environ["REQUEST_URI"]
        path = target.partition("?")[0] if target.startswith("/") else urlsplit(target).path
        environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
        environ[core.DROP_KEY] = self._drop
        return environ

    def _drop(self):
        self.dropped = True
        try:
            self.req.conn.socket.shutdown(socket.SHUT_RDWR)  # the client reads end of stream now
        except OSError:
            pass

    def start_response(self, status, headers, exc_info=None):
        if self.dropped:
            # cheroot takes a connection error as the client gone: it writes nothing and closes the connection.
            raise ConnectionAbortedError(errno.ECONNABORTED, "connection dropped by a fault")
        return super().start_response(status, headers, exc_info)


class _Connection(cheroot_server.HTTPConnection):
    def close(self):
        # A reply the client went away from stays in cheroot's write buffer, which the garbage collector would
        # later flush onto the closed socket ("Exception ignored ... Bad file descriptor"); closed here, it goes.
        try:
            self.wfile.close()
        except OSError:
            pass
        super().close()


class _Server(wsgi.Server):
    ConnectionClass = _Connection
    keep_alive_conn_limit = KEEPALIVE_LIMIT

    def error_log(self, msg="", level=logging.INFO, traceback=False):
        # cheroot writes these to stderr; as log records, quiet (the default) keeps only errors.
        LOG.log(level, "%s", msg, exc_info=traceback)


def _log_request(response):
    LOG.info("%s %s %s", request.method, request.path, response.status_code)
    return response


class EmulatorServer:
    """A real HTTP(S) server on a free loopback port, in a background thread.

    HTTP/1.1 keeps connections alive as Jira's front ends do, so a client's connection reuse is exercised: a
    connection serves request after request until the client says ``Connection: close`` or stays idle for
    ``idle_timeout`` seconds. ``ssl_context`` is a ``(certificate file, key file)`` pair (PEM) for HTTPS.
    """

    def __init__(self, host="127.0.0.1", port=0, ssl_context=None, quiet=True, idle_timeout=IDLE_TIMEOUT):
        self.state = State()
        self.app = create_app(self.state)
        LOG.setLevel(logging.ERROR if quiet else logging.INFO)
        if not quiet:
            self.app.after_request(_log_request)
        self._server = _Server((host, port), self.app, numthreads=THREADS, timeout=idle_timeout,
                               request_queue_size=128)
        self._server.gateway = _Gateway
        # Idle connections are looked for this often; a short idle_timeout is then kept to within a fraction.
        self._server.expiration_interval = min(self._server.expiration_interval, idle_timeout / 4)
        if ssl_context:
            cert, key = ssl_context
            self._server.ssl_adapter = BuiltinSSLAdapter(cert, key)
        self._server.prepare()  # binds, so that the port is known before serving
        self.host = host
        self.port = self._server.bind_addr[1]
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://{host}:{self.port}"
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve, name="jira-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        try:
            self._server.serve()
        finally:
            self._server.stop()

    def stop(self):
        self._server.stop()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
