"""Jira Data Center personal access tokens as Jira lists them: ``GET /rest/pat/latest/tokens`` (the caller's own
tokens with ``id``, ``name``, ``createdAt`` and, when one was set, ``expiringAt``; never the token itself).

Control: ``POST /_emulator/pats`` ``{"user", "name", "token", "expires_in_days", "created_days_ago"}`` adds a PAT
(it then authenticates like the seeded one).
"""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from .auth import require_user
from .core import json_body

bp = Blueprint("pats", __name__)
DAY = 86400


def _iso(epoch):
    """Jira's timestamp format, e.g. 2026-05-03T10:32:15.123+0000."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}+0000"


def _meta(state):
    return state.features.setdefault("pat_meta", {})


def _add(state, token, user, name, created, expires):
    meta = _meta(state)
    state.pats[token] = user
    meta[token] = {"id": len(meta) + 1, "name": name, "createdAt": created, "expiringAt": expires}


def _reset(state):
    state.features["pat_meta"] = {}
    now = time.time()
    for token, user in state.pats.items():
        _add(state, token, user, f"{user} seed token", now - 30 * DAY, now + 335 * DAY)


@bp.get("/rest/pat/latest/tokens")
@require_user()
def list_tokens(principal):
    state = current_app.config["STATE"]
    with state.lock:
        mine = [m for token, m in _meta(state).items() if state.pats.get(token) == principal.user["name"]]
    out = []
    for item in sorted(mine, key=lambda m: m["id"]):
        entry = {"id": item["id"], "name": item["name"], "createdAt": _iso(item["createdAt"])}
        if item["expiringAt"] is not None:
            entry["expiringAt"] = _iso(item["expiringAt"])
        out.append(entry)
    return jsonify(out)


@bp.post("/_emulator/pats")
def add_token():
    state = current_app.config["STATE"]
    data = json_body()
    if not isinstance(data, dict) or not data.get("token"):
        return jsonify({"error": "give at least token"}), 400
    now = time.time()
    expires = data.get("expires_in_days")
    with state.lock:
        _add(state, data["token"], data.get("user", "alice"), data.get("name", "token"),
             now - float(data.get("created_days_ago", 0)) * DAY,
             None if expires is None else now + float(expires) * DAY)
    return jsonify({"added": data["token"][:4] + "...", "method": request.method})


def register(app, state):
    state.on_reset(_reset)
    app.register_blueprint(bp)
