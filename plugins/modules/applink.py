#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: applink
short_description: Manage a Jira application link and its incoming OAuth 1.0a consumer
version_added: 0.1.0
description:
  - Desired state of an application link on Jira Server / Data Center with an incoming OAuth 1.0a consumer
    (consumer key, consumer name, RSA public key), the Jira side of Atlassian's "OAuth for REST APIs" tutorial.
  - Finds the link by O(name), else by O(application_url); compares the link and its consumer with what is asked,
    changes only what differs, and reports C(changed=false) when nothing does.
  - Options left unset leave the link's attribute alone; without O(consumer_key) the consumer is not managed.
  - Uses Jira's REST resources C(/rest/applinks/3.0/...) and C(/rest/applinks-oauth/1.0/...). Connect as a Jira
    administrator, preferably with a personal access token (O(token)); Jira Data Center 11 turns basic auth off by
    default.
  - Reads the link's consumers from the C(consumers) list Jira answers; the incoming consumer is the RSA one with
    a public key, so the HMAC consumer a generic link with outgoing OAuth also lists is never mistaken for it.
requirements:
  - cryptography >= 41.0 (Python library; reads and checks the consumer's public key)
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
      - Reads the links and consumers, sends no change, and reports what would change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The link (id, name, URL, type) and consumer (key, name, public key fingerprint) before and after.
options:
  name:
    description:
      - Name of the application link, unique in Jira (compared case-insensitively, as Jira does).
    type: str
    required: true
  application_url:
    description:
      - URL of the linked application, used as both RPC and display URL. For a generic link any URL works, for
        example the URL of your automation controller.
      - Required when the link does not exist yet. Also used to find a link when no link has O(name), in which case
        the link is renamed.
      - Jira cannot change the application URL of an existing link; the module then fails and says so.
    type: str
  type:
    description:
      - Application type, V(generic) for a tool that only uses the link's OAuth consumer.
      - When creating, defaults to V(generic). When omitted, an existing link's type is left alone; Jira cannot
        change the type of an existing link, so a different value fails with a message that says so.
    type: str
  consumer_key:
    description:
      - Key of the incoming OAuth 1.0a consumer; clients name it in every signed request. Not a secret.
      - A key that another link's consumer already uses is an error naming that link.
      - When omitted, the link's consumer is left as it is.
      - Unlike the auth option of the same name, this one describes the link; connect with an administrator's
        O(username)/O(password) or O(token).
    type: str
  consumer_name:
    description:
      - Name of the consumer as users see it when they approve a token. Defaults to O(name).
    type: str
  public_key:
    description:
      - The consumer's RSA public key as PEM, as the one-line base64 body Jira's form takes, or the path of a file
        holding either (read on the host that runs the module), for example RV(jiraops.integration.rsa_keypair#module:public_key).
      - Required when the link has no incoming consumer yet. When omitted, an existing consumer keeps its key (a
        consumer replaced under a new O(consumer_key) gets the old one's key), so re-runs need not pass it.
      - Compared by fingerprint, so any spelling of the same key changes nothing.
    type: str
  state:
    description:
      - V(present) creates or updates the link and its consumer; V(absent) deletes the link (with its consumer and
        every access token issued to that consumer).
    type: str
    choices: [present, absent]
    default: present
notes:
  - Changing O(consumer_key) replaces the consumer and B(revokes every access token issued to the old consumer).
    Jira has no call that deletes a consumer, and a consumer sent under another key would leave the old consumer and
    its tokens alive, so the module first turns incoming OAuth off for the link
    (C(PUT /rest/applinks/3.0/status/{id}/oauth)), which removes the old consumer and its tokens, then adds the new
    one. Users approve the new consumer again (M(jiraops.integration.oauth1_token)).
  - Changing only O(public_key) or O(consumer_name) keeps the consumer and its tokens; requests must then be signed
    with the new key.
  - A rename goes through C(PUT /rest/applinks/3.0/applinks/{id}) and sends the link's current C(primary) flag,
    which Jira would otherwise clear.
seealso:
  - module: jiraops.integration.rsa_keypair
  - module: jiraops.integration.oauth1_token
  - name: Link to other applications (Atlassian)
    description: What application links are and how Jira administrators manage them.
    link: https://confluence.atlassian.com/adminjiraserver/using-applinks-to-link-to-other-applications-938846918.html
"""

EXAMPLES = r"""
- name: Generate the consumer's key pair
  jiraops.integration.rsa_keypair:
    path: /etc/jiraops/jira_privatekey.pem
    public_key_path: /etc/jiraops/jira_publickey.pem
  register: keys

- name: Link Ansible to Jira with an incoming OAuth 1.0a consumer (as an administrator, with a PAT)
  jiraops.integration.applink:
    url: https://jira.example.com
    token: "{{ vault_jira_admin_pat }}"
    name: Ansible
    application_url: https://awx.example.com
    consumer_key: ansible-automation
    public_key: "{{ keys.public_key }}"
  register: link

- name: Rotate the key (the consumer keeps its access tokens)
  jiraops.integration.applink:
    url: https://jira.example.com
    token: "{{ vault_jira_admin_pat }}"
    name: Ansible
    consumer_key: ansible-automation
    public_key: /etc/jiraops/jira_publickey_2026.pem

- name: Replace the consumer under a new key (revokes every token issued to the old consumer)
  jiraops.integration.applink:
    url: https://jira.example.com
    token: "{{ vault_jira_admin_pat }}"
    name: Ansible
    consumer_key: ansible-automation-2026
    public_key: /etc/jiraops/jira_publickey_2026.pem

- name: On a Jira that still allows basic auth
  jiraops.integration.applink:
    url: https://jira.example.com
    username: admin
    password: "{{ vault_jira_admin_password }}"
    name: Ansible
    application_url: https://awx.example.com

- name: Remove the link, its consumer and the tokens issued to it
  jiraops.integration.applink:
    url: https://jira.example.com
    token: "{{ vault_jira_admin_pat }}"
    name: Ansible
    state: absent
"""

RETURN = r"""
applink:
  description: The application link after the task (in check mode, as it would be); null when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Jira's id of the link (null in check mode when the link would be created).
      type: str
      sample: 0c7a4a4e-3b8e-3e4d-9d3c-7d8f2c1a9b10
    name:
      description: Name of the link.
      type: str
      sample: Ansible
    application_url:
      description: The application (RPC) URL.
      type: str
      sample: https://awx.example.com
    display_url:
      description: The display URL.
      type: str
      sample: https://awx.example.com
    type:
      description: The application type.
      type: str
      sample: generic
consumer:
  description: The link's incoming OAuth 1.0a consumer after the task; null when there is none.
  returned: always
  type: dict
  contains:
    key:
      description: Consumer key.
      type: str
      sample: ansible-automation
    name:
      description: Consumer name.
      type: str
      sample: Ansible
    public_key_fingerprint:
      description: SHA-256 fingerprint of the consumer's public key (colon-separated hex, as RV(jiraops.integration.rsa_keypair#module:fingerprint)).
      type: str
      sample: "3f:1c:...:9a"
actions:
  description:
    - What was changed (or, in check mode, would be), in order.
    - One of C(create application link), C(update application link), C(delete application link),
      C(add incoming OAuth consumer), C(update incoming OAuth consumer) or
      C(replace incoming OAuth consumer 'old' by 'new') (incoming OAuth turned off, then the new consumer added),
      each with the names involved.
  returned: always
  type: list
  elements: str
  sample: ["create application link 'Ansible'", "add incoming OAuth consumer 'ansible-automation'"]
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.jiraops.integration.plugins.module_utils._applink import ensure
from ansible_collections.jiraops.integration.plugins.module_utils._keys import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule


def run(module):
    public_key = module.params.get("public_key")
    if public_key and "PRIVATE KEY" in public_key:
        # A private key pasted where the public key belongs must not be echoed back in the invocation.
        module.no_log_values.add(public_key)
    result = ensure(module.client, module.params, module.check_mode)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    return result


def main():
    module = JiraModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            application_url=dict(type="str"),
            type=dict(type="str"),
            consumer_key=dict(type="str", no_log=False),
            consumer_name=dict(type="str"),
            public_key=dict(type="str", no_log=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    module.run(run)


if __name__ == "__main__":
    main()
