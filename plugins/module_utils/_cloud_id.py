# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jira Cloud site ids: from a site's ``/_edge/tenant_info`` or from a 3LO token's accessible resources."""
from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError


def normalize_site(url):
    """``https://Example.atlassian.net/`` and ``https://example.atlassian.net`` name the same site."""
    parts = urlsplit((url or "").strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def tenant_info(client, site_url):
    """The cloud id of the site at ``site_url`` (no credentials needed)."""
    if not site_url:
        raise OptionError("url", "the Jira Cloud site URL is required to read its tenant info (or set JIRA_URL)")
    try:
        resp = client.request("GET", site_url.rstrip("/") + "/_edge/tenant_info", authenticate=False)
    except JiraError as exc:
        if exc.status == 404:
            raise OptionError("url", f"{site_url} has no /_edge/tenant_info: it is not a Jira Cloud site") from None
        raise
    cloud_id = resp.json.get("cloudId") if isinstance(resp.json, dict) else None
    if not cloud_id:
        raise JiraError("the tenant info has no cloudId", method="GET", path=resp.path, status=resp.status)
    return cloud_id


def accessible_resources(client):
    """The sites an OAuth 2.0 (3LO) token can reach: ``[{"id", "url", "name", "scopes", ...}]``."""
    resp = client.request("GET", "/oauth/token/accessible-resources", base="api")
    if not isinstance(resp.json, list):
        raise JiraError("accessible-resources did not answer with a list", method="GET", path=resp.path,
                        status=resp.status)
    return resp.json


def match_site(resources, url):
    """The resource whose URL is ``url``; raises OptionError naming what the token can reach otherwise."""
    wanted = normalize_site(url)
    for resource in resources:
        if normalize_site(resource.get("url")) == wanted:
            return resource
    reachable = ", ".join(r.get("url", "?") for r in resources) or "no sites"
    raise OptionError("url", f"the token has no access to {url}; it can reach: {reachable}")
