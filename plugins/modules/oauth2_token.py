#!/usr/bin/python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: oauth2_token
short_description: Obtain OAuth 2.0 access tokens for Jira Cloud or Jira Data Center
version_added: 0.1.0
description:
  - Obtains an OAuth 2.0 access token with client credentials (2LO, Jira Cloud OAuth credentials or a Data
    Center service account's client), with an authorization code (3LO, a user approves the app), or with a
    refresh token.
  - On Data Center, client credentials exist only for service accounts (Jira 10.x and later,
    C(POST {url}/rest/oauth2/latest/token), no refresh token); the incoming-link clients of Jira 8.22 to 10
    (M(jiraops.integration.oauth2_client)) have the authorization code grant only, and Jira answers
    C(unsupported_grant_type) to their client-credentials requests.
  - For O(grant_type=authorization_code) without O(code) it only builds the URL the user must open, with a
    fresh random O(state) (and PKCE values for Data Center), and changes nothing. With O(code) it checks the
    state and exchanges the code for tokens.
  - With O(token_cache) the tokens are kept in a shared store (see O(token_cache)). A cached access token with
    more than O(min_ttl) seconds left is returned without any request, an expiring one is replaced, and a rotated
    refresh token is written to the store before the module returns.
  - Other modules of the collection obtain tokens themselves (O(auth_method=client_credentials) or
    V(refresh_token)); use this module to hand a token to other tools, or to run the authorization code flow
    (the role P(jiraops.integration.oauth2_authorize#role) wraps it).
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
      - A cached token with more than O(min_ttl) seconds left is returned as in a normal run.
      - No token is requested and no code is exchanged in check mode (a refresh would rotate the refresh token);
        the module reports C(changed=true) and returns no token when it would have requested one.
      - Building the authorize URL works the same in check mode; with O(keep_pending=true) the store is checked but
        nothing is kept in it (the module reports C(changed=true)).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  grant_type:
    description:
      - V(client_credentials) uses O(client_id) and O(client_secret) only.
      - V(authorization_code) builds the authorize URL (without O(code)) or exchanges O(code).
      - V(refresh_token) refreshes the user's grant held in O(token_cache) or given as O(refresh_token).
    type: str
    default: client_credentials
    choices: [client_credentials, authorization_code, refresh_token]
  scopes:
    description:
      - Scopes to request.
      - For V(authorization_code) with O(provider=cloud), the 3LO scopes of the app, for example
        V(read:jira-work), V(write:jira-work), V(read:jira-user); add V(offline_access) to receive a refresh
        token.
      - For O(provider=datacenter), exactly one of V(READ), V(WRITE), V(ADMIN), V(SYSTEM_ADMIN).
      - For V(client_credentials), optional, a subset of the credentials' scopes.
    type: list
    elements: str
  redirect_uri:
    description:
      - The callback URL registered for the app. Required for V(authorization_code); the exchange must send the
        same value as the authorize URL.
    type: str
  code:
    description:
      - The authorization code, or better the whole URL the browser was redirected to
        (C(https://app.example.com/callback?code=...&state=...)). Then its C(state) is checked against O(state)
        and an error redirect (for example the user pressed Deny) is reported clearly.
      - Codes work once and expire after a few minutes.
    type: str
  state:
    description:
      - Without O(code), the state to put in the authorize URL; a random one is generated when omitted.
      - With O(code), the state returned by the first step; it must equal the C(state) of the redirect URL. When
        omitted, the state a first step with O(keep_pending=true) kept in O(token_cache) is used.
    type: str
  code_verifier:
    description:
      - PKCE code verifier returned by the first step (O(provider=datacenter)); sent with the code exchange. When
        omitted, the one a first step with O(keep_pending=true) kept in O(token_cache) is sent.
    type: str
  keep_pending:
    description:
      - For the first step of V(authorization_code) (no O(code)), keep the RV(state) and, for Data Center, the
        RV(code_verifier) in O(token_cache) until a later run exchanges the code, so that run needs neither
        O(state) nor O(code_verifier). Requires O(token_cache).
      - The request is kept as an entry of the token store, under the store's rules (0600, written atomically
        under its lock, never through a symbolic link to a missing file, refused when another user owns the store
        or the link). A new first step of the same client replaces it; a successful exchange removes it, a failed
        one keeps it for another try.
    type: bool
    default: false
notes:
  - The module returns secrets by name (RV(access_token), RV(refresh_token), RV(code_verifier)); use
    C(no_log=true) on the task, as in the examples. Secret options are never shown.
  - Jira Cloud accepts OAuth 2.0 access tokens only through C({api_url}/ex/jira/{cloud_id}); find the cloud id
    with M(jiraops.integration.cloud_id).
  - Jira Data Center is an OAuth 2.0 provider from version 8.22 (incoming links, M(jiraops.integration.oauth2_client)).
  - A token reply without C(scope) is taken to grant the scopes requested (or, for a refresh, the grant's scopes),
    as RFC 6749 allows; a refresh reply without C(refresh_token) keeps the one that was used. Such tokens are
    cached and reused like any other.
  - >-
    Atlassian ends a 3LO grant when its refresh token is not used for 90 days, and 365 days after the user's
    consent at the latest, however often the token rotated. The consent time is recorded in O(token_cache) with
    the code exchange and kept across rotations; RV(grant_expires_at) is the earlier of the two limits, and the
    module warns when it is 30 days away or less. The user must then authorize again.
seealso:
  - module: jiraops.integration.cloud_id
  - module: jiraops.integration.oauth2_client
  - name: OAuth 2.0 (3LO) apps
    description: Atlassian's guide to the authorization code grant and rotating refresh tokens.
    link: https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/
  - name: Jira OAuth 2.0 provider API
    description: Jira Data Center's OAuth 2.0 authorization server.
    link: https://confluence.atlassian.com/adminjiraserver/jira-oauth-2-0-provider-api-1115659070.html
"""

EXAMPLES = r"""
- name: Client credentials (Jira Software Cloud OAuth credentials), cached for the whole play
  jiraops.integration.oauth2_token:
    client_id: "{{ jira_client_id }}"
    client_secret: "{{ vault_jira_client_secret }}"
    token_cache: /var/lib/awx/projects/jira/tokens.json
  register: cc
  no_log: true

- name: First step of 3LO, build the URL the user opens
  jiraops.integration.oauth2_token:
    grant_type: authorization_code
    client_id: "{{ jira_app_client_id }}"
    redirect_uri: https://ci.example.com/oauth/callback
    scopes: [read:jira-work, write:jira-work, read:jira-user, offline_access]
  register: start

- name: Second step, exchange the code from the URL the browser landed on and keep the tokens
  jiraops.integration.oauth2_token:
    grant_type: authorization_code
    client_id: "{{ jira_app_client_id }}"
    client_secret: "{{ vault_jira_app_client_secret }}"
    redirect_uri: https://ci.example.com/oauth/callback
    code: "{{ redirect_url }}"
    state: "{{ start.state }}"
    token_cache: ~/.jiraops/tokens.json
  no_log: true

- name: A valid access token from the user's grant (refreshed and rotated when it is about to expire)
  jiraops.integration.oauth2_token:
    grant_type: refresh_token
    client_id: "{{ jira_app_client_id }}"
    client_secret: "{{ vault_jira_app_client_secret }}"
    token_cache: ~/.jiraops/tokens.json
    min_ttl: 300
  register: user_token
  no_log: true

- name: Data Center with PKCE in two runs, first run; the state and verifier wait in the token store
  jiraops.integration.oauth2_token:
    provider: datacenter
    url: https://jira.example.com
    grant_type: authorization_code
    client_id: "{{ dc_client_id }}"
    redirect_uri: https://ci.example.com/oauth/callback
    scopes: [WRITE]
    token_cache: ~/.jiraops/tokens.json
    keep_pending: true
  register: dc_start
  no_log: true  # the result holds the PKCE code_verifier

- name: Second run, after the user approved; state and code_verifier come from the token store
  jiraops.integration.oauth2_token:
    provider: datacenter
    url: https://jira.example.com
    grant_type: authorization_code
    client_id: "{{ dc_client_id }}"
    client_secret: "{{ vault_dc_client_secret }}"
    redirect_uri: https://ci.example.com/oauth/callback
    code: "{{ redirect_url }}"
    token_cache: ~/.jiraops/tokens.json
  no_log: true
"""

RETURN = r"""
access_token:
  description: The access token. A secret returned by name; use C(no_log) on the task.
  returned: when a token was obtained or a valid one was cached
  type: str
token_type:
  description: Token type, C(Bearer).
  returned: when RV(access_token) is returned
  type: str
  sample: Bearer
expires_at:
  description: When the access token expires, in seconds since the epoch (UTC).
  returned: when RV(access_token) is returned
  type: int
  sample: 1767225600
expires_in:
  description: Seconds of validity the access token has left.
  returned: when RV(access_token) is returned
  type: int
  sample: 899
scopes:
  description: Scopes the access token grants.
  returned: when RV(access_token) is returned
  type: list
  elements: str
  sample: [read:jira-work, write:jira-work]
refresh_token:
  description:
    - The refresh token the server issued with this reply (authorization code exchange with V(offline_access),
      or a refresh, which rotates it). A secret returned by name.
    - Without O(token_cache) this is the only copy of the new refresh token; the previous one no longer works.
  returned: when one was issued by this run
  type: str
grant_expires_at:
  description:
    - When the user's grant stops working at the latest, in seconds since the epoch (UTC); the earlier of the
      last use of the refresh token + 90 days and the consent + 365 days.
    - Only the 90-day limit is known for a grant that did not start with this collection's code exchange (a
      O(refresh_token) given as an option), since its consent time is not recorded.
  returned: for a user's grant (V(authorization_code) exchange, V(refresh_token)) with O(provider=cloud)
  type: int
  sample: 1775001600
cached:
  description: Whether RV(access_token) came from O(token_cache) without a request.
  returned: when RV(access_token) is returned
  type: bool
  sample: false
authorize_url:
  description: The URL the user opens to approve the app (first step of V(authorization_code)).
  returned: when O(grant_type=authorization_code) and no O(code)
  type: str
  sample: https://auth.atlassian.com/authorize?audience=api.atlassian.com&client_id=...&state=...
state:
  description: The state in RV(authorize_url); pass it as O(state) with the code.
  returned: when O(grant_type=authorization_code) and no O(code)
  type: str
code_verifier:
  description: PKCE code verifier to pass with the code (Data Center). A secret returned by name.
  returned: when O(grant_type=authorization_code), no O(code) and O(provider=datacenter)
  type: str
code_challenge:
  description: The PKCE code challenge in RV(authorize_url).
  returned: when O(grant_type=authorization_code), no O(code) and O(provider=datacenter)
  type: str
code_challenge_method:
  description: The PKCE method, C(S256).
  returned: when O(grant_type=authorization_code), no O(code) and O(provider=datacenter)
  type: str
  sample: S256
"""

import time

from ansible_collections.jiraops.integration.plugins.module_utils._auth import NoAuth
from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModule
from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client
from ansible_collections.jiraops.integration.plugins.module_utils._oauth2 import (
    DC_SCOPES,
    GRANT_WARN_BEFORE,
    KIND_CLIENT,
    KIND_USER,
    PendingAuthorization,
    TokenEndpoint,
    TokenSource,
    authorize_url,
    new_pkce,
    new_state,
    parse_callback,
)
from ansible_collections.jiraops.integration.plugins.module_utils._token_store_vault import open_token_store


def _require(params, *names, why):
    for name in names:
        if params.get(name) in (None, "", []):
            raise OptionError(name, f"required {why}")


def _check_scopes(params):
    scopes = params.get("scopes") or []
    if params["provider"] == "datacenter" and (len(scopes) != 1 or scopes[0] not in DC_SCOPES):
        raise OptionError("scopes", f"provider=datacenter takes exactly one of {', '.join(DC_SCOPES)}, got {scopes}")
    return scopes


def start_authorization(module, client, store):
    p = module.params
    _require(p, "client_id", "redirect_uri", "scopes", why="to build the authorize URL")
    scopes = _check_scopes(p)
    state = p["state"] or new_state()
    result = {"changed": False, "state": state}
    challenge = verifier = None
    if p["provider"] == "datacenter":
        verifier, challenge = new_pkce()
        result.update(code_verifier=verifier, code_challenge=challenge, code_challenge_method="S256")
    result["authorize_url"] = authorize_url(client, p["provider"], p["client_id"], p["redirect_uri"], scopes, state,
                                            code_challenge=challenge, audience=p["audience"])
    if p["keep_pending"]:
        pending = PendingAuthorization(store, client, p["provider"], p["client_id"])
        if not module.check_mode:
            pending.keep(state, verifier)
        result["changed"] = True
    return result


def exchange_code(module, client, endpoint, store):
    p = module.params
    _require(p, "client_secret", "redirect_uri", why="to exchange the authorization code")
    pending = PendingAuthorization(store, client, p["provider"], p["client_id"]) if store else None
    kept_state, kept_verifier = pending.get() if pending else (None, None)
    if kept_verifier:
        module.no_log_values.add(kept_verifier)
    code, checked = parse_callback(p["code"], p["state"] or kept_state)
    if not checked:
        module.warn("state was not checked: pass the whole redirect URL as code so that its state is compared "
                    "with the state of the authorization request")
    if module.check_mode:
        return {"changed": True, "msg": "check mode: would exchange the authorization code (codes work once)"}
    token = endpoint.request("authorization_code", code=code, redirect_uri=p["redirect_uri"],
                             code_verifier=p["code_verifier"] or kept_verifier)
    TokenSource(endpoint, KIND_USER, store=store, min_ttl=p["min_ttl"]).start_chain(token)
    if pending:
        pending.forget()
    result = dict(token.result(), changed=True, cached=False)
    if token.refresh_token:
        result["refresh_token"] = token.refresh_token
        report_grant_expiry(module, token, result)
    elif p["provider"] == "cloud":
        module.warn("no refresh token was issued: add the offline_access scope to keep access beyond "
                    f"{result['expires_in']}s")
    return result


def report_grant_expiry(module, token, result):
    """Atlassian ends a 3LO grant 90 days after its last use or 365 days after the consent: say when, and warn."""
    if module.params["provider"] != "cloud":
        return
    ends = token.grant_expires_at()
    result["grant_expires_at"] = int(ends)
    left = ends - time.time()
    if left <= GRANT_WARN_BEFORE:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ends))
        days = max(0, left) / 86400
        module.warn(f"the user's grant for client {module.params['client_id']} ends by {when} (in {days:.0f} days): "
                    "Atlassian's refresh tokens stop working 365 days after the user's consent, or after 90 days "
                    "unused; have the user authorize again before then (role jiraops.integration.oauth2_authorize)")


def get_token(module, endpoint, store):
    p = module.params
    kind = KIND_CLIENT if p["grant_type"] == "client_credentials" else KIND_USER
    if kind == KIND_USER and not p["refresh_token"] and store is None:
        raise OptionError("refresh_token", "grant_type=refresh_token needs refresh_token or a token_cache holding "
                                           "the user's grant")
    source = TokenSource(endpoint, kind, store=store, min_ttl=p["min_ttl"], refresh_token=p["refresh_token"],
                         scopes=p["scopes"], warn=module.warn)
    if module.check_mode:
        token = source.cached()
        if token is None:
            return {"changed": True, "msg": "check mode: would request a new access token"}
        return dict(token.result(), changed=False, cached=True)
    token, obtained = source.get()
    result = dict(token.result(), changed=obtained, cached=not obtained)
    if kind == KIND_USER:
        report_grant_expiry(module, token, result)
    if obtained and kind == KIND_USER:
        result["refresh_token"] = token.refresh_token
        if store is None:
            module.warn("the refresh token rotated and no token_cache is set: keep the new refresh_token from this "
                        "result, the one given no longer works")
    return result


def run(module):
    p = module.params
    # Token requests authenticate with the client credentials in the body, not with an auth method.
    client = module.use_client(build_client(module.connection_params(), log=module.debug_log(), auth=NoAuth(p)))
    for name in ("client_secret", "refresh_token", "code_verifier"):
        client.redactor.add(p.get(name))
    starting = p["grant_type"] == "authorization_code" and not p["code"]
    if p["keep_pending"] and not starting:
        raise OptionError("keep_pending", "only applies to the first step of grant_type=authorization_code (without "
                                          "code); the exchange uses what it kept without it")
    if p["keep_pending"] and not p["token_cache"]:
        raise OptionError("keep_pending", "needs token_cache, the store that keeps the state and code verifier "
                                          "until the code is exchanged (or set JIRA_TOKEN_CACHE)")
    # Resolved (links and owners checked) before anything is sent or written, in check mode too; the first step
    # of the authorization code flow touches the store only to keep its request.
    use_store = p["token_cache"] and (p["keep_pending"] or not starting)
    store = open_token_store(p, module=module) if use_store else None
    if starting:
        return start_authorization(module, client, store)
    endpoint = TokenEndpoint(client, p["provider"], p["client_id"], p["client_secret"], p["audience"])
    if p["grant_type"] == "authorization_code":
        return exchange_code(module, client, endpoint, store)
    return get_token(module, endpoint, store)


def main():
    module = JiraModule(
        argument_spec=dict(
            grant_type=dict(type="str", default="client_credentials",
                            choices=["client_credentials", "authorization_code", "refresh_token"]),
            scopes=dict(type="list", elements="str"),
            redirect_uri=dict(type="str"),
            code=dict(type="str", no_log=True),
            state=dict(type="str", no_log=False),
            code_verifier=dict(type="str", no_log=True),
            keep_pending=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
