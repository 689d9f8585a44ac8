"""Application links and their incoming OAuth 1.0a consumers, as Jira Server / Data Center serves them.

``/rest/applinks/3.0/applinks`` lists (with ``type``, not ``typeId``), updates (``PUT .../applinks/{id}`` with
``{name, rpcUrl, displayUrl, primary}``; a missing ``primary`` clears it) and deletes links;
``/rest/applinks/3.0/applicationlink`` creates (201 + a status entity whose ``resources-created`` is an array of
``{href, rel}``, XML unless the request accepts JSON; a second link at the same URL is a 400) and
``POST .../applicationlink/{id}`` updates (``PUT`` there is not mapped: 405). The RPC URL and the type cannot
change. ``/rest/applinks-oauth/1.0/applicationlink/{id}/authentication/consumer`` answers GET with
``{"consumers": [...]}`` (404 when the link has none; a link with outgoing OAuth also lists that HMAC consumer,
without a public key) and PUT; there is no DELETE. A PUT with another key re-points the link and leaves the old
consumer and its tokens in the consumer store, as Jira does; ``PUT /rest/applinks/3.0/status/{id}/oauth`` with
incoming disabled removes the consumer and its tokens. Everything is admin-only, and mutating calls need
``X-Atlassian-Token: no-check`` (Jira's XSRF check). The OAuth 1.0a provider (``oauth1.py``) reads the consumers
from the store here.
"""
from __future__ import annotations

import base64
import binascii
import functools
import uuid
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Response, current_app, request

from .auth import require_user
from .core import CONTROL_PREFIX, json_body
from .http import jira_error, jira_json

bp = Blueprint("applinks", __name__)

APPLINKS = "/rest/applinks/3.0"
CONSUMER = "/rest/applinks-oauth/1.0/applicationlink/<link_id>/authentication/consumer"
# Application types a stock Jira has installed.
TYPES = ("generic", "jira", "confluence", "bamboo", "fecru", "stash", "crowd", "refapp")
MUTATING = ("POST", "PUT", "PATCH", "DELETE")


def _state():
    return current_app.config["STATE"]


def _data(state=None):
    return (state or _state()).features["applinks"]


def _reset(state):
    # consumers: Jira's consumer store by key (a consumer outlives its link's pointer to it); incoming: link id ->
    # key of its incoming consumer; outgoing: link id -> the HMAC consumer Jira holds for outgoing OAuth.
    state.features["applinks"] = {"links": {}, "consumers": {}, "incoming": {}, "outgoing": {}}


def _base():
    return request.host_url.rstrip("/")


def xsrf_ok():
    """Jira's XSRF check: mutating REST calls must carry ``X-Atlassian-Token: no-check``."""
    if request.method not in MUTATING:
        return True
    return request.headers.get("X-Atlassian-Token", "").strip().lower() in ("no-check", "nocheck")


def xsrf_failed():
    return Response("XSRF check failed", status=403, mimetype="text/plain")


def guarded(view):
    """Admin-only and XSRF-checked, in the order Jira applies them (who you are first, then the token)."""

    @functools.wraps(view)
    def inner(principal, *args, **kwargs):
        if not xsrf_ok():
            return xsrf_failed()
        return view(principal, *args, **kwargs)

    return require_user(admin=True)(inner)


def wants_json():
    return "application/json" in request.headers.get("Accept", "")


# -- public keys --------------------------------------------------------------------------------------------
def parse_public_key(value):
    """An RSA public key from a one-line base64 DER body (what Jira stores) or PEM; None when invalid."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            key = serialization.load_der_public_key(base64.b64decode("".join(text.split()), validate=True))
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def oneline(key):
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def pem(key):
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def consumer_by_key(state, key):
    """(link id or None, consumer) of the stored consumer with ``key``, or (None, None)."""
    data = _data(state)
    consumer = data["consumers"].get(key)
    if consumer is None:
        return None, None
    link_id = next((lid for lid, k in data["incoming"].items() if k == key), None)
    return link_id, consumer


def incoming_consumer(state, link_id):
    data = _data(state)
    key = data["incoming"].get(link_id)
    return data["consumers"].get(key) if key else None


def remove_incoming(state, link_id):
    """Incoming OAuth off: the consumer leaves the store and every token issued to it dies."""
    data = _data(state)
    key = data["incoming"].pop(link_id, None)
    if key and data["consumers"].pop(key, None) is not None:
        state.features["oauth1"]["drop_consumer"](state, key)


# -- entities -----------------------------------------------------------------------------------------------
def link_json(link):
    return {
        "id": link["id"],
        "name": link["name"],
        "displayUrl": link["displayUrl"],
        "rpcUrl": link["rpcUrl"],
        "type": link["typeId"],
        "primary": link["primary"],
        "system": False,
    }


def consumer_json(consumer):
    """A ConsumerEntity as Jira lists it: RSA_SHA1 with a public key (incoming) or HMAC_SHA1 without (outgoing)."""
    return {
        "key": consumer["key"],
        "name": consumer["name"],
        "description": consumer.get("description") or "",
        "signatureMethod": consumer.get("signatureMethod", "RSA_SHA1"),
        "publicKey": consumer.get("publicKey"),
        "callback": consumer.get("callback"),
        "twoLOAllowed": consumer.get("twoLOAllowed", False),
        "executingTwoLOUser": consumer.get("executingTwoLOUser"),
        "twoLOImpersonationAllowed": consumer.get("twoLOImpersonationAllowed", False),
    }


def _xml_links(links):
    rows = "".join(
        "<applicationLink>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in link_json(l).items())
        + "</applicationLink>" for l in links)
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><applicationLinks>{rows}</applicationLinks>'


def status_entity(code, kind, href, rel="applicationlink"):
    """Atlassian REST's Status entity: JSON when the client accepts it, XML otherwise (as Jersey picks)."""
    if wants_json():
        return jira_json({"status-code": code, kind: [{"href": href, "rel": rel}]}, status=code,
                         headers={"Location": href})
    body = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><status><status-code>{code}</status-code>'
            f'<{kind}><link href="{escape(href)}" rel="{rel}"/></{kind}></status>')
    resp = Response(body, status=code, mimetype="application/xml")
    resp.headers["Location"] = href
    return resp


def _check_url(value):
    parts = urlsplit(value or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _same_url(a, b):
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


def _validate_link(data, existing_id=None):
    """Jira's checks on an application link body; returns (details, error response)."""
    if not isinstance(data, dict):
        return None, jira_error(400, "The request body must be an application link.")
    errors = {}
    name = data.get("name")
    rpc = data.get("rpcUrl")
    display = data.get("displayUrl") or rpc
    type_id = data.get("typeId")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "Name is required."
    if not _check_url(rpc):
        errors["rpcUrl"] = "The application URL must be an absolute http(s) URL."
    if display and not _check_url(display):
        errors["displayUrl"] = "The display URL must be an absolute http(s) URL."
    if errors:
        return None, jira_error(400, errors=errors)
    if type_id not in TYPES:
        return None, jira_error(400, f"Application type '{type_id}' is not installed.")
    for link in _data()["links"].values():
        if link["id"] == existing_id:
            continue
        if link["name"].lower() == name.strip().lower():
            return None, jira_error(400, f"An Application Link with name '{name}' already exists.")
        if existing_id is None and _same_url(link["rpcUrl"], rpc):
            return None, jira_error(400, f"An Application Link to this URL '{rpc}' has already been configured.")
    return {"name": name.strip(), "rpcUrl": rpc, "displayUrl": display, "typeId": type_id}, None


# -- application links --------------------------------------------------------------------------------------
@bp.get(f"{APPLINKS}/applinks")
@guarded
def list_links(principal):
    links = list(_data()["links"].values())
    if not wants_json():
        return Response(_xml_links(links), mimetype="application/xml")
    return jira_json([link_json(l) for l in links])


@bp.get(f"{APPLINKS}/applinks/<link_id>")
@guarded
def get_link(principal, link_id):
    link = _data()["links"].get(link_id)
    if link is None:
        return jira_error(404, f"No application link with id {link_id} exists.")
    return jira_json(link_json(link))


@bp.delete(f"{APPLINKS}/applinks/<link_id>")
@guarded
def delete_link(principal, link_id):
    state = _state()
    with state.lock:
        link = _data(state)["links"].pop(link_id, None)
        if link is None:
            return jira_error(404, f"No application link with id {link_id} exists.")
        remove_incoming(state, link_id)
        _data(state)["outgoing"].pop(link_id, None)
    return Response(status=204)


@bp.put(f"{APPLINKS}/applicationlink")
@guarded
def create_link(principal):
    state = _state()
    data = json_body()
    with state.lock:
        details, error = _validate_link(data)
        if error:
            return error
        link_id = str(uuid.uuid4())
        links = _data(state)["links"]
        primary = not any(l["typeId"] == details["typeId"] for l in links.values())
        links[link_id] = dict(details, id=link_id, primary=primary)
    return status_entity(201, "resources-created", f"{_base()}{APPLINKS}/applicationlink/{link_id}")


def _update(link_id, data, primary=None):
    """Apply an update; ``primary`` (v3 resource only) is what the body says, a missing one clearing the flag."""
    state = _state()
    with state.lock:
        link = _data(state)["links"].get(link_id)
        if link is None:
            return None, jira_error(404, f"No application link with id {link_id} exists.")
        if isinstance(data, dict) and "typeId" not in data:
            data = dict(data, typeId=link["typeId"])
        details, error = _validate_link(data, existing_id=link_id)
        if error:
            return None, error
        if not _same_url(details["rpcUrl"], link["rpcUrl"]):
            return None, jira_error(400, "The application URL of an existing application link cannot be changed.")
        if details["typeId"] != link["typeId"]:
            return None, jira_error(400, "The type of an existing application link cannot be changed.")
        link.update(name=details["name"], displayUrl=details["displayUrl"])
        if primary is not None:
            link["primary"] = primary
        return link, None


@bp.post(f"{APPLINKS}/applicationlink/<link_id>")
@guarded
def update_link(principal, link_id):
    """The ``/applicationlink`` resource updates with POST (a PUT on this path is not mapped in Jira: 405)."""
    _link, error = _update(link_id, json_body())
    return error or status_entity(200, "resources-updated", f"{_base()}{APPLINKS}/applicationlink/{link_id}")


@bp.put(f"{APPLINKS}/applinks/<link_id>")
@guarded
def update_applink(principal, link_id):
    """The v3 resource: ``{name, rpcUrl, displayUrl, primary}``; Jira clears ``primary`` when it is left out."""
    body = json_body()
    if not isinstance(body, dict):
        return jira_error(400, "The request body must be an application link.")
    if "primary" in body and not isinstance(body["primary"], bool):
        return jira_error(400, errors={"primary": "primary must be true or false."})
    link, error = _update(link_id, body, primary=bool(body.get("primary", False)))
    return error or jira_json(link_json(link))


# -- incoming OAuth 1.0a consumer ---------------------------------------------------------------------------
@bp.get(CONSUMER)
@guarded
def get_consumer(principal, link_id):
    state = _state()
    data = _data(state)
    if link_id not in data["links"]:
        return jira_error(404, f"No application link with id {link_id} exists.")
    # The outgoing (HMAC) consumer first: clients must pick the incoming one by its method and key, not position.
    consumers = [c for c in (data["outgoing"].get(link_id), incoming_consumer(state, link_id)) if c]
    if not consumers:
        return jira_error(404, "No OAuth consumer is configured for this application link.")
    return jira_json({"consumers": [consumer_json(c) for c in consumers]})


@bp.put(CONSUMER)
@guarded
def put_consumer(principal, link_id):
    state = _state()
    body = json_body()
    if not isinstance(body, dict):
        return jira_error(400, "The request body must be a consumer.")
    errors = {}
    key = body.get("key")
    name = body.get("name")
    if not isinstance(key, str) or not key.strip():
        errors["key"] = "Consumer key is required."
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "Consumer name is required."
    if body.get("outgoing"):
        errors["outgoing"] = "The emulator only serves incoming consumers."
    if body.get("sharedSecret"):
        errors["sharedSecret"] = "Jira accepts RSA-SHA1 consumers only; send a publicKey and no shared secret."
    public_key = parse_public_key(body.get("publicKey"))
    if public_key is None and "publicKey" not in errors:
        errors["publicKey"] = "Public key is not a valid RSA public key."
    if errors:
        return jira_error(400, errors=errors)
    with state.lock:
        data = _data(state)
        if link_id not in data["links"]:
            return jira_error(404, f"No application link with id {link_id} exists.")
        other_id, _other = consumer_by_key(state, key)
        if other_id is not None and other_id != link_id:
            other = data["links"][other_id]["name"]
            return jira_error(409, f"A consumer with key '{key}' is already configured for application link "
                                   f"'{other}'.")
        # Another key re-points the link only: the old consumer, and every token issued to it, stay in the store
        # (Jira's behaviour; turning incoming OAuth off first is what removes them).
        data["consumers"][key] = {
            "key": key,
            "name": name,
            "description": body.get("description") or "",
            "signatureMethod": "RSA_SHA1",
            "publicKey": oneline(public_key),
            "callback": body.get("callback"),
            "twoLOAllowed": bool(body.get("twoLOAllowed")),
            "executingTwoLOUser": body.get("executingTwoLOUser"),
            "twoLOImpersonationAllowed": bool(body.get("twoLOImpersonationAllowed")),
        }
        data["incoming"][link_id] = key
    return Response(status=201)


# -- OAuth status of a link ---------------------------------------------------------------------------------
def _oauth_config(enabled, consumer=None):
    return {"enabled": enabled, "twoLoEnabled": bool(consumer and consumer.get("twoLOAllowed")),
            "twoLoImpersonationEnabled": bool(consumer and consumer.get("twoLOImpersonationAllowed"))}


@bp.get(f"{APPLINKS}/status/<link_id>/oauth")
@guarded
def get_oauth_status(principal, link_id):
    state = _state()
    data = _data(state)
    if link_id not in data["links"]:
        return jira_error(404, f"No application link with id {link_id} exists.")
    incoming = incoming_consumer(state, link_id)
    return jira_json({"incoming": _oauth_config(incoming is not None, incoming),
                      "outgoing": _oauth_config(link_id in data["outgoing"])})


@bp.put(f"{APPLINKS}/status/<link_id>/oauth")
@guarded
def put_oauth_status(principal, link_id):
    """Jira applies both sides (each is required): incoming off removes the link's consumer and its tokens,
    outgoing off the outgoing side's tokens (here: its consumer)."""
    state = _state()
    body = json_body()
    sides = {side: body.get(side) for side in ("incoming", "outgoing")} if isinstance(body, dict) else {}
    if not sides or not all(isinstance(v, dict) and isinstance(v.get("enabled"), bool) for v in sides.values()):
        return jira_error(400, "The body must be an OAuth status with both sides: {\"incoming\": {\"enabled\": "
                               "...}, \"outgoing\": {\"enabled\": ...}}.")
    with state.lock:
        data = _data(state)
        if link_id not in data["links"]:
            return jira_error(404, f"No application link with id {link_id} exists.")
        if sides["incoming"]["enabled"] and incoming_consumer(state, link_id) is None:
            # Jira would fetch the consumer from the linked application, which a generic link cannot serve.
            return jira_error(400, "Incoming OAuth needs a consumer: configure one first.")
        if not sides["incoming"]["enabled"]:
            remove_incoming(state, link_id)
        if not sides["outgoing"]["enabled"]:
            data["outgoing"].pop(link_id, None)
    return Response(status=204)


# -- control API --------------------------------------------------------------------------------------------
@bp.get(f"{CONTROL_PREFIX}/applinks")
def control_links():
    """Server-side truth for tests: every link with its incoming consumer, and the whole consumer store."""
    state = _state()
    with state.lock:
        data = _data(state)
        rows = []
        for link in data["links"].values():
            row = link_json(link)
            consumer = incoming_consumer(state, link["id"])
            row["consumer"] = consumer_json(consumer) if consumer else None
            rows.append(row)
        store = [dict(consumer_json(c), link_id=consumer_by_key(state, k)[0]) for k, c in data["consumers"].items()]
    return jira_json({"count": len(rows), "applinks": rows, "consumers": store})


@bp.post(f"{CONTROL_PREFIX}/applinks/<link_id>/outgoing-consumer")
def control_outgoing(link_id):
    """Seed the HMAC consumer Jira keeps for a link's outgoing OAuth (it has a shared secret, no public key)."""
    state = _state()
    body = json_body() or {}
    with state.lock:
        data = _data(state)
        if link_id not in data["links"]:
            return jira_error(404, f"No application link with id {link_id} exists.")
        data["outgoing"][link_id] = {"key": body.get("key") or f"jira:{link_id}", "name": body.get("name") or "Jira",
                                     "signatureMethod": "HMAC_SHA1", "publicKey": None}
    return jira_json(consumer_json(data["outgoing"][link_id]), status=201)


def register(app, state):
    state.on_reset(_reset)
    app.register_blueprint(bp)
