#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: api
short_description: Make one authenticated call to any Jira REST endpoint
version_added: 0.1.0
description:
  - Sends one request to a Jira site (Server, Data Center or Cloud) or to Atlassian's cloud API gateway, with
    the collection's auth methods, retries and error messages, and returns the decoded reply.
  - The Ansible counterpart of the C(request <URL>) step of Atlassian's OAuth tutorial, and of C(curl -u) calls.
author: jiraops maintainers (@jiraops)
extends_documentation_fragment:
  - jiraops.integration.connection
  - jiraops.integration.auth
  - jiraops.integration.vault
  - jiraops.integration.attributes
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: partial
    details:
      - V(GET) and V(HEAD) requests are sent in check mode too, since they change nothing.
      - Other methods are not sent in check mode; the module reports C(changed=true) and what it would send.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  method:
    description: HTTP method.
    type: str
    default: GET
    choices: [GET, HEAD, POST, PUT, PATCH, DELETE]
  path:
    description:
      - Path joined to O(url), for example V(/rest/api/2/issue/JJ-2). Anything that is not a full URL is a path
        joined to the base, also when it looks like a URL after the first slash (V(/http://host/x), V(//host/x)).
      - A full URL (V(https://...)) is used only when its scheme, host and port are those of O(url), O(api_url) or
        O(auth_url); any other host is refused before anything is sent, so credentials never reach it. A URL with a
        user name or password in it is refused.
      - With O(cloud_id) and no O(url), joined to C({api_url}/ex/jira/{cloud_id}).
      - Exactly one of O(path) and O(api_path) is required.
    type: str
  api_path:
    description:
      - Path joined to O(api_url), for example V(/oauth/token/accessible-resources) or
        V(/jira/builds/0.1/cloud/{cloudId}/bulk).
    type: str
  query:
    description: Query string parameters.
    type: dict
  body:
    description: Request body, sent as JSON.
    type: raw
  headers:
    description:
      - Extra request headers. C(Authorization) is set by the auth method; do not pass credentials here.
    type: dict
  status_code:
    description: HTTP statuses that count as success; any other status fails the task with Jira's error text.
    type: list
    elements: int
    default: [200, 201, 202, 204]
notes:
  - Response headers that carry credentials (C(Set-Cookie), C(Authorization)) and secret-looking JSON fields
    (C(access_token), C(refresh_token), C(client_secret), ...) are masked in the result.
seealso:
  - name: Jira Cloud REST API
    description: Reference of the Jira Cloud platform REST API.
    link: https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/
  - name: Jira Server / Data Center REST API
    description: Reference of the Jira Data Center REST API.
    link: https://developer.atlassian.com/server/jira/platform/rest/v10000/intro/
"""

EXAMPLES = r"""
- name: Who am I (basic auth with an API token from JIRA_USERNAME / JIRA_PASSWORD)
  jiraops.integration.api:
    url: https://jira.example.com
    path: /rest/api/2/myself
  register: me

- name: Read an issue with a Data Center personal access token
  jiraops.integration.api:
    url: https://jira.example.com
    token: "{{ vault_jira_pat }}"
    path: /rest/api/2/issue/JJ-2
    query:
      fields: summary,status
  register: issue

- name: Comment on an issue, connection options set once for the whole play
  module_defaults:
    group/jiraops.integration.jira:
      url: https://jira.example.com
      username: automation
      password: "{{ vault_jira_password }}"
  jiraops.integration.api:
    method: POST
    path: /rest/api/2/issue/JJ-2/comment
    body:
      body: Deployed to staging by Ansible.
    status_code: [201]

- name: Call a Cloud site through the gateway with an OAuth 2.0 access token
  jiraops.integration.api:
    cloud_id: "{{ cloud.cloud_id }}"
    token: "{{ oauth.access_token }}"
    path: /rest/api/3/myself
"""

RETURN = r"""
status:
  description: HTTP status of the reply.
  returned: always
  type: int
  sample: 200
json:
  description: The decoded JSON reply, or null when the reply is not JSON. Secret-looking fields are masked.
  returned: always
  type: raw
  sample: {"key": "JJ-2", "fields": {"summary": "Jira Junior logo is not pink enough"}}
content:
  description: The reply body as text when it is not JSON (for example XML or HTML), with secrets masked.
  returned: when the reply is not JSON
  type: str
headers:
  description: Reply headers; C(Set-Cookie) and other credential-bearing headers are masked.
  returned: always
  type: dict
  sample: {"Content-Type": "application/json;charset=UTF-8"}
url:
  description: The URL that was called (without query string).
  returned: always
  type: str
  sample: https://jira.example.com/rest/api/2/myself
retries:
  description: How many times the request was retried (429, 5xx, dropped connections).
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule

READ_ONLY = ("GET", "HEAD")


def run(module):
    p = module.params
    method = p["method"].upper()
    base = "api" if p["api_path"] else "site"
    path = p["api_path"] or p["path"]
    if not path.startswith(("/", "http://", "https://")):
        raise OptionError("api_path" if p["api_path"] else "path", f"{path!r} must start with '/' or be a full URL")
    client = module.client
    url = client.url_for(path, base)
    # Before check mode returns too: a URL outside the configured hosts is wrong whatever the mode.
    client.check_target(url, "api_path" if p["api_path"] else "path")
    if module.check_mode and method not in READ_ONLY:
        return {"changed": True, "status": None, "json": None, "headers": {}, "url": url, "retries": 0,
                "msg": f"check mode: would send {method} {url}"}
    resp = client.request(method, path, base=base, params=p["query"], json=p["body"], headers=p["headers"],
                          expected=tuple(p["status_code"]))
    redactor = client.redactor
    result = {
        "changed": method not in READ_ONLY,
        "status": resp.status,
        "json": redactor.data(resp.json),
        "headers": redactor.headers(resp.headers),
        "url": url,
        "retries": resp.retries,
    }
    if resp.json is None and resp.body:
        result["content"] = redactor.text(resp.text)
    return result


def main():
    module = JiraModule(
        argument_spec=dict(
            method=dict(type="str", default="GET", choices=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
            path=dict(type="str"),
            api_path=dict(type="str"),
            query=dict(type="dict"),
            body=dict(type="raw"),
            headers=dict(type="dict"),
            status_code=dict(type="list", elements="int", default=[200, 201, 202, 204]),
        ),
        required_one_of=[("path", "api_path")],
        mutually_exclusive=[("path", "api_path")],
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
