# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application links and their incoming OAuth 1.0a consumer on Jira Server / Data Center: read, compare, apply.

Jira's REST resources used (all admin-only; mutating calls carry ``X-Atlassian-Token: no-check`` or Jira's XSRF
check refuses them):

- ``GET /rest/applinks/3.0/applinks``: the links, with ``type`` (not ``typeId``) and ``primary``;
- ``PUT /rest/applinks/3.0/applicationlink``: create; 201 with a status entity whose ``resources-created`` (an
  array of ``{href, rel}`` in JSON, ``<link href>`` elements in XML) ends in the new id;
- ``PUT /rest/applinks/3.0/applinks/{id}`` with ``{name, rpcUrl, displayUrl, primary}``: rename or new display
  URL (``PUT .../applicationlink/{id}`` is not mapped in Jira; Jira cannot change the application URL or type);
- ``DELETE /rest/applinks/3.0/applinks/{id}``;
- ``GET|PUT /rest/applinks-oauth/1.0/applicationlink/{id}/authentication/consumer``: ``{"consumers": [...]}``
  (404 when none; the incoming one is the RSA consumer with a public key), and add or update (no DELETE);
- ``GET|PUT /rest/applinks/3.0/status/{id}/oauth``: incoming OAuth off removes the consumer and its tokens, which
  is how a consumer is replaced (a PUT with another key alone would leave the old one and its tokens alive).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlsplit

from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._io import read_regular_file
from ansible_collections.jiraops.integration.plugins.module_utils._keys import (
    KeyMaterialError,
    fingerprint,
    load_public_key,
    public_key_oneline,
)

LIST_PATH = "/rest/applinks/3.0/applinks"
CREATE_PATH = "/rest/applinks/3.0/applicationlink"
CONSUMER_PATH = "/rest/applinks-oauth/1.0/applicationlink/{id}/authentication/consumer"
OAUTH_STATUS_PATH = "/rest/applinks/3.0/status/{id}/oauth"
XSRF = {"X-Atlassian-Token": "no-check"}
JSON = {"Accept": "application/json"}


def normalize_url(value):
    """Compare URLs the way people mean them: scheme and host case-insensitive, no trailing slash."""
    if not value:
        return value
    parts = urlsplit(value.strip())
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def check_url(option, value):
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OptionError(option, f"{value!r} is not an absolute http(s) URL (any URL works for a generic link, "
                                  "for example https://ansible.example.com)")
    return value


def read_public_key(value):
    """The RSA public key from PEM, a one-line base64 body, or the path of a file holding either."""
    text = value
    if not value.lstrip().startswith("-----BEGIN") and os.path.isfile(os.path.expanduser(value)):
        try:
            text = read_regular_file(value, "public_key").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OptionError("public_key", f"cannot read {value}: {exc.__class__.__name__}") from None
    try:
        return load_public_key(text)
    except KeyMaterialError as exc:
        where = f"{value}: " if text is not value else ""
        raise OptionError("public_key", f"{where}{exc} (give PEM, the one-line base64 body Jira shows, or a path)") \
            from None


def id_from_status(resp):
    """The new link's id from the status entity Jira answers a create with (JSON or XML), or None."""
    hrefs = []

    def walk(node, inside):
        if isinstance(node, dict):
            for key, value in node.items():
                if inside and key == "href" and isinstance(value, str):
                    hrefs.append(value)
                walk(value, inside or key == "resources-created")
        elif isinstance(node, list):
            for value in node:
                walk(value, inside)

    if resp.json is not None:
        walk(resp.json, False)
    elif resp.body:
        try:
            root = ET.fromstring(resp.body)
        except ET.ParseError:
            root = None
        if root is not None:
            hrefs.extend(link.get("href") for link in root.iter("link") if link.get("href"))
    location = resp.headers.get("Location")
    if not hrefs and location:
        hrefs.append(location)
    for href in hrefs:
        tail = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
        if tail:
            return tail
    return None


def link_facts(link):
    """The link as the module returns it."""
    if link is None:
        return None
    return {
        "id": link.get("id"),
        "name": link.get("name"),
        "application_url": link.get("rpcUrl"),
        "display_url": link.get("displayUrl") or link.get("rpcUrl"),
        "type": link.get("type") or link.get("typeId"),
    }


def consumer_facts(consumer):
    """The incoming consumer as the module returns it: the public key by fingerprint, never raw."""
    if consumer is None:
        return None
    key = None
    if consumer.get("publicKey"):
        try:
            key = fingerprint(load_public_key(consumer["publicKey"]))
        except KeyMaterialError:
            key = "unreadable"
    return {"key": consumer.get("key"), "name": consumer.get("name"), "public_key_fingerprint": key}


class AppLinks:
    """Jira's application-link REST resources through the collection's client."""

    def __init__(self, client):
        self.client = client

    def list(self):
        resp = self.client.get(LIST_PATH, headers=JSON)
        if not isinstance(resp.json, list):
            raise JiraError("the reply is not a list of application links; is url the Jira base URL and the user "
                            "a Jira administrator?", status=resp.status, method="GET", path=LIST_PATH)
        return resp.json

    def find(self, links, name=None, application_url=None):
        """The link named ``name``, else the one at ``application_url``; names are unique in Jira."""
        if name:
            for link in links:
                if (link.get("name") or "").strip().lower() == name.strip().lower():
                    return link
        if application_url:
            wanted = normalize_url(application_url)
            for link in links:
                if wanted in (normalize_url(link.get("rpcUrl")), normalize_url(link.get("displayUrl"))):
                    return link
        return None

    def _entity(self, link_id, name, url, display_url, type_id):
        return {"id": link_id, "name": name, "rpcUrl": url, "displayUrl": display_url, "typeId": type_id}

    def create(self, name, url, type_id):
        # Each PUT here creates a new link: not idempotent, so a reply lost after sending is not sent again (the
        # second one would fail with "already exists" and hide that the first one worked).
        resp = self.client.put(CREATE_PATH, json=self._entity(None, name, url, url, type_id), headers=XSRF,
                               expected=(200, 201), idempotent=False)
        link_id = id_from_status(resp)
        if link_id:
            return link_id
        # No id in the reply (an older Jira): find the new link by its name instead.
        link = self.find(self.list(), name=name)
        if link is None:
            raise JiraError("Jira accepted the new application link but neither returned its id nor lists it",
                            method="PUT", path=CREATE_PATH)
        return link["id"]

    def update(self, link, name, display_url):
        # The v3 resource takes the whole link; primary is sent as it is, or Jira may clear it.
        body = {"name": name, "rpcUrl": link["rpcUrl"], "displayUrl": display_url,
                "primary": bool(link.get("primary", False))}
        self.client.put(f"{LIST_PATH}/{quote(link['id'], safe='')}", json=body, headers=dict(JSON, **XSRF),
                        expected=(200, 201, 204))

    def delete(self, link_id):
        self.client.delete(f"{LIST_PATH}/{quote(link_id, safe='')}", headers=XSRF, expected=(200, 204, 404))

    def _consumer_path(self, link_id):
        return CONSUMER_PATH.format(id=quote(link_id, safe=""))

    def consumer(self, link_id):
        """The link's incoming consumer, or None: from Jira's list, the RSA one with a public key (a generic link
        with outgoing OAuth also lists its HMAC consumer)."""
        path = self._consumer_path(link_id)
        resp = self.client.get(path, headers=JSON, expected=(200, 204, 404))
        if resp.status != 200:
            return None
        consumers = resp.json.get("consumers") if isinstance(resp.json, dict) else None
        if not isinstance(consumers, list):
            raise JiraError("the reply is not Jira's consumer list ({\"consumers\": [...]})", status=resp.status,
                            method="GET", path=path)
        for consumer in consumers:
            if (isinstance(consumer, dict) and consumer.get("key") and consumer.get("publicKey")
                    and str(consumer.get("signatureMethod") or "RSA_SHA1").upper().replace("-", "_") == "RSA_SHA1"):
                return consumer
        return None

    def put_consumer(self, link_id, key, name, public_key, current=None):
        body = {
            "key": key,
            "name": name,
            "description": (current or {}).get("description") or "",
            "sharedSecret": None,
            "publicKey": public_key_oneline(public_key),
            "outgoing": False,
            "callback": (current or {}).get("callback"),
            "twoLOAllowed": bool((current or {}).get("twoLOAllowed", False)),
            "executingTwoLOUser": (current or {}).get("executingTwoLOUser"),
            "twoLOImpersonationAllowed": bool((current or {}).get("twoLOImpersonationAllowed", False)),
        }
        self.client.put(self._consumer_path(link_id), json=body, headers=XSRF, expected=(200, 201, 204))

    def disable_incoming(self, link_id):
        """Incoming OAuth off: Jira removes the consumer and revokes every token issued to it."""
        path = OAUTH_STATUS_PATH.format(id=quote(link_id, safe=""))
        status = self.client.get(path, headers=JSON).json
        outgoing = status.get("outgoing") if isinstance(status, dict) else None
        if not isinstance(outgoing, dict):
            # Jira's status update needs both sides, and a guessed outgoing side could revoke that side's tokens.
            raise JiraError("the reply is not Jira's OAuth status of the link (no outgoing side), so incoming OAuth "
                            "was not turned off and the consumer was not replaced", method="GET", path=path)
        # The outgoing side is sent back as read: this call is about the incoming side only.
        body = {"incoming": {"enabled": False, "twoLoEnabled": False, "twoLoImpersonationEnabled": False},
                "outgoing": outgoing}
        self.client.put(path, json=body, headers=XSRF, expected=(200, 204))

    def consumer_key_owner(self, links, key, except_id=None):
        """The other link whose incoming consumer uses ``key``, or None (one GET per other link)."""
        for link in links:
            if link.get("id") == except_id:
                continue
            consumer = self.consumer(link["id"])
            if consumer and consumer.get("key") == key:
                return link
        return None


def ensure(client, params, check_mode):
    """Bring the link (and, when ``consumer_key`` is given, its incoming consumer) to the desired state.

    Everything is read and checked first, then the planned steps run (none in check mode), so that a refusal
    (a consumer key owned by another link, a missing public key) never leaves a half-made link behind.
    Returns the module result: ``changed``, ``applink``, ``consumer``, ``actions`` and ``diff`` (before/after).
    """
    api = AppLinks(client)
    name = params["name"]
    url = params.get("application_url")
    if url:
        check_url("application_url", url)
    if params["state"] == "present" and params.get("consumer_key") and params.get("public_key"):
        read_public_key(params["public_key"])  # a bad key is named before anything is sent to Jira
    links = api.list()
    current = api.find(links, name=name, application_url=url)
    current_consumer = api.consumer(current["id"]) if current else None
    before = {"applink": link_facts(current), "consumer": consumer_facts(current_consumer)}
    plan = []  # (description, step); a step gets the link id (None until the link exists) and returns it

    if params["state"] == "absent":
        if current:
            plan.append((f"delete application link {current['name']!r}", api.delete))
        return _run(plan, current["id"] if current else None, check_mode, before,
                    {"applink": None, "consumer": None})

    link = _plan_link(api, plan, current, name, url, params.get("type"))
    consumer = _plan_consumer(api, plan, links, link, current_consumer, params)
    after = {"applink": link_facts(link), "consumer": consumer_facts(consumer)}
    result = _run(plan, link.get("id"), check_mode, before, after)
    if result["applink"] is not None and not check_mode:
        result["applink"]["id"] = result.pop("link_id")
    result.pop("link_id", None)
    return result


def _plan_link(api, plan, current, name, url, type_id):
    """Plan creating or updating the link; returns the link as it will be."""
    if current is None:
        if not url:
            raise OptionError("application_url", f"no application link named {name!r} exists; application_url is "
                                                 "required to create it")
        type_id = type_id or "generic"
        plan.append((f"create application link {name!r}", lambda _id: api.create(name, url, type_id)))
        return {"id": None, "name": name, "rpcUrl": url, "displayUrl": url, "type": type_id}
    current_type = current.get("type") or current.get("typeId")
    if url and normalize_url(url) != normalize_url(current.get("rpcUrl")):
        raise OptionError("application_url", f"application link {current['name']!r} points at "
                                             f"{current.get('rpcUrl')}, and Jira cannot change the application URL "
                                             "of an existing link: remove it (state=absent) and create it again, "
                                             "which also revokes the access tokens of its consumer")
    if type_id and type_id != current_type:
        raise OptionError("type", f"application link {current['name']!r} has type {current_type!r}, and Jira "
                                  "cannot change the type of an existing link: remove it (state=absent) and "
                                  "create it again")
    display = current.get("displayUrl") or current.get("rpcUrl")
    if url and normalize_url(url) != normalize_url(display):
        display = url
    if name != current.get("name") or display != (current.get("displayUrl") or current.get("rpcUrl")):
        plan.append((f"update application link {current['name']!r}",
                     lambda _id: api.update(current, name, display)))
    return dict(current, name=name, displayUrl=display)


def _plan_consumer(api, plan, links, link, current, params):
    """Plan adding, updating or replacing the incoming consumer; returns the consumer as it will be."""
    key = params.get("consumer_key")
    if not key:
        return current
    name = params.get("consumer_name") or params["name"]
    wanted_key = read_public_key(params["public_key"]) if params.get("public_key") else None
    if current is None and wanted_key is None:
        raise OptionError("public_key", f"application link {params['name']!r} has no incoming consumer yet; "
                                        "public_key is required to create it")
    current_key = None
    if current and current.get("publicKey"):
        try:
            current_key = load_public_key(current["publicKey"])
        except KeyMaterialError:
            current_key = None
    public_key = wanted_key or current_key
    if public_key is None:
        raise OptionError("public_key", "Jira's copy of the consumer's public key is unreadable; give public_key")
    desired = {"key": key, "name": name, "public_key_fingerprint": fingerprint(public_key)}
    if desired == consumer_facts(current):
        return current
    if current is None or current.get("key") != key:
        owner = api.consumer_key_owner(links, key, except_id=link.get("id"))
        if owner is not None:
            raise OptionError("consumer_key", f"consumer key {key!r} is already used by application link "
                                              f"{owner.get('name')!r} (id {owner.get('id')}); a consumer key "
                                              "identifies one consumer in Jira: choose another key or remove that "
                                              "link's consumer")
    if current is None:
        plan.append((f"add incoming OAuth consumer {key!r}",
                     lambda link_id: api.put_consumer(link_id, key, name, public_key)))
    elif current.get("key") != key:
        def replace(link_id):
            api.disable_incoming(link_id)
            api.put_consumer(link_id, key, name, public_key, current=current)
        plan.append((f"replace incoming OAuth consumer {current.get('key')!r} by {key!r}", replace))
    else:
        plan.append((f"update incoming OAuth consumer {key!r}",
                     lambda link_id: api.put_consumer(link_id, key, name, public_key, current=current)))
    return {"key": key, "name": name, "publicKey": public_key_oneline(public_key)}


def _run(plan, link_id, check_mode, before, after):
    if not check_mode:
        for _description, step in plan:
            new_id = step(link_id)
            if new_id and link_id is None:
                link_id = new_id
    return {
        "changed": bool(plan),
        "applink": after["applink"],
        "consumer": after["consumer"],
        "actions": [description for description, _step in plan],
        "diff": {"before": before, "after": after},
        "link_id": link_id,
    }
