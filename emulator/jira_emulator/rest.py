"""Jira platform REST: /rest/api/2|3 myself, serverInfo, issues and comments."""
from __future__ import annotations

import time
import zlib

from flask import Blueprint, current_app, request

from .auth import require_user
from .core import json_body
from .http import jira_error, jira_json

bp = Blueprint("rest", __name__)

NO_ISSUE = "Issue does not exist or you do not have permission to see it."
ANON_ISSUE = ("You do not have the permission to see the specified issue.", "Login Required")


def _state():
    return current_app.config["STATE"]


def _base():
    return request.host_url.rstrip("/")


def user_json(user):
    return {
        "self": f"{_base()}/rest/api/2/user?username={user['name']}",
        "key": user["name"],
        "name": user["name"],
        "accountId": user["accountId"],
        "emailAddress": user["emailAddress"],
        "displayName": user["displayName"],
        "active": True,
        "timeZone": "UTC",
    }


@bp.get("/rest/api/<any('2','3','latest'):version>/myself")
@require_user(scopes=("read:jira-user", "read:me", "READ"))
def myself(principal, version):
    body = user_json(principal.user)
    body["authenticatedVia"] = principal.via  # emulator extra: lets tests see which auth was used
    return jira_json(body)


@bp.get("/rest/api/<any('2','3','latest'):version>/serverInfo")
def server_info(version):
    return jira_json({"baseUrl": _base(), "version": "9.12.0", "versionNumbers": [9, 12, 0],
                      "deploymentType": "Server", "serverTitle": "Jira Emulator"})


def _issue_json(issue, version):
    fields = {
        "summary": issue["summary"],
        "status": {"name": issue["status"]},
        "project": {"key": issue["key"].split("-")[0]},
        "comment": {"comments": issue.get("comments", []), "total": len(issue.get("comments", []))},
    }
    if version == "3":
        fields["description"] = {"type": "doc", "version": 1, "content": []}
    wanted = request.args.get("fields")
    if wanted and wanted not in ("*all", "*navigable"):
        names = {f.strip() for f in wanted.split(",")}
        fields = {k: v for k, v in fields.items() if k in names}
    return {"id": str(10000 + zlib.crc32(issue["key"].encode()) % 90000), "key": issue["key"],
            "self": f"{_base()}/rest/api/{version}/issue/{issue['key']}", "fields": fields}


@bp.get("/rest/api/<any('2','3','latest'):version>/issue/<key>")
@require_user(scopes=("read:jira-work", "READ"), anonymous_message=ANON_ISSUE)
def get_issue(principal, version, key):
    issue = _state().issues.get(key.upper())
    if issue is None:
        return jira_error(404, NO_ISSUE)
    return jira_json(_issue_json(issue, version))


@bp.post("/rest/api/<any('2','3','latest'):version>/issue/<key>/comment")
@require_user(scopes=("write:jira-work", "WRITE"), anonymous_message=ANON_ISSUE)
def add_comment(principal, version, key):
    state = _state()
    data = json_body()
    if not isinstance(data, dict) or not data.get("body"):
        return jira_error(400, errors={"comment": "Comment body can not be empty!"})
    with state.lock:
        issue = state.issues.get(key.upper())
        if issue is None:
            return jira_error(404, NO_ISSUE)
        comments = issue.setdefault("comments", [])
        comment = {"id": str(10000 + len(comments)), "body": data["body"], "author": user_json(principal.user),
                   "created": time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())}
        comments.append(comment)
    return jira_json(comment, status=201)


def register(app, state):
    app.register_blueprint(bp)
