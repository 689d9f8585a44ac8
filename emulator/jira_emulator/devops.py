"""Jira Software Cloud's DevOps data APIs: builds, deployments (with gating), development information, feature flags.

Both route styles are served:

- the gateway routes OAuth 2.0 integrations use: ``/jira/{builds|deployments|devinfo|featureflags}/0.1/cloud/{cloudId}/...``
  (the cloud id must be a site's, ``config.cloud_id`` or one of ``config.extra_sites``, else 404; each site keeps
  its own data, as each Jira Cloud site does, so a build sent to one site is not found on another);
- the site routes: ``/rest/builds/0.1/...``, ``/rest/deployments/0.1/...``, ``/rest/devinfo/0.10/...``,
  ``/rest/featureflags/0.1/...``.

Like Jira: every entity is validated on its own (``devops_rules``) and a bad one is rejected in a 202 reply while
the others are stored; a malformed request as a whole is a 400; a body over ``config.devops_max_body_bytes`` is a
413; updates whose sequence number is not newer than the stored one are accepted but ignored; issue keys the site
does not know are listed as unknown (and an entity naming only unknown keys is rejected, devinfo excepted, as the
spec says); only OAuth 2.0 bearer tokens are accepted (basic auth and PATs get 403), and a token without the API's
scope gets 403: ``write:build:jira-software`` to submit or delete builds, ``read:build:jira-software`` to read
them, and likewise ``deployment``, ``source-code`` (devinfo) and ``feature-flag``; the newer
``write|read|delete:build-info:jira`` style names and Connect's ``WRITE``/``READ``/``DELETE`` also work.

Deployment gating: a deployment submitted with the command ``initiate_deployment_gating`` is ``awaiting`` for
``config.devops_gating_polls`` reads of its gating status, then ``config.devops_gating_outcome`` (allowed).
Before that, like Jira, its gating status is not readable at once: the first ``config.devops_gating_not_found_reads``
(1) reads answer 404 (Atlassian's Jenkins plugin retries them). Deployments without the command read as ``allowed``.

Control API: ``GET /_emulator/devops/{builds|deployments|repositories|flags}`` lists what is stored (with the
properties each item was tagged with; ``?cloud_id=`` for a site of ``config.extra_sites``, else the main site's),
``POST /_emulator/devops/gating`` sets a deployment's gating status.
``GET /_emulator/devops/concurrency`` tells how many submissions (``POST .../bulk`` of any of the four APIs, on
either route) were being handled at once: ``in_flight`` now, ``max_in_flight`` since the last reset, and
``bulk_requests`` seen; a request counts from its arrival to its reply, an injected delay included.
``DELETE /_emulator/devops/concurrency`` starts ``max_in_flight`` and ``bulk_requests`` again.
``GET /_edge/tenant_info`` answers the site's cloud id, as Jira Cloud sites do.
``config.devops_unconfirmed_replies`` (0): that many next submissions (``POST .../bulk``) are answered 202 with an
empty body and stored nothing, as a proxy or an outage may; the collection must not read that as success.
"""
from __future__ import annotations

import functools
import re
import threading
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, g, jsonify, request

from . import devops_rules as rules
from .auth import AuthFailed, current_principal
from .core import CONTROL_PREFIX, json_body
from .http import jira_json

bp = Blueprint("devops", __name__)
control = Blueprint("devops_control", __name__, url_prefix=CONTROL_PREFIX + "/devops")

# api -> (gateway prefix, site prefix)
PREFIXES = {
    "builds": ("/jira/builds/0.1/cloud/<cloud_id>", "/rest/builds/0.1"),
    "deployments": ("/jira/deployments/0.1/cloud/<cloud_id>", "/rest/deployments/0.1"),
    "devinfo": ("/jira/devinfo/0.1/cloud/<cloud_id>", "/rest/devinfo/0.10"),
    "featureflags": ("/jira/featureflags/0.1/cloud/<cloud_id>", "/rest/featureflags/0.1"),
}
SCOPE_NAMES = {"builds": ("build", "build-info"), "deployments": ("deployment", "deployment-info"),
               "devinfo": ("source-code", "dev-info"), "featureflags": ("feature-flag", "feature-flag-info")}
MODULE_NAMES = {"builds": "jiraBuildInfoProvider", "deployments": "jiraDeploymentInfoProvider",
                "devinfo": "jiraDevelopmentTool", "featureflags": "jiraFeatureFlagInfoProvider"}
CONNECT_SCOPE = {"write": "WRITE", "delete": "DELETE", "read": "READ"}
DEFAULTS = {"devops_max_body_bytes": 1024 * 1024, "devops_gating_polls": 1, "devops_gating_outcome": "allowed",
            "devops_gating_not_found_reads": 1, "devops_unconfirmed_replies": 0}
ENTITY_PATHS = {"commit": "commits", "branch": "branches", "pull_request": "pullRequests"}
BULK_PATH = re.compile(r"^/(?:jira/(?:builds|deployments|devinfo|featureflags)/0\.1/cloud/[^/]+"
                       r"|rest/(?:builds|deployments|featureflags)/0\.1|rest/devinfo/0\.10)/bulk$")


def scopes_for(api, access):
    """The scopes that grant ``access`` (write, delete, read) on ``api``."""
    software, info = SCOPE_NAMES[api]
    verb = "write" if access == "delete" else access
    return (f"{verb}:{software}:jira-software", f"{access}:{info}:jira", CONNECT_SCOPE[access])


def _state():
    return current_app.config["STATE"]


def _fresh_store():
    return {"builds": {}, "deployments": {}, "repositories": {}, "flags": {}, "gating": {}}


def _store(cloud_id=None):
    """The data of the site a request addresses (the main site's for the site routes and the control API)."""
    state = _state()
    cloud_id = cloud_id or g.get("devops_cloud_id")
    if not cloud_id or cloud_id == state.config["cloud_id"]:
        return state.features["devops"]
    with state.lock:
        return state.features["devops_sites"].setdefault(cloud_id, _fresh_store())


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def messages(status, *texts, api=None):
    """DevOps error bodies: builds/deployments/flags answer a list of {message}; devinfo wraps it."""
    items = [{"message": t} for t in texts]
    body = {"errorMessages": items} if api == "devinfo" else items
    return jira_json(body, status=status)


def devops_view(api, access):
    """Auth, scope, cloud id and body-size checks shared by every DevOps route."""

    def wrap(view):
        @functools.wraps(view)
        def inner(cloud_id=None, **kwargs):
            state = _state()
            try:
                principal = current_principal()
            except AuthFailed as exc:
                return exc.response
            if principal is None:
                return messages(401, "Missing a JWT token, or token is invalid.", api=api)
            if principal.via != "oauth2":
                return messages(403, f"Only Connect apps that define the {MODULE_NAMES[api]} module, and on-premise "
                                     "integrations using OAuth 2.0 credentials, can access this resource.", api=api)
            wanted = scopes_for(api, access)
            if not principal.has_scope(*wanted):
                return messages(403, f"The access token does not grant the scope needed to {access} {api} data "
                                     f"(one of: {', '.join(wanted)}).", api=api)
            sites = {state.config["cloud_id"]} | {s.get("id") for s in state.config.get("extra_sites") or []}
            if cloud_id is not None and cloud_id not in sites:
                return messages(404, f"No Jira site with cloud id {cloud_id} is available to this token.", api=api)
            g.devops_cloud_id = cloud_id
            if request.method in ("POST", "PUT"):
                limit = state.config.get("devops_max_body_bytes")
                size = len(request.get_data(cache=True))
                if limit and size > int(limit):
                    return messages(413, f"Request payload of {size} bytes is too large (limit {limit}); submit "
                                         "fewer entities in each request.", api=api)
            if request.method == "POST" and BULK_PATH.match(request.path) and _take_unconfirmed(state):
                return Response(status=202)
            return view(**kwargs)

        return inner

    return wrap


def _take_unconfirmed(state):
    """True for the next ``config.devops_unconfirmed_replies`` submissions: 202 with an empty body, nothing stored."""
    with state.lock:
        left = int(state.config.get("devops_unconfirmed_replies") or 0)
        if left <= 0:
            return False
        state.config["devops_unconfirmed_replies"] = left - 1
        return True


def route(api, rule, methods, access):
    """Register one view on both the gateway and the site route of ``api``."""

    def deco(view):
        guarded = devops_view(api, access)(view)
        for index, prefix in enumerate(PREFIXES[api]):
            bp.add_url_rule(prefix + rule, endpoint=f"{view.__name__}_{index}", view_func=guarded, methods=methods)
        return view

    return deco


def _request_list(data, field, api, low=1, high=100):
    """The entity list of a submit request, or a 400 response for a malformed request."""
    if not isinstance(data, dict):
        return None, messages(400, "The request body must be a JSON object.", api=api)
    items = data.get(field)
    if not isinstance(items, list):
        return None, messages(400, f"'{field}' is required and must be an array.", api=api)
    if len(items) < low or len(items) > high:
        return None, messages(400, f"'{field}' must contain between {low} and {high} items (got {len(items)}).", api=api)
    if any(not isinstance(item, dict) for item in items):
        return None, messages(400, f"Every item of '{field}' must be an object.", api=api)
    problems = rules.check_properties(data.get("properties"))
    meta = data.get("providerMetadata")
    if meta is not None and (not isinstance(meta, dict) or not isinstance(meta.get("product", ""), str)):
        problems.append("providerMetadata must be an object with a string 'product'.")
    if problems:
        return None, messages(400, *problems, api=api)
    return items, None


def _accepted():
    """Jira's empty 202 for deletions: accepted, done later."""
    return Response(status=202)


def _known(keys):
    issues = _state().issues
    known = [k for k in keys if k in issues]
    unknown = [k for k in keys if k not in issues]
    return known, unknown


def _upsert(table, key, data, seq_field, props, meta):
    """Store ``data`` unless what is stored has the same or a newer sequence number (then ignore it)."""
    current = table.get(key)
    if current is not None and current["data"].get(seq_field, 0) >= data[seq_field]:
        return False
    table[key] = {"data": data, "properties": dict(props or {}), "providerMetadata": meta, "stored": _now()}
    return True


def _matches(item, props):
    return all(item.get("properties", {}).get(k) == v for k, v in props.items())


def _query_properties(api, ignored):
    props = {k: v for k, v in request.args.items() if k != ignored}
    if not props:
        return None, messages(400, "At least one property must be given to select what to delete.", api=api)
    return props, None


# -- builds ----------------------------------------------------------------------------------------------------------
@route("builds", "/bulk", ["POST"], "write")
def submit_builds():
    data = json_body()
    builds, error = _request_list(data, "builds", "builds")
    if error:
        return error
    store = _store()
    accepted, rejected, unknown_all = [], [], []
    with _state().lock:
        for build in builds:
            key = {"pipelineId": build.get("pipelineId"), "buildNumber": build.get("buildNumber")}
            problems = rules.check_build(build)
            known, unknown = ([], [])
            if not problems:
                known, unknown = _known(build["issueKeys"])
                unknown_all.extend(k for k in unknown if k not in unknown_all)
                if not known:
                    problems = ["None of the issue keys of this build exist in Jira: " + ", ".join(unknown)]
            if problems:
                rejected.append({"key": key, "errors": [{"message": m} for m in problems]})
                continue
            _upsert(store["builds"], (build["pipelineId"], build["buildNumber"]), build, "updateSequenceNumber",
                    data.get("properties"), data.get("providerMetadata"))
            accepted.append(key)
    return jira_json({"acceptedBuilds": accepted, "rejectedBuilds": rejected, "unknownIssueKeys": unknown_all},
                     status=202)


@route("builds", "/pipelines/<path:pipeline_id>/builds/<int(signed=True):build_number>", ["GET"], "read")
def get_build(pipeline_id, build_number):
    item = _store()["builds"].get((pipeline_id, build_number))
    if item is None:
        return messages(404, "No build data found for the given key.")
    return jira_json(item["data"])


@route("builds", "/pipelines/<path:pipeline_id>/builds/<int(signed=True):build_number>", ["DELETE"], "delete")
def delete_build(pipeline_id, build_number):
    with _state().lock:
        _store()["builds"].pop((pipeline_id, build_number), None)
    return _accepted()


@route("builds", "/bulkByProperties", ["DELETE"], "delete")
def delete_builds_by_properties():
    props, error = _query_properties("builds", "_updateSequenceNumber")
    if error:
        return error
    _delete_matching(_store()["builds"], props)
    return _accepted()


def _delete_matching(table, props):
    with _state().lock:
        for key in [k for k, v in table.items() if _matches(v, props)]:
            del table[key]


# -- deployments -----------------------------------------------------------------------------------------------------
def _deployment_key(dep):
    pipeline = dep.get("pipeline") if isinstance(dep.get("pipeline"), dict) else {}
    env = dep.get("environment") if isinstance(dep.get("environment"), dict) else {}
    return {"pipelineId": pipeline.get("id"), "environmentId": env.get("id"),
            "deploymentSequenceNumber": dep.get("deploymentSequenceNumber")}


@route("deployments", "/bulk", ["POST"], "write")
def submit_deployments():
    data = json_body()
    deployments, error = _request_list(data, "deployments", "deployments")
    if error:
        return error
    store = _store()
    accepted, rejected, unknown_keys, unknown_assoc = [], [], [], []
    with _state().lock:
        for dep in deployments:
            key = _deployment_key(dep)
            problems = rules.check_deployment(dep)
            if not problems:
                issues, services = rules.deployment_keys(dep)
                known, unknown = _known([i for i in issues if not i.isdigit()])
                unknown_keys.extend(k for k in unknown if k not in unknown_keys)
                if unknown:
                    assoc = {"associationType": "issueIdOrKeys", "values": unknown}
                    unknown_assoc.append(assoc)
                # Numeric issue ids and service ids are taken as known: the emulator has no catalogue of them.
                if not known and not services and not any(i.isdigit() for i in issues):
                    problems = ["None of the issue keys of this deployment exist in Jira: " + ", ".join(unknown)]
            if problems:
                rejected.append({"key": key, "errors": [{"message": m} for m in problems]})
                continue
            triple = (key["pipelineId"], key["environmentId"], key["deploymentSequenceNumber"])
            if _upsert(store["deployments"], triple, dep, "updateSequenceNumber", data.get("properties"),
                       data.get("providerMetadata")):
                gated = any(isinstance(c, dict) and c.get("command") == "initiate_deployment_gating"
                            for c in dep.get("commands") or [])
                if gated and triple not in store["gating"]:
                    store["gating"][triple] = {"gatingStatus": "awaiting", "polls": 0, "details": [],
                                               "updatedTimestamp": _now(),
                                               "not_found": int(_state().config["devops_gating_not_found_reads"])}
            accepted.append(key)
    return jira_json({"acceptedDeployments": accepted, "rejectedDeployments": rejected,
                      "unknownIssueKeys": unknown_keys, "unknownAssociations": unknown_assoc}, status=202)


# Ids are free strings: "jj/pink-logo" arrives as jj%2Fpink-logo, which the router sees decoded, hence path:.
DEPLOYMENT_RULE = ("/pipelines/<path:pipeline_id>/environments/<path:environment_id>/deployments/"
                   "<int(signed=True):sequence>")


@route("deployments", DEPLOYMENT_RULE, ["GET"], "read")
def get_deployment(pipeline_id, environment_id, sequence):
    item = _store()["deployments"].get((pipeline_id, environment_id, sequence))
    if item is None:
        return messages(404, "No data found for the given deployment ID.")
    return jira_json(item["data"])


@route("deployments", DEPLOYMENT_RULE, ["DELETE"], "delete")
def delete_deployment(pipeline_id, environment_id, sequence):
    with _state().lock:
        _store()["deployments"].pop((pipeline_id, environment_id, sequence), None)
        _store()["gating"].pop((pipeline_id, environment_id, sequence), None)
    return _accepted()


@route("deployments", DEPLOYMENT_RULE + "/gating-status", ["GET"], "read")
def gating_status(pipeline_id, environment_id, sequence):
    state = _state()
    triple = (pipeline_id, environment_id, sequence)
    with state.lock:
        if triple not in _store()["deployments"]:
            return messages(404, "No data found for the given deployment ID.")
        gate = _store()["gating"].get(triple)
        if gate is None:
            status, details, updated = "allowed", [], _now()
        elif gate.get("not_found", 0) > 0:
            gate["not_found"] -= 1
            return messages(404, "No data found for the given deployment ID.")
        else:
            gate["polls"] += 1
            if gate["gatingStatus"] == "awaiting" and gate["polls"] > int(state.config["devops_gating_polls"]):
                gate["gatingStatus"] = state.config["devops_gating_outcome"]
                gate["updatedTimestamp"] = _now()
            status, details, updated = gate["gatingStatus"], gate["details"], gate["updatedTimestamp"]
    return jira_json({"deploymentSequenceNumber": sequence, "pipelineId": pipeline_id, "environmentId": environment_id,
                      "updatedTimestamp": updated, "gatingStatus": status, "details": details})


@route("deployments", "/bulkByProperties", ["DELETE"], "delete")
def delete_deployments_by_properties():
    props, error = _query_properties("deployments", "_updateSequenceNumber")
    if error:
        return error
    _delete_matching(_store()["deployments"], props)
    return _accepted()


# -- development information -----------------------------------------------------------------------------------------
@route("devinfo", "/bulk", ["POST"], "write")
def submit_devinfo():
    data = json_body()
    if not isinstance(data, dict) or not isinstance(data.get("repositories"), list) or not data["repositories"]:
        return messages(400, "No repositories or development information entities were provided.", api="devinfo")
    repos = data["repositories"]
    if len(repos) > 100:
        return messages(400, f"At most 100 repositories can be submitted at once (got {len(repos)}).", api="devinfo")
    if any(not isinstance(r, dict) for r in repos):
        return messages(400, "Every repository must be an object.", api="devinfo")
    ids = [r.get("id") for r in repos]
    if len(set(map(str, ids))) != len(ids):
        return messages(400, "The list of repositories must not contain duplicates.", api="devinfo")
    total = sum(len(r.get(k) or []) for r in repos for k in rules.ENTITY_CHECKS if isinstance(r.get(k) or [], list))
    if total > 1000:
        return messages(400, f"At most 1000 entities can be submitted across all repositories (got {total}).",
                        api="devinfo")
    problems = rules.check_properties(data.get("properties"))
    if data.get("operationType") not in (None, "NORMAL", "BACKFILL"):
        problems.append("operationType must be NORMAL or BACKFILL.")
    if data.get("preventTransitions") is not None and not isinstance(data["preventTransitions"], bool):
        problems.append("preventTransitions must be a boolean.")
    if problems:
        return messages(400, *problems, api="devinfo")
    store = _store()["repositories"]
    accepted, failed, unknown_all = {}, {}, []
    with _state().lock:
        for repo in repos:
            repo_id = str(repo.get("id"))
            repo_problems = rules.check_repository(repo)
            if repo_problems:
                failed[repo_id] = {"errorMessages": [{"message": m} for m in repo_problems]}
                continue
            header = {k: v for k, v in repo.items() if k not in rules.ENTITY_CHECKS}
            stored = store.get(repo_id)
            if stored is None:
                stored = store[repo_id] = {"data": header, "commits": {}, "branches": {}, "pullRequests": {},
                                           "properties": dict(data.get("properties") or {}),
                                           "providerMetadata": data.get("providerMetadata")}
            elif stored["data"]["updateSequenceId"] < header["updateSequenceId"]:
                stored["data"] = header
                stored["properties"] = dict(data.get("properties") or {})
            taken = accepted.setdefault(repo_id, {})
            for kind, check in rules.ENTITY_CHECKS.items():
                seen = set()
                for entity in repo.get(kind) or []:
                    entity_id = entity.get("id") if isinstance(entity, dict) else None
                    found = check(entity) if isinstance(entity, dict) else ["must be an object"]
                    if entity_id in seen:
                        found = found + [f"Duplicate {kind} id {entity_id!r} in repository {repo_id}"]
                    seen.add(entity_id)
                    if found:
                        failed.setdefault(repo_id, {}).setdefault(kind, []).append(
                            {"id": str(entity_id), "errorMessages": [{"message": m} for m in found]})
                        continue
                    _known_keys, unknown = _known(entity["issueKeys"])
                    unknown_all.extend(k for k in unknown if k not in unknown_all)
                    if kind == "commits" and len(entity.get("message", "")) > 1024:
                        entity = dict(entity, message=entity["message"][:1024])
                    current = stored[kind].get(entity_id)
                    if current is None or current["updateSequenceId"] < entity["updateSequenceId"]:
                        stored[kind][entity_id] = entity
                    taken.setdefault(kind, []).append(entity_id)
    body = {"acceptedDevinfoEntities": accepted, "unknownIssueKeys": unknown_all}
    if failed:
        body["failedDevinfoEntities"] = failed
    return jira_json(body, status=202)


def repository_json(stored):
    body = dict(stored["data"])
    for kind in rules.ENTITY_CHECKS:
        # "the repository and the most recent 400 development information entities"
        body[kind] = list(stored[kind].values())[-400:]
    return body


@route("devinfo", "/repository/<repository_id>", ["GET"], "read")
def get_repository(repository_id):
    stored = _store()["repositories"].get(repository_id)
    if stored is None:
        return messages(404, "No data found for the given repository ID.", api="devinfo")
    return jira_json(repository_json(stored))


@route("devinfo", "/repository/<repository_id>", ["DELETE"], "delete")
def delete_repository(repository_id):
    with _state().lock:
        _store()["repositories"].pop(repository_id, None)
    return _accepted()


@route("devinfo", "/repository/<repository_id>/<entity_type>/<entity_id>", ["DELETE"], "delete")
def delete_devinfo_entity(repository_id, entity_type, entity_id):
    if entity_type not in ENTITY_PATHS:
        return messages(400, f"Wrong entity type specified: {entity_type}", api="devinfo")
    with _state().lock:
        stored = _store()["repositories"].get(repository_id)
        if stored is not None:
            stored[ENTITY_PATHS[entity_type]].pop(entity_id, None)
    return _accepted()


@route("devinfo", "/bulkByProperties", ["DELETE"], "delete")
def delete_devinfo_by_properties():
    props, error = _query_properties("devinfo", "_updateSequenceId")
    if error:
        return error
    _delete_matching(_store()["repositories"], props)
    return _accepted()


@route("devinfo", "/existsByProperties", ["GET"], "read")
def devinfo_exists_by_properties():
    props, error = _query_properties("devinfo", "_updateSequenceId")
    if error:
        return error
    found = any(_matches(v, props) for v in _store()["repositories"].values())
    return jira_json({"hasDataMatchingProperties": found})


# -- feature flags ---------------------------------------------------------------------------------------------------
@route("featureflags", "/bulk", ["POST"], "write")
def submit_flags():
    data = json_body()
    flags, error = _request_list(data, "flags", "featureflags")
    if error:
        return error
    store = _store()["flags"]
    accepted, failed, unknown_all = [], {}, []
    with _state().lock:
        for flag in flags:
            problems = rules.check_flag(flag)
            if not problems:
                known, unknown = _known(flag["issueKeys"])
                unknown_all.extend(k for k in unknown if k not in unknown_all)
                if not known:
                    problems = ["None of the issue keys of this feature flag exist in Jira: " + ", ".join(unknown)]
            if problems:
                failed[str(flag.get("id"))] = [{"message": m} for m in problems]
                continue
            _upsert(store, flag["id"], flag, "updateSequenceId", data.get("properties"), data.get("providerMetadata"))
            accepted.append(flag["id"])
    body = {"acceptedFeatureFlags": accepted, "failedFeatureFlags": failed, "unknownIssueKeys": unknown_all}
    return jira_json(body, status=202)


@route("featureflags", "/flag/<path:flag_id>", ["GET"], "read")
def get_flag(flag_id):
    item = _store()["flags"].get(flag_id)
    if item is None:
        return messages(404, "No data found for the given Feature Flag ID.")
    return jira_json(item["data"])


@route("featureflags", "/flag/<path:flag_id>", ["DELETE"], "delete")
def delete_flag(flag_id):
    with _state().lock:
        _store()["flags"].pop(flag_id, None)
    return _accepted()


@route("featureflags", "/bulkByProperties", ["DELETE"], "delete")
def delete_flags_by_properties():
    props, error = _query_properties("featureflags", "_updateSequenceId")
    if error:
        return error
    _delete_matching(_store()["flags"], props)
    return _accepted()


# -- the site's tenant info ------------------------------------------------------------------------------------------
@bp.get("/_edge/tenant_info")
def tenant_info():
    return jira_json({"cloudId": _state().config["cloud_id"]})


# -- control API -----------------------------------------------------------------------------------------------------
def _listing(table, fmt=None):
    items = []
    for key, item in table.items():
        data = fmt(item) if fmt else item["data"]
        items.append({"key": list(key) if isinstance(key, tuple) else key, "data": data,
                      "properties": item.get("properties") or {}, "providerMetadata": item.get("providerMetadata")})
    return items


@control.get("/<any('builds','deployments','repositories','flags'):collection>")
def list_collection(collection):
    table = _store(request.args.get("cloud_id"))[collection]
    with _state().lock:
        items = _listing(table, repository_json if collection == "repositories" else None)
    return jsonify({"count": len(items), collection: items})


@control.post("/gating")
def set_gating():
    data = request.get_json(force=True, silent=True) or {}
    try:
        triple = (data["pipelineId"], data["environmentId"], int(data["deploymentSequenceNumber"]))
        status = data["gatingStatus"]
    except (KeyError, TypeError, ValueError):
        resp = jsonify({"error": "give pipelineId, environmentId, deploymentSequenceNumber and gatingStatus"})
        resp.status_code = 400
        return resp
    with _state().lock:
        _store()["gating"][triple] = {"gatingStatus": status, "polls": 0, "details": data.get("details") or [],
                                      "updatedTimestamp": _now()}
    return jsonify({"set": True})


@control.get("/concurrency")
def get_concurrency():
    return jsonify(_state().features["devops_load"].as_dict())


@control.delete("/concurrency")
def clear_concurrency():
    load = _state().features["devops_load"]
    load.clear()
    return jsonify(load.as_dict())


class BulkLoad:
    """How many bulk submissions are being handled at once, and the most there were."""

    def __init__(self):
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.bulk_requests = 0

    def enter(self):
        with self._lock:
            self.in_flight += 1
            self.bulk_requests += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self):
        with self._lock:
            self.in_flight -= 1

    def clear(self):
        """Start counting again; requests still being handled stay counted as in flight."""
        with self._lock:
            self.max_in_flight = self.in_flight
            self.bulk_requests = 0

    def as_dict(self):
        with self._lock:
            return {"in_flight": self.in_flight, "max_in_flight": self.max_in_flight,
                    "bulk_requests": self.bulk_requests}


class BulkLoadMiddleware:
    """Counts ``POST .../bulk`` from arrival to reply, around the whole app so that fault delays count too."""

    def __init__(self, wsgi_app, state):
        self.wsgi_app = wsgi_app
        self.state = state

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or not BULK_PATH.match(environ.get("PATH_INFO", "")):
            return self.wsgi_app(environ, start_response)
        load = self.state.features["devops_load"]
        load.enter()
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            load.leave()


def _reset(state):
    state.features["devops"] = _fresh_store()
    state.features["devops_sites"] = {}
    # One counter for the server's life: a request in flight across a reset leaves the count it entered.
    if "devops_load" in state.features:
        state.features["devops_load"].clear()
    else:
        state.features["devops_load"] = BulkLoad()
    for key, value in DEFAULTS.items():
        state.config.setdefault(key, value)


def register(app, state):
    state.on_reset(_reset)
    app.register_blueprint(bp)
    app.register_blueprint(control)
    app.wsgi_app = BulkLoadMiddleware(app.wsgi_app, state)
