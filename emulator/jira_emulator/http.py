"""Replies shaped the way Jira shapes them."""
from __future__ import annotations

import json

from flask import Response


def jira_json(payload, status=200, headers=None):
    resp = Response(json.dumps(payload), status=status, mimetype="application/json")
    resp.headers["Content-Type"] = "application/json;charset=UTF-8"
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def jira_error(status, *messages, errors=None, headers=None):
    """Jira's error body: ``{"errorMessages": [...], "errors": {...}}``."""
    return jira_json({"errorMessages": list(messages), "errors": errors or {}}, status=status, headers=headers)


def unauthorized(message="You are not authenticated. Authentication required to perform this operation.",
                 reason="AUTHENTICATED_FAILED", challenge='Basic realm="protected-area"'):
    headers = {"X-Seraph-LoginReason": reason}
    if challenge:
        headers["WWW-Authenticate"] = challenge
    return jira_error(401, message, headers=headers)
