# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jira Data Center incoming OAuth 2.0 clients (8.22+) as desired state: find by name, diff, write what differs."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError

API = "/rest/oauth2/latest/client"
SCOPES = ("READ", "WRITE", "ADMIN", "SYSTEM_ADMIN")


def facts(entity):
    """The client as the module reports it (never the secret)."""
    return {
        "id": entity.get("id"),
        "client_id": entity.get("clientId"),
        "name": entity.get("name"),
        "scope": entity.get("scope"),
        "redirect_uris": list(entity.get("redirects") or []),
        "user_key": entity.get("userKey"),
    }


def comparable(state):
    """The part of the facts that desired state talks about, normalised for comparison (and diff)."""
    if state is None:
        return {}
    return {"name": state["name"], "scope": state["scope"], "redirect_uris": sorted(state["redirect_uris"])}


def check_redirect_uris(uris):
    for index, uri in enumerate(uris or []):
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise OptionError("redirect_uris", f"item {index} ({uri!r}) must be an absolute http(s) URL without a "
                                               "fragment")


class ClientManager:
    def __init__(self, client):
        self.client = client

    def find(self, name):
        resp = self.client.request("GET", API)
        if not isinstance(resp.json, list):
            # An HTML login page or a proxy's error page with HTTP 200 would otherwise read as "no clients yet".
            got = "an empty reply" if not resp.body else (
                f"JSON {type(resp.json).__name__}" if resp.json is not None else
                f"{resp.headers.get('Content-Type') or 'a reply'} that is not JSON")
            raise JiraError(f"answered with {got} where the list of OAuth 2.0 clients was expected; check that url "
                            "is the Jira Data Center site (8.22 or later) and not a proxy or login page",
                            method="GET", path=resp.path, status=resp.status)
        # Jira lists every client with its clientSecret: mask them all, in case a later reply or error echoes one.
        for entry in resp.json:
            if isinstance(entry, dict) and isinstance(entry.get("clientSecret"), str):
                self.client.redactor.add(entry["clientSecret"])
        found = [c for c in resp.json if isinstance(c, dict) and c.get("name") == name]
        if len(found) > 1:
            ids = ", ".join(str(c.get("clientId")) for c in found)
            raise OptionError("name", f"{len(found)} OAuth 2.0 clients are named {name!r} (client ids {ids}); "
                                      "rename or delete the extra ones first")
        return found[0] if found else None

    def create(self, name, scope, redirect_uris):
        resp = self.client.request("POST", API, json={"name": name, "scope": scope, "redirects": redirect_uris},
                                   expected=(200, 201))
        return resp.json

    def update(self, entity, name, scope, redirect_uris):
        """Jira's ``PUT client/{id}`` takes the ``id`` and answers 204 without a body, so the result is read back."""
        path = f"{API}/{quote(str(entity['id']), safe='')}"
        self.client.request("PUT", path, json={"name": name, "scope": scope, "redirects": redirect_uris},
                            expected=(200, 204))
        return self.client.request("GET", path).json

    def delete(self, entity):
        self.client.request("DELETE", f"{API}/{quote(str(entity['id']), safe='')}", expected=(200, 204))

    def reset_secret(self, entity):
        """Unlike update and delete, Jira's reset resource is addressed by the ``clientId``."""
        resp = self.client.request("PUT", f"{API}/reset/{quote(entity['clientId'], safe='')}")
        return resp.json
