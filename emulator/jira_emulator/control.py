"""The control API under /_emulator: seed data, read the request log, inject faults, tune, reset."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request

from .core import CONTROL_PREFIX

bp = Blueprint("control", __name__, url_prefix=CONTROL_PREFIX)

MASK = "********"
_OAUTH_SECRET_PARAMS = re.compile(r'((?:oauth_token|oauth_signature|oauth_verifier)=")[^"]*(")')


def _masked(entry):
    """A log entry safe to print: the credential part of Authorization and Cookie headers masked.

    Playbooks read this log and Ansible prints what they register at -v; the secrets scan must not find the
    credentials there. The scheme stays visible (``Basic ********``), and ``?raw=1`` returns everything.
    """
    headers = dict(entry.get("headers") or {})
    for name in list(headers):
        if name.lower() in ("cookie", "proxy-authorization"):
            headers[name] = MASK
        elif name.lower() == "authorization":
            scheme, dummy, cred = headers[name].partition(" ")
            if scheme.lower() == "oauth":
                headers[name] = scheme + " " + _OAUTH_SECRET_PARAMS.sub(r"\1" + MASK + r"\2", cred)
            else:
                headers[name] = f"{scheme} {MASK}" if cred else MASK
    return dict(entry, headers=headers)


FAULT_KEYS = {"path", "method", "kind", "status", "retry_after", "headers", "reset_in", "body", "delay", "times",
              "skip"}
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _state():
    return current_app.config["STATE"]


def _bad(message):
    resp = jsonify({"error": message})
    resp.status_code = 400
    return resp


@bp.get("/health")
def health():
    return jsonify({"ok": True})


@bp.post("/reset")
def reset():
    _state().reset()
    return jsonify({"reset": True})


@bp.get("/config")
def get_config():
    return jsonify(_state().config)


@bp.post("/config")
def set_config():
    state = _state()
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        return _bad("body must be a JSON object")
    with state.lock:
        state.config.update(data)
        return jsonify(state.config)


@bp.post("/seed")
def seed():
    """Add users, issues, personal access tokens or bearer tokens."""
    state = _state()
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        return _bad("body must be a JSON object")
    with state.lock:
        for user in data.get("users", []):
            user.setdefault("displayName", user["name"].title())
            user.setdefault("emailAddress", f"{user['name']}@example.com")
            user.setdefault("accountId", f"emu-{user['name']}")
            user.setdefault("admin", False)
            state.users[user["name"]] = user
        for issue in data.get("issues", []):
            issue.setdefault("status", "To Do")
            state.issues[issue["key"]] = issue
        state.pats.update(data.get("pats", {}))
        state.bearer_tokens.update(data.get("bearer_tokens", {}))
    return jsonify({"users": sorted(state.users), "issues": sorted(state.issues)})


@bp.get("/requests")
def list_requests():
    """The request log, optionally filtered by ``path`` prefix, ``method`` and ``since`` (sequence number).

    Credentials in headers are masked unless ``raw=1`` is given (see ``_masked``).
    """
    state = _state()
    prefix = request.args.get("path")
    method = request.args.get("method")
    since = int(request.args.get("since", 0))
    raw = request.args.get("raw") in ("1", "true", "yes")
    with state.lock:
        rows = [
            r if raw else _masked(r) for r in state.requests
            if r["seq"] > since and (not prefix or r["path"].startswith(prefix))
            and (not method or r["method"] == method.upper())
        ]
        return jsonify({"count": len(rows), "requests": rows})


@bp.delete("/requests")
def clear_requests():
    state = _state()
    with state.lock:
        state.requests.clear()
    return jsonify({"cleared": True})


@bp.get("/faults")
def list_faults():
    state = _state()
    with state.lock:
        return jsonify({"faults": [f.as_dict() for f in state.faults]})


@bp.post("/faults")
def add_fault():
    """``{"path": "/rest/api/2/myself", "kind": "status", "status": 429, "retry_after": "2", "times": 2}``.

    ``path`` is a glob; ``kind`` is status, delay (``delay`` seconds, then a normal reply), latency (a normal
    reply no sooner than ``delay`` seconds after the request arrived, the emulator's own processing included, as a
    remote server's response time is measured) or drop (close the connection without a reply); ``times`` -1
    fires forever; ``skip`` lets the first N matches through. A status
    fault also sends ``headers`` (``{"RateLimit-Reason": "jira-burst-based", "X-RateLimit-Remaining": 0}``) and,
    with ``reset_in`` seconds, ``X-RateLimit-Reset`` that far after the reply, as Jira Cloud's rate limits do.
    """
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict) or not data.get("path"):
        return _bad("body must be a JSON object with at least 'path'")
    unknown = set(data) - FAULT_KEYS
    if unknown:
        return _bad(f"unknown keys: {sorted(unknown)}")
    data.setdefault("kind", "status")
    data.setdefault("method", None)
    if data["kind"] not in ("status", "delay", "latency", "drop"):
        return _bad("kind must be status, delay, latency or drop")
    if data.get("retry_after") is not None:
        data["retry_after"] = str(data["retry_after"])
    headers = {} if data.get("headers") is None else data["headers"]
    if not isinstance(headers, dict) or not all(
            isinstance(k, str) and _HEADER_NAME.fullmatch(k) and isinstance(v, (str, int, float))
            and not isinstance(v, bool) and not re.search(r"[\r\n\x00]", str(v)) for k, v in headers.items()):
        return _bad("headers must be an object of header names to single-line string or number values")
    data["headers"] = {k: str(v) for k, v in headers.items()}
    reset_in = data.get("reset_in")
    if reset_in is not None and (isinstance(reset_in, bool) or not isinstance(reset_in, (int, float))):
        return _bad("reset_in must be a number of seconds")
    fault = _state().add_fault(data)
    resp = jsonify(fault.as_dict())
    resp.status_code = 201
    return resp


@bp.delete("/faults")
def clear_faults():
    state = _state()
    with state.lock:
        state.faults.clear()
    return jsonify({"cleared": True})


def register(app, state):
    app.register_blueprint(bp)
