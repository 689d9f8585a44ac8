# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Shared connection options of every module and lookup that talks to Jira.
    DOCUMENTATION = r"""
requirements:
  - requests >= 2.28 (Python library, on the host that runs the module; C(pip install -r requirements.txt) of the
    collection installs it)
options:
  url:
    description:
      - Base URL of the Jira site, for example V(https://jira.example.com) (Server / Data Center) or
        V(https://your-site.atlassian.net) (Cloud). Paths given to modules are joined to it.
      - Credentials are sent only to the scheme, host and port of O(url), O(api_url) and O(auth_url); a request to
        any other host is refused before it is sent.
      - A base URL must be V(http) or V(https) with a host name (at most 253 characters), no user name or password
        (use O(username) and O(password)), no query string and no fragment.
      - Plain V(http://) to a host that is not loopback, with credentials, gives a warning, since they travel unencrypted.
      - When omitted and O(cloud_id) is set, site paths go through the cloud gateway
        C({api_url}/ex/jira/{cloud_id}).
      - If not set, the environment variable E(JIRA_URL) is used.
    type: str
  api_url:
    description:
      - Base URL of Atlassian's cloud API gateway (OAuth 2.0 tokens, C(/ex/jira/...), the Jira Software Cloud
        DevOps APIs). Override it to point at a test double such as the collection's emulator.
      - If not set, the environment variable E(JIRA_API_URL) is used.
    type: str
    default: https://api.atlassian.com
  auth_url:
    description:
      - Base URL of Atlassian's authorization server (OAuth 2.0 three-legged flows).
      - If not set, the environment variable E(JIRA_AUTH_URL) is used.
    type: str
    default: https://auth.atlassian.com
  cloud_id:
    description:
      - Jira Cloud site id. With it, site paths are addressed as C({api_url}/ex/jira/{cloud_id}/...) when no
        O(url) is given, and the DevOps data modules address C({api_url}/jira/.../cloud/{cloud_id}).
      - If not set, the environment variable E(JIRA_CLOUD_ID) is used.
    type: str
  timeout:
    description:
      - Seconds one attempt of a request may take, from sending it to the last byte of the reply (a server that
        sends its reply slowly, byte by byte, is cut off at this point too). Retries each get their own.
      - A finite number above 0 and at most V(3600).
      - If not set, the environment variable E(JIRA_TIMEOUT) is used.
    type: float
    default: 30
  validate_certs:
    description:
      - Verify the server's TLS certificate. Leave it on; use O(ca_path) for private CAs.
      - V(false) gives a warning on every task, because anyone on the network path can then impersonate the server
        and read the credentials.
      - If not set, the environment variable E(JIRA_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - Path of a PEM CA bundle used to verify the server's certificate instead of the system store.
      - If not set, the environment variable E(JIRA_CA_PATH) is used.
    type: path
  max_retries:
    description:
      - How many times a request is retried after HTTP 429, 502, 503, 504, a timeout or a dropped connection, and
        after a reply that cannot be read (a corrupt gzip body, a truncated body, a bad chunk length) when the
        request is idempotent. From V(0) to V(100).
      - Waits grow exponentially with full jitter; a C(Retry-After) header is honoured as the minimum wait, and
        without it Jira Cloud's C(X-RateLimit-Reset) (ISO 8601) is. Errors of HTTP 429 name the C(RateLimit-Reason).
      - If not set, the environment variable E(JIRA_MAX_RETRIES) is used.
    type: int
    default: 5
  retry_budget:
    description:
      - Total seconds one request may take including all retries and waits. A wait that would cross the budget
        is not started; the task fails at once with a message saying how long the server asked to wait.
      - A finite number from V(0) to V(86400).
      - A rate limit that resets later than the budget allows (Jira Cloud's hourly quota) fails at once, without
        sleeping, with the reset time (UTC and seconds from now) and the O(retry_budget) that would wait for it.
      - If not set, the environment variable E(JIRA_RETRY_BUDGET) is used.
    type: float
    default: 120
  max_response_size:
    description:
      - Largest reply body, in bytes after decompression, that is read; a larger one fails the task with a message
        naming this option (nothing past the limit is kept in memory, so a gzip bomb cannot exhaust it).
      - When not set, 8 MiB (V(8388608)), far above Jira's REST replies (a page of 1,000 issues with all fields is a
        few MB); 32 MiB for the DevOps bulk modules (M(jiraops.integration.build_info),
        M(jiraops.integration.deployment_info), M(jiraops.integration.devinfo),
        M(jiraops.integration.feature_flag)), whose replies list every entity sent with its errors.
      - At most 1 GiB.
      - If not set, the environment variable E(JIRA_MAX_RESPONSE_SIZE) is used.
    type: int
    version_added: 0.1.0
"""
