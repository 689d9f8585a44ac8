#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: cloud_id
short_description: Find the cloud id of a Jira Cloud site
version_added: 0.1.0
description:
  - Jira Cloud calls made with OAuth 2.0 go through C({api_url}/ex/jira/{cloud_id}/...), and the Jira Software
    Cloud DevOps APIs take the cloud id in their path. This module finds it.
  - From a site URL, with C(GET {url}/_edge/tenant_info) (no credentials needed).
  - With a user's OAuth 2.0 (3LO) token, from C(GET {api_url}/oauth/token/accessible-resources); returns every
    site the token can reach, and the one matching O(url) when it is given.
author: jiraops maintainers (@jiraops)
extends_documentation_fragment:
  - jiraops.integration.connection
  - jiraops.integration.auth
  - jiraops.integration.vault
  - jiraops.integration.attributes
  - jiraops.integration.attributes.read_only
options:
  source:
    description:
      - V(tenant_info) reads the site's tenant info at O(url).
      - V(accessible_resources) asks which sites the OAuth 2.0 token can reach (O(auth_method) V(bearer) with a 3LO
        access token, or V(refresh_token)).
      - V(auto) uses V(accessible_resources) with a bearer or refresh-token credential, V(tenant_info) otherwise.
    type: str
    default: auto
    choices: [auto, tenant_info, accessible_resources]
notes:
  - With V(accessible_resources) and several reachable sites, give O(url) to choose one; without it RV(cloud_id) is
    set only when the token reaches exactly one site.
seealso:
  - module: jiraops.integration.oauth2_token
  - name: OAuth 2.0 (3LO) apps
    description: Getting the cloud id and making calls through the gateway.
    link: https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/
"""

EXAMPLES = r"""
- name: Cloud id of a site, no credentials needed
  jiraops.integration.cloud_id:
    url: https://your-site.atlassian.net
  register: site

- name: Use it for calls through the gateway with OAuth credentials
  jiraops.integration.api:
    cloud_id: "{{ site.cloud_id }}"
    client_id: "{{ jira_client_id }}"
    client_secret: "{{ vault_jira_client_secret }}"
    path: /rest/api/3/myself

- name: Sites a user's grant can reach (tokens from the store), and the id of one of them
  jiraops.integration.cloud_id:
    url: https://your-site.atlassian.net
    auth_method: refresh_token
    client_id: "{{ jira_app_client_id }}"
    client_secret: "{{ vault_jira_app_client_secret }}"
    token_cache: ~/.jiraops/tokens.json
  register: sites
"""

RETURN = r"""
cloud_id:
  description: The cloud id of the site at O(url), or of the only site the token can reach.
  returned: when it could be determined
  type: str
  sample: 11111111-2222-3333-4444-555555555555
site:
  description: The accessible resource matching RV(cloud_id) (C(id), C(url), C(name), C(scopes), C(avatarUrl)).
  returned: when O(source) resolved to V(accessible_resources) and a site was matched
  type: dict
  sample: {"id": "11111111-2222-3333-4444-555555555555", "url": "https://your-site.atlassian.net",
           "name": "your-site", "scopes": ["read:jira-work"]}
resources:
  description: Every site the token can reach.
  returned: when O(source) resolved to V(accessible_resources)
  type: list
  elements: dict
source:
  description: Where the cloud id came from, V(tenant_info) or V(accessible_resources).
  returned: always
  type: str
  sample: tenant_info
"""

from ansible_collections.jiraops.integration.plugins.module_utils._cloud_id import (
    accessible_resources,
    match_site,
    tenant_info,
)
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule

USER_TOKEN_METHODS = ("bearer", "refresh_token")


def run(module):
    client = module.client
    source = module.params["source"]
    if source == "auto":
        source = "accessible_resources" if client.auth.name in USER_TOKEN_METHODS else "tenant_info"
    url = module.params["url"]
    if source == "tenant_info":
        return {"changed": False, "source": source, "cloud_id": tenant_info(client, url)}
    resources = client.redactor.data(accessible_resources(client))
    result = {"changed": False, "source": source, "resources": resources}
    site = match_site(resources, url) if url else (resources[0] if len(resources) == 1 else None)
    if site is not None:
        result.update(site=site, cloud_id=site.get("id"))
    elif resources:
        module.warn(f"the token reaches {len(resources)} sites; give url to choose one")
    return result


def main():
    module = JiraModule(
        argument_spec=dict(
            source=dict(type="str", default="auto", choices=["auto", "tenant_info", "accessible_resources"]),
        ),
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
