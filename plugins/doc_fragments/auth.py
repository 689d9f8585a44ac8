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
        means V(bearer), none means V(none)); options for more than one method is an error that names them.
      - If not set, the environment variable E(JIRA_AUTH_METHOD) is used.
    type: str
    default: auto
    choices: [auto, none, basic, bearer]
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
"""
