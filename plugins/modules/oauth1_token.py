#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oauth1_token
short_description: Get an OAuth 1.0a access token from Jira Server / Data Center (the token dance)
version_added: 0.1.0
description:
  - Runs the OAuth 1.0a dance of Atlassian's "OAuth for REST APIs" tutorial against the incoming consumer of a
    Jira application link (see M(jiraops.integration.applink)), signing with RSA-SHA1, the only method Jira
    accepts.
  - Without O(verifier), obtains a request token and returns RV(request_token), RV(request_token_secret) and
    RV(authorize_url). A Jira user opens RV(authorize_url), clicks C(Allow), and Jira shows a verification code.
  - With O(verifier) (and O(request_token), or a O(token_store) that holds it), exchanges them for an access token
    and returns RV(access_token) and RV(access_token_secret). Calls signed with it run as the user who approved.
  - With O(token_store), the tokens are kept in a file between tasks and runs, so the exchange needs no
    O(request_token), and a later run finds the access token there and returns it without a new dance
    (C(changed=false)) unless O(force=true).
  - This module returns secrets (RV(access_token), RV(access_token_secret), RV(request_token_secret)) because
    asking for them is its purpose; set C(no_log=true) on the task and keep them in a vault or the token store.
requirements:
  - oauthlib[signedtoken] >= 3.2 and requests-oauthlib >= 1.3 (Python libraries), whatever O(auth_method) says,
    since the request token and access token calls are always RSA-SHA1 signed
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
      - An access token already in O(token_store) is returned as in a normal run.
      - Otherwise nothing is sent and nothing is written; the module reports C(changed=true) and what it would do.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  verifier:
    description:
      - The verification code Jira showed after the user approved RV(authorize_url). With it, the request token
        is exchanged for an access token.
      - Single use. When the token store already holds the access token obtained with it and no request token is
        pending, the stored access token is returned unchanged.
    type: str
  request_token:
    description:
      - The request token returned by the first step (not a secret, it is part of RV(authorize_url)).
      - Needed with O(verifier) unless O(token_store) holds it.
    type: str
  token_store:
    description:
      - Path of a JSON file that keeps the consumer key, the pending request token and the access token between
        tasks and runs, like the C(config.properties) of Atlassian's tutorial (the private key is not stored).
      - Written atomically with mode C(0600). A store that other users can read, that is not valid JSON, or that
        belongs to another O(consumer_key) or O(url) is refused with a message naming this option.
      - A symbolic link is followed only to an existing regular file of the user's (the file is then written on its
        real path). A dangling link, a link to something else, a store with a second hard link and a store or link
        owned by another user are refused; a directory other users can write gets a warning.
    type: path
  callback:
    description:
      - Where Jira sends the browser after approval. V(oob) (out of band) makes Jira show the verification code
        to the user, which suits automation.
    type: str
    default: oob
  force:
    description:
      - Start a new dance even when O(token_store) already holds an access token.
    type: bool
    default: false
notes:
  - The connection options O(url), O(timeout), O(validate_certs), O(ca_path) and the retries apply. Of the auth
    options only O(consumer_key) and O(private_key) or O(private_key_path) are used; the dance always signs with
    the consumer's key, whatever O(auth_method) says.
  - "Errors name the C(oauth_problem) Jira reported and say what to do, for example C(permission_unknown): the
    request token was not approved yet; C(token_expired): Jira keeps request tokens 10 minutes;
    C(signature_invalid): the private key does not match the public key of the application link."
seealso:
  - module: jiraops.integration.applink
  - module: jiraops.integration.rsa_keypair
  - name: OAuth for REST APIs (Atlassian)
    description: The manual procedure this module automates.
    link: https://developer.atlassian.com/server/jira/platform/oauth/
"""

EXAMPLES = r"""
- name: Step 1, get a request token and the URL a Jira user must approve
  jiraops.integration.oauth1_token:
    url: https://jira.example.com
    consumer_key: ansible-automation
    private_key_path: /etc/jiraops/jira_privatekey.pem
    token_store: /etc/jiraops/jira_oauth1_tokens.json
  register: oauth
  no_log: true

- name: Step 2, a human approves in the browser and pastes the code
  ansible.builtin.pause:
    prompt: "Open {{ oauth.authorize_url }}, click Allow and paste the verification code"
  register: approval
  no_log: true
  when: oauth.authorize_url is defined

- name: Step 3, exchange the request token (read from the token store) for an access token
  jiraops.integration.oauth1_token:
    url: https://jira.example.com
    consumer_key: ansible-automation
    private_key_path: /etc/jiraops/jira_privatekey.pem
    token_store: /etc/jiraops/jira_oauth1_tokens.json
    verifier: "{{ approval.user_input | trim }}"
  register: oauth
  no_log: true
  when: approval is not skipped

- name: Call Jira as the approving user
  jiraops.integration.api:
    url: https://jira.example.com
    auth_method: oauth1
    consumer_key: ansible-automation
    private_key_path: /etc/jiraops/jira_privatekey.pem
    access_token: "{{ oauth.access_token }}"
    path: /rest/api/2/myself
"""

RETURN = r"""
request_token:
  description: The request token to approve (also part of RV(authorize_url)).
  returned: when a request token was obtained
  type: str
  sample: aBcDeFgHiJkLmNoPqRsTuVwXyZ012345
request_token_secret:
  description: The request token's secret. Not needed for RSA-SHA1 signing; returned for completeness. Secret.
  returned: when a request token was obtained
  type: str
authorize_url:
  description: The page where a Jira user approves the request token and is shown the verification code.
  returned: when a request token was obtained
  type: str
  sample: https://jira.example.com/plugins/servlet/oauth/authorize?oauth_token=aBcDeFgHiJkLmNoPqRsTuVwXyZ012345
access_token:
  description: The access token; pass it as O(access_token) with O(auth_method=oauth1) to any module. Secret.
  returned: when an access token was obtained or found in the token store
  type: str
access_token_secret:
  description: The access token's secret. Not needed for RSA-SHA1 signing; returned for completeness. Secret.
  returned: when an access token was obtained or found in the token store
  type: str
expires_in:
  description: Seconds until the access token expires, as Jira reported it (Jira's default is 5 years).
  returned: when an access token was obtained or found in the token store
  type: int
  sample: 157680000
source:
  description: Where the returned token came from, V(jira) (just obtained) or V(token_store).
  returned: when a token is returned
  type: str
  sample: jira
consumer_key:
  description: The consumer key the tokens belong to.
  returned: always
  type: str
  sample: ansible-automation
token_store:
  description: Path of the token store, when one is used.
  returned: when O(token_store) is set
  type: str
msg:
  description: What the module did or, in check mode, would do.
  returned: always
  type: str
"""

import time

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule
from ansible_collections.jiraops.integration.plugins.module_utils._oauth1 import (
    TokenStore,
    fetch_access_token,
    fetch_request_token,
)
from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client


def _stored_access(data, result):
    expires_at = data.get("access_token_expires_at")
    result.update(
        changed=False, source="token_store", access_token=data["access_token"],
        access_token_secret=data.get("access_token_secret"),
        expires_in=max(0, int(expires_at - time.time())) if expires_at else None,
        msg="the token store already holds an access token for this consumer",
    )
    return result


def run(module):
    p = module.params
    if not p["consumer_key"]:
        raise OptionError("consumer_key", "the consumer key of the application link's incoming consumer is required "
                                          "(or JIRA_CONSUMER_KEY)")
    if not p["url"]:
        raise OptionError("url", "the Jira base URL is required (or JIRA_URL)")

    def client_for(auth):
        return module.use_client(build_client(module.connection_params(), log=module.debug_log(), auth=auth))

    store = TokenStore(p["token_store"], p["url"], p["consumer_key"]) if p["token_store"] else None
    data = store.load() if store else {}
    result = {"changed": False, "consumer_key": p["consumer_key"]}
    if store:
        result["token_store"] = p["token_store"]

    if p["verifier"]:
        request_token = p["request_token"] or data.get("request_token")
        if not request_token:
            if data.get("access_token") and not p["force"]:
                # The verifier was spent on the access token the store now holds: nothing to do.
                return _stored_access(data, result)
            raise OptionError("request_token", "with verifier, give the request_token it was issued for (or a "
                                               "token_store that holds it, from the step without verifier)")
        if module.check_mode:
            result.update(changed=True, msg="check mode: would exchange the request token and verifier for an "
                                            "access token")
            return result
        tokens = fetch_access_token(client_for, p, request_token, p["verifier"])
        if store:
            saved = {k: v for k, v in data.items() if not k.startswith("request_token")}
            saved.update(access_token=tokens["access_token"], access_token_secret=tokens["access_token_secret"],
                         access_token_expires_at=int(time.time()) + tokens["expires_in"] if tokens["expires_in"]
                         else None)
            store.save(module, saved)
        result.update(changed=True, source="jira", msg="obtained an access token", **tokens)
        return result

    if p["request_token"]:
        raise OptionError("verifier", "request_token was given without verifier: pass the verification code Jira "
                                      "showed when the request token was approved")
    if data.get("access_token") and not p["force"]:
        return _stored_access(data, result)
    if module.check_mode:
        result.update(changed=True, msg="check mode: would obtain a request token to approve")
        return result
    tokens = fetch_request_token(client_for, p, callback=p["callback"])
    if store:
        saved = dict(data)
        saved.update(request_token=tokens["request_token"], request_token_secret=tokens["request_token_secret"])
        store.save(module, saved)
    result.update(changed=True, msg="obtained a request token: a Jira user must approve authorize_url", **tokens)
    return result


def main():
    module = JiraModule(
        argument_spec=dict(
            verifier=dict(type="str", no_log=True),
            request_token=dict(type="str", no_log=False),
            token_store=dict(type="path"),
            callback=dict(type="str", default="oob"),
            force=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("private_key", "private_key_path")],
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
