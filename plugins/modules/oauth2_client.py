#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oauth2_client
short_description: Manage incoming OAuth 2.0 clients (application links) of Jira Data Center
version_added: 0.1.0
description:
  - Desired state of an incoming OAuth 2.0 client ("External application", direction "Incoming", in
    Administration > Applications > Application links) of Jira Data Center, so an external tool can use the
    authorization code grant (with or without PKCE) against C({url}/rest/oauth2/latest/authorize) and
    C({url}/rest/oauth2/latest/token).
  - Clients are found by O(name); options left unset leave that attribute as it is.
  - The client secret is returned only when the client is created or when O(rotate_secret=true).
  - Available in Jira Data Center (and Server) 8.22 and later, where Jira became an OAuth 2.0 provider. It does
    not exist on Jira Cloud (use a developer-console app there) nor before 8.22.
  - The clients are managed through C({url}/rest/oauth2/latest/client), the resource Jira's own administration
    page uses. Atlassian does not document it publicly, so a Jira upgrade may change it without notice; the
    token and authorize endpoints the clients then use are documented.
  - These clients are for the authorization code grant. OAuth 2.0 C(client_credentials) on Data Center
    (C(/rest/oauth2/latest/token), no refresh token) exists for service accounts, not for the incoming-link
    clients of Jira 8.22 to 10 that this module manages.
  - Connect as a Jira administrator with a personal access token (O(token)); Jira Data Center 11 turns basic auth
    off by default.
author: jiraops maintainers (@jiraops)
extends_documentation_fragment:
  - jiraops.integration.connection
  - jiraops.integration.auth
  - jiraops.integration.vault
  - jiraops.integration.attributes
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reads the clients and reports what would change; creates, updates, deletes and secret resets are not sent.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - Shows O(name), O(scope) and O(redirect_uris) before and after, never the secret.
options:
  name:
    description: Name of the client (the application link), unique among the site's OAuth 2.0 clients.
    type: str
    required: true
  redirect_uris:
    description:
      - Redirect (callback) URLs the client may use; absolute http(s) URLs. Order does not matter.
      - Required to create a client.
    type: list
    elements: str
  scope:
    description:
      - Highest permission tokens of this client may have; Data Center scopes are hierarchical (V(WRITE)
        includes V(READ), V(ADMIN) includes V(WRITE), V(SYSTEM_ADMIN) includes V(ADMIN)).
      - Required to create a client.
    type: str
    choices: [READ, WRITE, ADMIN, SYSTEM_ADMIN]
  state:
    description: V(present) creates or updates the client; V(absent) deletes it, which revokes its tokens.
    type: str
    default: present
    choices: [present, absent]
  rotate_secret:
    description:
      - Reset the client secret; the new one is returned as RV(client_secret) and the old one stops working.
        Reports C(changed=true) every time.
    type: bool
    default: false
notes:
  - Needs a Jira administrator's credentials (basic auth or a personal access token).
  - Uses C(/rest/oauth2/latest/client), the REST resource behind the administration screen of Jira Data Center's
    OAuth 2.0 provider (8.22+). It is not part of Atlassian's published REST reference and may change between
    versions.
  - RV(client_secret) is a secret returned by name; use C(no_log) on the task or store it right away.
seealso:
  - module: jiraops.integration.oauth2_token
  - name: Jira OAuth 2.0 provider API
    description: Jira Data Center's OAuth 2.0 authorization server and incoming links.
    link: https://confluence.atlassian.com/adminjiraserver/jira-oauth-2-0-provider-api-1115659070.html
"""

EXAMPLES = r"""
- name: An incoming OAuth 2.0 client for the CI server
  jiraops.integration.oauth2_client:
    url: https://jira.example.com
    token: "{{ vault_jira_admin_pat }}"
    name: CI server
    redirect_uris:
      - https://ci.example.com/oauth/callback
    scope: WRITE
  register: ci_client
  no_log: true  # holds client_secret when the client was created

- name: Keep the secret in the vault-managed file the first time only
  ansible.builtin.copy:
    dest: /etc/ci/jira-oauth2-client.json
    content: "{{ {'client_id': ci_client.client_id, 'client_secret': ci_client.client_secret} | to_json }}"
    mode: "0600"
  when: ci_client.client_secret is defined
  no_log: true

- name: Rotate the secret
  jiraops.integration.oauth2_client:
    url: https://jira.example.com
    token: "{{ vault_jira_admin_pat }}"
    name: CI server
    rotate_secret: true
  register: rotated
  no_log: true

- name: Remove the client (its tokens stop working)
  jiraops.integration.oauth2_client:
    url: https://jira.example.com
    token: "{{ vault_jira_admin_pat }}"
    name: CI server
    state: absent
"""

RETURN = r"""
client_id:
  description: The client id.
  returned: when the client exists after the run (or would, in check mode after a create it is not known)
  type: str
  sample: 38843a89f2b02a471000bc022e4b9de8
client_secret:
  description: The client secret. A secret returned by name, only when the client was created or its secret reset.
  returned: when the client was created or O(rotate_secret=true), not in check mode
  type: str
client:
  description: The client after the run (C(id), C(client_id), C(name), C(scope), C(redirect_uris), C(user_key)).
  returned: when O(state=present)
  type: dict
  sample: {"id": "9f3a61c2d84e07b5", "client_id": "38843a89f2b02a471000bc022e4b9de8", "name": "CI server",
           "scope": "WRITE", "redirect_uris": ["https://ci.example.com/oauth/callback"], "user_key": "admin"}
"""

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule
from ansible_collections.jiraops.integration.plugins.module_utils._oauth2_client import (
    ClientManager,
    check_redirect_uris,
    comparable,
    facts,
)


def run(module):
    p = module.params
    check_redirect_uris(p["redirect_uris"])
    manager = ClientManager(module.client)
    entity = manager.find(p["name"])
    before = facts(entity) if entity else None
    result = {"changed": False}

    if p["state"] == "absent":
        if entity:
            result["changed"] = True
            if not module.check_mode:
                manager.delete(entity)
        if module._diff:
            result["diff"] = {"before": comparable(before), "after": {}}
        return result

    secret = None
    if entity is None:
        missing = [o for o in ("redirect_uris", "scope") if not p[o]]
        if missing:
            raise OptionError(missing[0], f"required to create the client {p['name']!r}")
        after = {"id": None, "client_id": None, "name": p["name"], "scope": p["scope"],
                 "redirect_uris": list(p["redirect_uris"]), "user_key": None}
        result["changed"] = True
        if not module.check_mode:
            created = manager.create(p["name"], p["scope"], list(p["redirect_uris"]))
            secret = created.get("clientSecret")
            after = facts(created)
    else:
        after = dict(before)
        if p["scope"] is not None:
            after["scope"] = p["scope"]
        if p["redirect_uris"] is not None and sorted(p["redirect_uris"]) != sorted(before["redirect_uris"]):
            after["redirect_uris"] = list(p["redirect_uris"])
        if comparable(after) != comparable(before):
            result["changed"] = True
            if not module.check_mode:
                after = facts(manager.update(entity, after["name"], after["scope"], after["redirect_uris"]))
        if p["rotate_secret"]:
            result["changed"] = True
            if not module.check_mode:
                secret = manager.reset_secret(entity).get("clientSecret")

    result["client"] = after
    if after.get("client_id"):
        result["client_id"] = after["client_id"]
    if secret:
        result["client_secret"] = secret
    if module._diff:
        result["diff"] = {"before": comparable(before), "after": comparable(after)}
    return result


def main():
    module = JiraModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            redirect_uris=dict(type="list", elements="str"),
            scope=dict(type="str", choices=["READ", "WRITE", "ADMIN", "SYSTEM_ADMIN"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            rotate_secret=dict(type="bool", default=False, no_log=False),
        ),
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
