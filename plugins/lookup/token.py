# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: token
short_description: A valid OAuth 2.0 access token for Jira from the token store, refreshed as needed
version_added: 0.1.0
requirements:
  - requests >= 2.28 (Python library, on the controller, where lookups run)
author: jiraops maintainers (@jiraops)
description:
  - Returns one access token for the credential described by the options, so that C(ansible.builtin.uri) and
    other tools can call Jira with an C(Authorization) header of the form C(Bearer <token>).
  - Uses the same token store and rules as the modules of the collection (see O(token_cache)). A cached token with
    more than O(min_ttl) seconds left is returned without any request; otherwise a new one is obtained (client
    credentials) or the user's grant is refreshed, and the rotated refresh token is stored before the token is
    returned.
  - The returned token is a secret; use C(no_log) on tasks that show it (a C(uri) task shows its headers).
extends_documentation_fragment:
  - jiraops.integration.vault.plugins
options:
  _terms:
    description: Not used; give the options as keywords.
    required: false
  auth_method:
    description:
      - V(client_credentials) or V(refresh_token); V(auto) picks V(refresh_token) when O(refresh_token) is set and
        V(client_credentials) otherwise.
      - Set V(refresh_token) when the user's grant is only in O(token_cache).
    type: str
    default: auto
    choices: [auto, client_credentials, refresh_token]
    env:
      - name: JIRA_AUTH_METHOD
  provider:
    description: V(cloud) (Atlassian) or V(datacenter) (Jira Data Center 8.22+ at O(url)).
    type: str
    default: cloud
    choices: [cloud, datacenter]
    env:
      - name: JIRA_OAUTH2_PROVIDER
  client_id:
    description: OAuth 2.0 client id.
    type: str
    env:
      - name: JIRA_CLIENT_ID
  client_secret:
    description: OAuth 2.0 client secret.
    type: str
    env:
      - name: JIRA_CLIENT_SECRET
  refresh_token:
    description: The user's refresh token when it is not (yet) in O(token_cache).
    type: str
    env:
      - name: JIRA_REFRESH_TOKEN
  token_cache:
    description:
      - Path of the token store (a JSON file, 0600, shared with the modules; its directory must exist), or
        V(vault://<kv v2 mount>/<path>) for the store in Vault / OpenBao (see O(vault_url)).
      - The modules' rules apply. A symbolic link to the store shares the file's lock; dangling links, lock links and
        files of another user are refused.
      - Without it every lookup requests a new token, and a refresh token works only once.
    type: str
    env:
      - name: JIRA_TOKEN_CACHE
  min_ttl:
    description: A cached token is returned only while it has more than this many seconds left.
    type: int
    default: 60
    env:
      - name: JIRA_TOKEN_MIN_TTL
  audience:
    description: Audience of cloud client-credentials requests.
    type: str
    default: api.atlassian.com
    env:
      - name: JIRA_OAUTH2_AUDIENCE
  url:
    description: Jira Data Center base URL (token endpoint C({url}/rest/oauth2/latest/token)).
    type: str
    env:
      - name: JIRA_URL
  api_url:
    description: Atlassian's API gateway (client-credentials token endpoint C({api_url}/oauth/token)).
    type: str
    default: https://api.atlassian.com
    env:
      - name: JIRA_API_URL
  auth_url:
    description: Atlassian's authorization server (refresh token endpoint C({auth_url}/oauth/token)).
    type: str
    default: https://auth.atlassian.com
    env:
      - name: JIRA_AUTH_URL
  timeout:
    description: Seconds to wait for each request.
    type: float
    default: 30
    env:
      - name: JIRA_TIMEOUT
  validate_certs:
    description: Verify TLS certificates.
    type: bool
    default: true
    env:
      - name: JIRA_VALIDATE_CERTS
  ca_path:
    description: PEM CA bundle to verify the server's certificate with.
    type: path
    env:
      - name: JIRA_CA_PATH
  max_retries:
    description: Retries after 429, 502, 503, 504 and connection errors.
    type: int
    default: 5
    env:
      - name: JIRA_MAX_RETRIES
  retry_budget:
    description: Total seconds a token request may take including retries.
    type: float
    default: 120
    env:
      - name: JIRA_RETRY_BUDGET
  max_response_size:
    description:
      - Largest token reply body, in bytes after decompression, that is read; a larger one fails the lookup.
      - When not set, 8 MiB.
    type: int
    env:
      - name: JIRA_MAX_RESPONSE_SIZE
seealso:
  - module: jiraops.integration.oauth2_token
  - module: jiraops.integration.cloud_id
"""

EXAMPLES = r"""
- name: Call a Jira Cloud site through the gateway with ansible.builtin.uri
  ansible.builtin.uri:
    url: "https://api.atlassian.com/ex/jira/{{ cloud_id }}/rest/api/3/myself"
    headers:
      Authorization: "Bearer {{ lookup('jiraops.integration.token', client_id=jira_client_id,
                                client_secret=vault_jira_client_secret, token_cache='/var/tmp/jira-tokens.json') }}"
  no_log: true  # the uri result shows its request headers

- name: A user's grant kept in the token store (JIRA_CLIENT_ID / JIRA_CLIENT_SECRET / JIRA_TOKEN_CACHE set)
  ansible.builtin.set_fact:
    jira_token: "{{ lookup('jiraops.integration.token', auth_method='refresh_token') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One access token (a secret).
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

try:
    from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError
    from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client
except ImportError as exc:  # pragma: no cover - requests missing on the controller
    IMPORT_ERROR = exc
else:
    IMPORT_ERROR = None

OPTIONS = ("auth_method", "provider", "client_id", "client_secret", "refresh_token", "token_cache", "min_ttl",
           "audience", "url", "api_url", "auth_url", "timeout", "validate_certs", "ca_path", "max_retries",
           "retry_budget", "max_response_size", "vault_url", "vault_token", "vault_role_id", "vault_secret_id", "vault_namespace",
           "vault_ca_path")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if IMPORT_ERROR is not None:
            raise AnsibleLookupError(f"jiraops.integration.token needs the Python library 'requests': {IMPORT_ERROR}")
        if terms:
            raise AnsibleLookupError("jiraops.integration.token takes no terms; give the options as keywords, "
                                     "for example client_id=... client_secret=...")
        self.set_options(var_options=variables, direct=kwargs)
        params = {name: self.get_option(name) for name in OPTIONS}
        if params["auth_method"] == "auto":
            params["auth_method"] = "refresh_token" if params["refresh_token"] else "client_credentials"
        try:
            client = build_client(params)
        except JiraError as exc:
            raise AnsibleLookupError(f"jiraops.integration.token: {exc}") from None
        for warning in getattr(client, "warnings", ()):
            self._display.warning(f"jiraops.integration.token: {warning}")
        try:
            client.auth.authenticate(client)
        except JiraError as exc:
            raise AnsibleLookupError(f"jiraops.integration.token: {client.redactor.text(str(exc))}") from None
        return [client.auth.token.access_token]
