# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Shared auth options; each auth method is a small class in module_utils/_auth*.py.
    DOCUMENTATION = r"""
options:
  auth_method:
    description:
      - How to authenticate.
      - V(auto) picks the method whose options were given (O(username)/O(password) means V(basic), O(token)
        means V(bearer), O(consumer_key)/O(private_key)/O(private_key_path)/O(access_token) means V(oauth1),
        none means V(none)); options for more than one method is an error that names them.
      - If not set, the environment variable E(JIRA_AUTH_METHOD) is used.
    type: str
    default: auto
    choices: [auto, none, basic, bearer, oauth1]
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
"""
