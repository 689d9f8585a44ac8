"""Cross-cutting behaviour: request log, fault injection, and Jira's strictness on bodies."""
from __future__ import annotations

import datetime
import json
import math
import time

from flask import current_app, g, request

from .http import jira_error, jira_json

CONTROL_PREFIX = "/_emulator"
# The environ key of the server's (app.py) callable that ends the exchange without a reply.
DROP_KEY = "jira_emulator.drop"
JSON_TYPES = ("application/json",)


class BadBody(Exception):
    def __init__(self, response):
        super().__init__("bad body")
        self.response = response


def json_body(required=True):
    """The parsed JSON body, failing the way Jira does for a wrong content type or malformed JSON."""
    ctype = (request.mimetype or "").lower()
    raw = request.get_data(cache=True)
    if not raw:
        if required:
            raise BadBody(jira_error(400, "No content to map to Object due to end of input"))
        return None
    if ctype not in JSON_TYPES:
        raise BadBody(jira_json({"message": "Unsupported Media Type", "status-code": 415}, status=415))
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadBody(jira_error(400, f"Unexpected character in JSON body: {str(exc)[:120]}")) from None


def _drop_connection():
    drop = request.environ.get(DROP_KEY)
    if drop is None:
        raise RuntimeError("a drop fault needs EmulatorServer, the server that can end a connection without a reply")
    drop()


class DroppedConnection(Exception):
    """Raised after the connection was dropped; the server writes no reply for it."""


def reset_header(epoch):
    """``X-RateLimit-Reset`` as ISO 8601 UTC, rounded up to the second so that it is never earlier than meant.

    Jira documents minute precision (yyyy-MM-ddTHH:mmZ); seconds are ISO 8601 as well and let tests use resets
    a second away. A literal minute-precision value can be given in a fault's ``headers``.
    """
    when = datetime.datetime.fromtimestamp(math.ceil(epoch), datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def before_request():
    # Every body read whole, even one the reply ignores (a 405): a chunked body left half-read on a kept-alive
    # connection would be parsed as the next request.
    body = request.get_data(cache=True)
    if request.path.startswith(CONTROL_PREFIX):
        return None
    state = current_app.config["STATE"]
    g.started = time.time()
    g.log_entry = state.log_request({
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode("latin-1"),
        "headers": dict(request.headers),
        "body": body.decode("utf-8", "replace"),
        "status": None,
        # The client's end of the connection: requests sent on one kept-alive connection share it.
        "peer": f"{request.environ.get('REMOTE_ADDR')}:{request.environ.get('REMOTE_PORT')}",
    })
    fault = state.take_fault(request.method, request.path)
    if fault is None:
        return None
    g.log_entry["fault"] = fault.kind
    if fault.kind == "delay":
        time.sleep(fault.delay)
        return None
    if fault.kind == "latency":
        g.answer_at = time.monotonic() + fault.delay  # after_request waits out what processing left
        return None
    if fault.kind == "drop":
        _drop_connection()
        raise DroppedConnection()
    headers = dict(fault.headers)
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if fault.reset_in is not None:
        headers["X-RateLimit-Reset"] = reset_header(time.time() + fault.reset_in)
    g.log_entry["fault_headers"] = headers
    payload = fault.body if fault.body is not None else {
        "errorMessages": [f"Emulated fault: HTTP {fault.status}"], "errors": {}}
    return jira_json(payload, status=fault.status, headers=headers)


def after_request(response):
    answer_at = g.get("answer_at")
    if answer_at is not None:
        time.sleep(max(0.0, answer_at - time.monotonic()))
    entry = g.get("log_entry")
    if entry is not None:
        entry["status"] = response.status_code
        entry["elapsed"] = round(time.time() - g.started, 4)
    return response


def register(app, state):
    app.before_request(before_request)
    app.after_request(after_request)

    @app.errorhandler(BadBody)
    def _bad_body(exc):
        return exc.response

    @app.errorhandler(404)
    def _not_found(_exc):
        return jira_error(404, f"null for uri: {request.url}")

    @app.errorhandler(405)
    def _not_allowed(_exc):
        return jira_json({"message": "Method Not Allowed", "status-code": 405}, status=405)

    @app.errorhandler(DroppedConnection)
    def _dropped(_exc):
        # Never written: the server (app.py) refuses to start a reply on a dropped connection.
        return "", 500
