# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Shared auth options; each auth method is a small class in module_utils/_auth*.py.
    DOCUMENTATION = r"""
requirements:
  - oauthlib[signedtoken] >= 3.2 and requests-oauthlib >= 1.3 (Python libraries; the C(signedtoken) extra brings
    cryptography and PyJWT for RSA-SHA1), only for O(auth_method=oauth1)
options:
  auth_method:
    description:
      - How to authenticate.
      - V(auto) picks the method whose options were given (O(username)/O(password) means V(basic), O(token)
        means V(bearer), O(consumer_key)/O(private_key)/O(private_key_path)/O(access_token) means V(oauth1),
        O(client_id)/O(client_secret) means V(client_credentials), and with O(refresh_token) as well
        V(refresh_token); none means V(none)); options for more than one method is an error that names them.
      - V(client_credentials) and V(refresh_token) obtain OAuth 2.0 access tokens themselves, through
        O(token_cache) when it is set. Set V(refresh_token) explicitly when the user's grant is only in
        O(token_cache) (no O(refresh_token) given).
      - If not set, the environment variable E(JIRA_AUTH_METHOD) is used.
    type: str
    default: auto
    choices: [auto, none, basic, bearer, client_credentials, oauth1, refresh_token]
  username:
    description:
      - User name (Server / Data Center) or account e-mail (Cloud) for V(basic) auth.
      - If not set, the environment variable E(JIRA_USERNAME) is used.
    type: str
  password:
    description:
      - Password (Server / Data Center) or Atlassian API token (Cloud) for V(basic) auth.
      - If not set, the environment variables E(JIRA_PASSWORD) or E(JIRA_API_TOKEN) are used.
    type: str
  token:
    description:
      - Bearer token for V(bearer) auth, a Data Center personal access token or any OAuth 2.0 access token.
      - If not set, the environment variable E(JIRA_TOKEN) is used.
    type: str
  consumer_key:
    description:
      - Consumer key of the incoming OAuth 1.0a consumer of a Jira Server / Data Center application link, for
        V(oauth1) auth (see M(jiraops.integration.applink)). Not a secret.
      - If not set, the environment variable E(JIRA_CONSUMER_KEY) is used.
    type: str
  private_key:
    description:
      - The consumer's RSA private key as PEM text (unencrypted PKCS#8 or PKCS#1), for V(oauth1) auth. Every
        request is signed with it using RSA-SHA1, the only signature method Jira accepts.
      - Mutually exclusive with O(private_key_path).
      - If not set, the environment variable E(JIRA_PRIVATE_KEY) is used.
    type: str
  private_key_path:
    description:
      - Path of a file holding the consumer's RSA private key (PEM), for V(oauth1) auth, for example the one
        M(jiraops.integration.rsa_keypair) writes. Read on the host that runs the module.
      - Mutually exclusive with O(private_key).
      - If not set, the environment variable E(JIRA_PRIVATE_KEY_PATH) is used.
    type: path
  access_token:
    description:
      - OAuth 1.0a access token for V(oauth1) auth, as returned by M(jiraops.integration.oauth1_token). Calls
        run as the Jira user who approved it.
      - If not set, the environment variable E(JIRA_ACCESS_TOKEN) is used.
    type: str
  provider:
    description:
      - OAuth 2.0 provider for the V(client_credentials) and V(refresh_token) methods.
      - V(cloud) is Atlassian's cloud (tokens from O(api_url) for client credentials and O(auth_url) for a
        user's grant); Jira Cloud accepts these tokens only through the gateway, so site paths are sent to
        C({api_url}/ex/jira/{cloud_id}/...) and O(cloud_id) is required for them.
      - V(datacenter) is a Jira Data Center 8.22+ site at O(url) (C(/rest/oauth2/latest/token)); site paths go
        to O(url).
      - If not set, the environment variable E(JIRA_OAUTH2_PROVIDER) is used.
    type: str
    default: cloud
    choices: [cloud, datacenter]
  client_id:
    description:
      - OAuth 2.0 client id (Jira Cloud OAuth credentials, a developer-console app, or a Data Center incoming
        link).
      - If not set, the environment variable E(JIRA_CLIENT_ID) is used.
    type: str
  client_secret:
    description:
      - OAuth 2.0 client secret that goes with O(client_id).
      - If not set, the environment variable E(JIRA_CLIENT_SECRET) is used.
    type: str
  refresh_token:
    description:
      - A user's OAuth 2.0 refresh token, for V(refresh_token) auth.
      - Refresh tokens rotate, each use returns a new one and the old one stops working after a short reuse
        interval. With O(token_cache) the newest one is kept there and used instead of this value as long as
        this value belongs to the same grant; without O(token_cache) this value works only once.
      - If not set, the environment variable E(JIRA_REFRESH_TOKEN) is used.
    type: str
  audience:
    description:
      - Audience sent with client-credentials requests to Atlassian's cloud.
      - If not set, the environment variable E(JIRA_OAUTH2_AUDIENCE) is used.
    type: str
    default: api.atlassian.com
  token_cache:
    description:
      - Path of the OAuth 2.0 token store, a JSON file that must be readable by its owner only (0600; a looser
        mode is refused). Its directory must exist. Created when missing.
      - Tokens are kept per provider, client id, grant kind and token URL. A valid cached access token is
        reused, one with less than O(min_ttl) seconds left is replaced, and a rotated refresh token is written
        to the file before the new access token is used. Writes are atomic and made under an exclusive lock on
        C(<token_cache>.lock), so all forks and tasks of a play share one token per credential.
      - Keep one file per user when several users authorize the same app.
      - The store is locked and written on its real path, so a symbolic link to it and the file itself share one
        lock. A dangling link, a link at C(<token_cache>.lock), a link to something other than a regular file, a
        store with a second hard link, and a store, lock or link owned by another user are refused. A directory
        other users can write gets a warning.
      - V(vault://<kv v2 mount>/<path>) (for example V(vault://secret/jira/tokens/ci)) keeps the store in one
        HashiCorp Vault / OpenBao KV version 2 secret instead (see O(vault_url)), for AWX container groups and
        several execution nodes, where a file does not outlive the job or is not shared.
      - The store is updated in check mode too when a token had to be obtained, since a rotated refresh token
        that was not kept would end the grant.
      - If not set, the environment variable E(JIRA_TOKEN_CACHE) is used.
    type: path
  min_ttl:
    description:
      - A cached OAuth 2.0 access token is reused only while it has more than this many seconds left.
      - If not set, the environment variable E(JIRA_TOKEN_MIN_TTL) is used.
    type: int
    default: 60
"""
