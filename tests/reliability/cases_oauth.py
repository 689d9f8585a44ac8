"""Reliability fault targets for the modules that set up or use OAuth: applink, cloud_id, credential_info,
oauth1_token, oauth2_client, oauth2_token. What is stored is read back through the emulator's control API
(``/_emulator/applinks``, ``/_emulator/oauth1/tokens``, ``/_emulator/oauth2/clients``)."""
from __future__ import annotations

import functools
import hashlib

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reliability_support import BadInput, FaultTarget, run_module

CC = {"client_id": "emu-2lo-client-0001", "client_secret": "emu-2lo-secret-0001-do-not-share"}
ADMIN_PAT = "admin-pat-0123456789abcdef"
XSRF = {"X-Atlassian-Token": "no-check", "Accept": "application/json"}
REDIRECT = "https://ci.example.com/oauth/callback"


@functools.lru_cache(maxsize=None)
def keypair():
    """(private PEM, public PEM) of one 2048-bit RSA key for the whole session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _slug(item):
    return "rel-" + hashlib.sha1(item.encode()).hexdigest()[:10]


def _base(ctx, extra, **kw):
    args = {"url": ctx.url, "api_url": ctx.url, "auth_url": ctx.url, "retry_budget": 10, "timeout": 5}
    args.update(kw)
    args.update(extra)
    return args


# -- cloud_id: GET /_edge/tenant_info (a read, no credentials) ---------------------------------------------------------
def _send_cloud_id(ctx, items, extra):
    return [run_module("cloud_id", _base(ctx, extra, source="tenant_info")) for _item in items]


def _check_cloud_id(_ctx, outcome):
    return None if outcome.result.get("cloud_id") else f"no cloud_id in {outcome.result!r}"


# -- credential_info: GET /rest/pat/latest/tokens (a read of the caller's PATs as Jira lists them) -------------------
def _send_credential_info(ctx, items, extra):
    return [run_module("credential_info", _base(ctx, extra, token=ADMIN_PAT, pat_names=["admin seed token"]))
            for _item in items]


def _check_credential_info(_ctx, outcome):
    names = [c.get("name") for c in outcome.result.get("credentials") or []]
    return None if names == ["admin seed token"] else f"no PAT facts in {outcome.result!r}"


# -- oauth2_token: POST /oauth/token (client_credentials; minting is not replayed after a lost reply) -----------------
def _send_oauth2_token(ctx, items, extra):
    return [run_module("oauth2_token", _base(ctx, extra, grant_type="client_credentials", **CC)) for _item in items]


def _check_token(_ctx, outcome):
    return None if outcome.result.get("access_token") else "no access_token returned"


# -- oauth2_client: POST /rest/oauth2/latest/client (create a Data Center client named after the item) ----------------
def _send_oauth2_client(ctx, items, extra):
    return [run_module("oauth2_client", _base(ctx, extra, token=ADMIN_PAT, name=item, redirect_uris=[REDIRECT],
                                              scope="WRITE")) for item in items]


def _stored_oauth2_clients(ctx, items):
    names = [c["name"] for c in ctx.emulator.control("GET", "/oauth2/clients")["datacenter"]]
    return [names.count(item) for item in items]


# -- applink: PUT /rest/applinks/3.0/applicationlink (creates a link: not idempotent although it is a PUT) -----------
def _send_applink(ctx, items, extra):
    public = keypair()[1]
    return [run_module("applink", _base(ctx, extra, username="admin", password="admin", name=item,
                                        application_url=f"https://{_slug(item)}.example.com",
                                        consumer_key=_slug(item), public_key=public)) for item in items]


def _stored_applinks(ctx, items):
    links = ctx.emulator.control("GET", "/applinks")["applinks"]
    names = [link["name"] for link in links]
    return [names.count(item) for item in items]


def _check_applink(ctx, outcome):
    """A run reported done left its link with the incoming consumer on the server."""
    name = (outcome.result.get("applink") or {}).get("name")
    links = [link for link in ctx.emulator.control("GET", "/applinks")["applinks"] if link["name"] == name]
    if len(links) != 1 or not links[0]["consumer"] or links[0]["consumer"]["key"] != _slug(name):
        return f"link {name!r} without its consumer on the server: {links!r}"
    return None


# -- oauth1_token: POST /plugins/servlet/oauth/request-token (step 1 of the dance, signed by the consumer) -----------
def _link(url):
    """An application link with the incoming consumer ``jiraops``, made as an admin script would."""
    resp = requests.put(f"{url}/rest/applinks/3.0/applicationlink", auth=("admin", "admin"), headers=XSRF,
                        timeout=10, json={"id": None, "name": "Ansible", "rpcUrl": "https://ansible.example.com",
                                          "displayUrl": "https://ansible.example.com", "typeId": "generic"})
    resp.raise_for_status()
    link_id = resp.json()["resources-created"][0]["href"].rsplit("/", 1)[1]
    public = "".join(line for line in keypair()[1].splitlines() if "-----" not in line)
    resp = requests.put(f"{url}/rest/applinks-oauth/1.0/applicationlink/{link_id}/authentication/consumer",
                        auth=("admin", "admin"), headers=XSRF, timeout=10,
                        json={"key": "jiraops", "name": "Ansible", "description": "", "sharedSecret": None,
                              "publicKey": public, "outgoing": False, "twoLOAllowed": False})
    resp.raise_for_status()


def _send_oauth1_token(ctx, items, extra):
    _link(ctx.url)
    key_path = ctx.write("jira_privatekey.pem", keypair()[0], 0o600)
    # the emulator's log is cleared so that only the module's requests count as attempts
    ctx.emulator.control("DELETE", "/requests")
    return [run_module("oauth1_token", _base(ctx, extra, consumer_key="jiraops", private_key_path=key_path,
                                             callback=f"https://ci.example.com/cb/{_slug(item)}"))
            for item in items]


def _stored_request_tokens(ctx, items):
    tokens = ctx.emulator.control("GET", "/oauth1/tokens")["request_tokens"]
    callbacks = [t.get("callback") for t in tokens]
    return [callbacks.count(f"https://ci.example.com/cb/{_slug(item)}") for item in items]


AUTH_401 = {"401 in the middle of a batch of 3": {"match": "refused the client credentials"}}

FAULT_TARGETS = [
    FaultTarget("applink PUT applicationlink", "applink", "/rest/applinks/3.0/applicationlink", "PUT",
                send=_send_applink, stored=_stored_applinks, check=_check_applink, idempotent=False),
    FaultTarget("cloud_id GET tenant_info", "cloud_id", "/_edge/tenant_info", "GET", send=_send_cloud_id,
                check=_check_cloud_id),
    FaultTarget("credential_info GET PATs", "credential_info", "/rest/pat/latest/tokens", "GET",
                send=_send_credential_info, check=_check_credential_info),
    FaultTarget("oauth1_token POST request-token", "oauth1_token", "/plugins/servlet/oauth/request-token", "POST",
                send=_send_oauth1_token, stored=_stored_request_tokens, idempotent=False),
    FaultTarget("oauth2_client POST client", "oauth2_client", "/rest/oauth2/latest/client", "POST",
                send=_send_oauth2_client, stored=_stored_oauth2_clients, idempotent=False),
    FaultTarget("oauth2_token POST /oauth/token", "oauth2_token", "/oauth/token", "POST", send=_send_oauth2_token,
                check=_check_token, idempotent=False, overrides=AUTH_401),
]


# ---------------------------------------------------------------------------------------------------------------------
# Bad input for the OAuth modules and applink: nothing sent, no file changed.
# ---------------------------------------------------------------------------------------------------------------------
def _cc(**kw):
    args = {"url": "{url}", "api_url": "{url}", "auth_url": "{url}", "grant_type": "client_credentials",
            "retry_budget": 5}
    args.update(CC)
    args.update(kw)
    return args


def _o1(**kw):
    args = {"url": "{url}", "consumer_key": "jiraops", "private_key_path": "{tmp}/key.pem", "retry_budget": 5}
    args.update(kw)
    return args


def _link_args(**kw):
    args = {"url": "{url}", "username": "admin", "password": "admin", "name": "Ansible",
            "application_url": "https://ansible.example.com", "consumer_key": "jiraops",
            "public_key": "{tmp}/pub.pem", "retry_budget": 5}
    args.update(kw)
    return args


def _dc_client(**kw):
    args = {"url": "{url}", "token": ADMIN_PAT, "name": "CI server", "redirect_uris": [REDIRECT], "scope": "WRITE",
            "retry_budget": 5}
    args.update(kw)
    return args


def _file(name, data, mode=0o600):
    def setup(ctx):
        ctx.write(name, data() if callable(data) else data, mode)
    return setup


def _key(ctx):
    ctx.write("key.pem", keypair()[0], 0o600)


def _pub(ctx):
    ctx.write("pub.pem", keypair()[1], 0o644)


def _ec_public():
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _token_cache_0644(ctx):
    ctx.write("tokens.json", '{"version": 1, "entries": {}}\n', 0o644)


BAD_INPUT = [
    # oauth2_token
    BadInput("authorization_code with code but no redirect_uri", "oauth2_token",
             _cc(grant_type="authorization_code", code="abc123", state="s1"), "redirect_uri", "required"),
    BadInput("refresh_token grant without a refresh token", "oauth2_token", _cc(grant_type="refresh_token"),
             "refresh_token", "needs refresh_token"),
    BadInput("client_credentials without client_secret", "oauth2_token",
             {k: v for k, v in _cc().items() if k != "client_secret"}, "client_secret", "needs the client secret"),
    BadInput("unknown grant_type", "oauth2_token", _cc(grant_type="password"), "grant_type", "password"),
    BadInput("token_cache is corrupt JSON", "oauth2_token", _cc(token_cache="{tmp}/tokens.json"), "token_cache",
             "", setup=_file("tokens.json", "{not json")),
    BadInput("token_cache has mode 0644", "oauth2_token", _cc(token_cache="{tmp}/tokens.json"), "token_cache",
             "0644", setup=_token_cache_0644),
    BadInput("token_cache in a missing directory", "oauth2_token", _cc(token_cache="{tmp}/nope/tokens.json"),
             "token_cache", "does not exist"),
    BadInput("auth_url without scheme", "oauth2_token", _cc(auth_url="auth.atlassian.com"), "auth_url",
             "absolute http"),
    # oauth2_client
    BadInput("redirect_uris without scheme", "oauth2_client", _dc_client(redirect_uris=["ci.example.com/cb"]),
             "redirect_uris", "absolute http"),
    BadInput("unknown scope", "oauth2_client", _dc_client(scope="OWNER"), "scope", "OWNER"),
    BadInput("missing required name", "oauth2_client", {k: v for k, v in _dc_client().items() if k != "name"},
             "name", "required"),
    # oauth1_token
    BadInput("private_key_path missing", "oauth1_token", _o1(private_key_path="{tmp}/missing.pem"),
             "private_key_path", "does not exist"),
    BadInput("private_key_path unreadable (mode 0000)", "oauth1_token", _o1(), "private_key_path", "cannot read",
             setup=_file("key.pem", lambda: keypair()[0], 0o000), needs_non_root=True),
    BadInput("private_key is not PEM", "oauth1_token",
             {k: v for k, v in _o1(private_key="-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"
                                   ).items() if k != "private_key_path"}, "private_key", ""),
    BadInput("private_key and private_key_path both", "oauth1_token", _o1(private_key=keypair()[0]),
             "private_key", "", setup=_key),
    BadInput("token_store is corrupt JSON", "oauth1_token", _o1(token_store="{tmp}/store.json"), "token_store",
             "not valid JSON", setup=lambda ctx: (_key(ctx), ctx.write("store.json", "{oops", 0o600))),
    BadInput("token_store has mode 0644", "oauth1_token", _o1(token_store="{tmp}/store.json"), "token_store",
             "0644", setup=lambda ctx: (_key(ctx), ctx.write("store.json", "{}", 0o644))),
    BadInput("verifier without request_token", "oauth1_token", _o1(verifier="123456"), "request_token", "",
             setup=_key),
    # applink
    BadInput("public_key is not PEM", "applink", _link_args(public_key="-----BEGIN PUBLIC KEY-----\nzz\n"
                                                            "-----END PUBLIC KEY-----\n"), "public_key", ""),
    BadInput("public_key is an EC key (wrong key type)", "applink", _link_args(), "public_key", "RSA",
             setup=_file("pub.pem", _ec_public)),
    BadInput("public_key file not UTF-8", "applink", _link_args(), "public_key", "",
             setup=_file("pub.pem", bytes(range(128, 256)) * 4)),
    BadInput("application_url without scheme", "applink", _link_args(application_url="ansible.example.com"),
             "application_url", "absolute http", setup=_pub),
    BadInput("missing required name", "applink", {k: v for k, v in _link_args().items() if k != "name"}, "name",
             "required", setup=_pub),
    BadInput("unknown state", "applink", _link_args(state="gone"), "state", "gone", setup=_pub),
    # conflicting auth options (auth_method=auto must not guess); the api module stands for every Jira module
    BadInput("conflicting auth: consumer_key and username", "api",
             {"url": "{url}", "path": "/rest/api/2/myself", "consumer_key": "jiraops",
              "private_key_path": "{tmp}/key.pem", "access_token": "tok", "username": "alice",
              "password": "alice-password"}, "auth_method", "cannot choose", setup=_key),
    BadInput("conflicting auth: client_id and token", "api",
             {"url": "{url}", "api_url": "{url}", "auth_url": "{url}", "path": "/rest/api/2/myself",
              "client_id": CC["client_id"], "client_secret": CC["client_secret"],
              "token": "alice-pat-0123456789abcdef"}, "auth_method", "cannot choose"),
    # cloud_id
    BadInput("url without scheme", "cloud_id", {"url": "example.atlassian.net", "source": "tenant_info"}, "url",
             "absolute http"),
    BadInput("unknown source", "cloud_id", {"url": "{url}", "source": "dns"}, "source", "dns"),
]
