#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: credential_info
short_description: Report when Jira credentials expire, and warn or fail before they do
version_added: 0.1.0
description:
  - For every grant in an OAuth 2.0 token store (O(token_cache), a file or V(vault://<mount>/<path>)), the access
    token's expiry, and for a user's Jira Cloud (3LO) grant the refresh token's last use with Atlassian's 90-day
    inactivity limit and the 365-day absolute limit counted from the user's authorization.
  - For every OAuth 1.0a token store of the M(jiraops.integration.oauth1_token) module in O(oauth1_token_stores),
    the access token's age and expiry (Jira issues them for 5 years).
  - For the Jira Data Center personal access tokens named in O(pat_names), what Jira lists for the caller
    (C(GET /rest/pat/latest/tokens)), creation and expiry.
  - With O(warn_days) it warns about every credential with that many days or fewer left; with O(fail_days) the task
    fails, so that a weekly schedule alerts before an integration stops.
  - It only reads (no token is requested or refreshed, nothing is written), and returns no token or secret.
author: jiraops maintainers (@jiraops)
extends_documentation_fragment:
  - jiraops.integration.connection
  - jiraops.integration.auth
  - jiraops.integration.vault
  - jiraops.integration.attributes
  - jiraops.integration.attributes.read_only
options:
  oauth1_token_stores:
    description: Token store files written by the M(jiraops.integration.oauth1_token) module.
    type: list
    elements: path
    default: []
  pat_names:
    description:
      - Names of the caller's Jira Data Center personal access tokens to report (Jira never shows a token again,
        so they are found by name). Needs O(url) and credentials of that user (the PAT itself as O(token), or
        O(username) / O(password)).
    type: list
    elements: str
    default: []
  warn_days:
    description: Warn about every credential with this many days or fewer left.
    type: int
    default: 30
  fail_days:
    description: Fail the task when a credential has this many days or fewer left (or has expired).
    type: int
notes:
  - A grant whose entry does not record when the user authorized (written before this module existed) has no
    known absolute limit; RV(credentials[].note) says so.
  - A credential whose limits are unknown (a client-credentials token, which is simply requested again, or a Data
    Center refresh token, whose lifetime Jira does not report) is V(ok) and carries a note.
seealso:
  - module: jiraops.integration.oauth2_token
  - name: Refresh token expiry (Atlassian)
    description: Rotating refresh tokens and their inactivity and absolute expiry.
    link: https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/#use-a-refresh-token-to-get-another-access-token-and-refresh-token-pair
"""

EXAMPLES = r"""
- name: Weekly audit of the grant in Vault, failing 14 days before it ends
  jiraops.integration.credential_info:
    token_cache: vault://secret/jira/tokens/ci
    vault_url: https://vault.example.com:8200
    warn_days: 30
    fail_days: 14

- name: OAuth 1.0a access token and a Data Center PAT
  jiraops.integration.credential_info:
    url: https://jira.example.com
    token: "{{ vault_jira_pat }}"
    oauth1_token_stores:
      - /var/lib/jiraops/oauth1-ci.json
    pat_names:
      - ci-reporting
  register: audit

- name: Show what is closest to its end
  ansible.builtin.debug:
    msg: "{{ audit.credentials | sort(attribute='days_left') | map(attribute='name') | first }}"
"""

RETURN = r"""
credentials:
  description: One entry per credential found, nearest limit first.
  returned: always
  type: list
  elements: dict
  contains:
    source:
      description: The store (file path or C(vault://) location) or the Jira site it came from.
      type: str
    kind:
      description: V(oauth2_user_grant), V(oauth2_client_credentials), V(oauth1_access_token) or V(personal_access_token).
      type: str
    name:
      description: Provider, kind and client id, the consumer key, or the PAT's name.
      type: str
    limits:
      description: Each limit that applies and when it is reached (ISO 8601 UTC, null when unknown).
      type: dict
      sample: {refresh_token_inactivity: "2027-03-01T10:00:00Z", refresh_token_absolute: "2027-12-01T09:00:00Z"}
    expires_at:
      description: The nearest known limit (ISO 8601 UTC), null when none is known.
      type: str
    days_left:
      description: Days until RV(credentials[].expires_at) (negative when past).
      type: float
    limited_by:
      description: Which limit is the nearest.
      type: str
    status:
      description: V(ok), V(warn) (within O(warn_days)), V(fail) (within O(fail_days)) or V(expired).
      type: str
    note:
      description: Why a limit is unknown.
      type: str
      returned: when a limit is unknown
    access_token_expires_at:
      description: Expiry of the stored OAuth 2.0 access token (refreshed automatically).
      type: str
      returned: for OAuth 2.0 entries
    access_token_expires_in:
      description: Seconds the stored OAuth 2.0 access token has left (negative when past).
      type: int
      returned: for OAuth 2.0 entries
    store_key:
      description: The entry's key in the store (provider, kind, client id and token URL; no secret).
      type: str
      returned: for OAuth 2.0 entries
    refresh_token_last_used:
      description: When the grant's refresh token was last used (the last refresh or the code exchange).
      type: str
      returned: for OAuth 2.0 user grants
    granted_at:
      description: When the user authorized the app, if the store recorded it.
      type: str
      returned: for OAuth 2.0 user grants
    age_days:
      description: Age of an OAuth 1.0a access token or a PAT.
      type: float
      returned: for OAuth 1.0a access tokens and PATs
summary:
  description: How many credentials have each status.
  returned: always
  type: dict
  sample: {ok: 2, warn: 1, fail: 0, expired: 0}
"""

import os

from ansible_collections.jiraops.integration.plugins.module_utils import _credential_info as info
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule
from ansible_collections.jiraops.integration.plugins.module_utils._token_store_vault import (
    is_vault_location,
    open_token_store,
)

STATUSES = ("ok", "warn", "fail", "expired")


def run(module):
    p = module.params
    for name in ("warn_days", "fail_days"):
        if p[name] is not None and p[name] < 0:
            raise OptionError(name, "must be 0 or more days")
    now = info.now()
    items = []
    if p["token_cache"]:
        if not is_vault_location(p["token_cache"]) and not os.path.exists(p["token_cache"]):
            raise OptionError("token_cache", f"{p['token_cache']} does not exist")
        items += info.grants(open_token_store(module.connection_params(), module=module), p["token_cache"], now)
    for path in p["oauth1_token_stores"]:
        if not os.path.exists(path):
            raise OptionError("oauth1_token_stores", f"{path} does not exist")
        items.append(info.oauth1_tokens(path, now))
    if p["pat_names"]:
        items += info.personal_access_tokens(module.client, p["pat_names"], now)
    if not items:
        raise OptionError("token_cache", "nothing to report: give token_cache, oauth1_token_stores or pat_names")
    items.sort(key=lambda i: (i["days_left"] is None, i["days_left"] or 0))
    info.judge(items, p["warn_days"], p["fail_days"])
    summary = {status: sum(1 for i in items if i["status"] == status) for status in STATUSES}
    for item in items:
        if item["status"] == "warn":
            module.warn(info.describe(item))
    result = {"changed": False, "credentials": items, "summary": summary}
    failing = [i for i in items if i["status"] in ("fail", "expired")]
    if failing:
        module.fail_from(JiraError("credentials end soon: " + "; ".join(info.describe(i) for i in failing)),
                         **result)
    return result


def main():
    module = JiraModule(
        argument_spec=dict(
            oauth1_token_stores=dict(type="list", elements="path", default=[], no_log=False),
            pat_names=dict(type="list", elements="str", default=[]),
            warn_days=dict(type="int", default=30),
            fail_days=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
