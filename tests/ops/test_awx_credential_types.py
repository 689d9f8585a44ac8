"""The AWX / Automation Platform credential types in extensions/awx/credential_types.

Each definition is checked against the rules AWX applies when a custom credential type is created (inputs schema,
injector schema, templates that only use defined fields), its env injector is rendered the way AWX renders it at
job launch (Jinja sandbox, unset fields render empty), and a real module run (``ansible localhost -m
jiraops.integration.api``) gets ONLY those variables: it must reach the emulator as the expected user.
A type whose options are missing from _options.py fails: the collection no longer reads what AWX injects.
"""
from __future__ import annotations

import base64
import glob
import json
import os
import re
import sys
import uuid
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests
import yaml
from jinja2 import StrictUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

TYPES_DIR = os.path.join(ansible_run.REPO, "extensions", "awx", "credential_types")
FIELD_ID = r"^[a-zA-Z_]+[a-zA-Z0-9_]*$"

# The shape AWX accepts for custom credential types (its CredentialTypeInputField / InjectorField rules).
INPUTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "label"],
                "properties": {
                    "id": {"type": "string", "pattern": FIELD_ID},
                    "label": {"type": "string"},
                    "type": {"enum": ["string", "boolean"]},
                    "format": {"enum": ["ssh_private_key", "url"]},
                    "choices": {"type": "array", "minItems": 1, "items": {"type": "string"}, "uniqueItems": True},
                    "help_text": {"type": "string"},
                    "multiline": {"type": "boolean"},
                    "secret": {"type": "boolean"},
                    "ask_at_runtime": {"type": "boolean"},
                    "default": {},
                },
            },
        },
    },
}
INJECTORS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file": {"type": "object", "additionalProperties": False,
                 "patternProperties": {r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$": {"type": "string"}}},
        "env": {"type": "object", "additionalProperties": False,
                "patternProperties": {FIELD_ID: {"type": "string", "pattern": "^[\x00-\x7F]*$"}}},
        "extra_vars": {"type": "object", "additionalProperties": False,
                       "patternProperties": {FIELD_ID: {"type": "string"}}},
    },
}
TOP_KEYS = {"name", "description", "kind", "inputs", "injectors"}  # what awx.awx.credential_type takes
SECRET_LOOKING = re.compile(r"(password|secret|token|private_key)$")
NOT_SECRET = {"token_cache"}  # a path, not a secret


def load(name):
    with open(os.path.join(TYPES_DIR, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def render_env(ctype, inputs):
    """The env AWX injects at job launch: unset or empty fields are undefined and render as ''."""
    namespace = {k: v for k, v in inputs.items() if v not in (None, "")}
    sandbox = ImmutableSandboxedEnvironment(undefined=Undefined)
    return {var: sandbox.from_string(tmpl).render(**namespace) for var, tmpl in ctype["injectors"]["env"].items()}


def option_env_vars():
    """Environment variable -> option, from the shared option specs (the variables the modules read)."""
    from ansible_collections.jiraops.integration.plugins.module_utils import _options  # pylint: disable=import-outside-toplevel
    out = {}
    for option, spec in _options.connection_argspec().items():
        fallback = spec.get("fallback")
        if fallback:
            for var in fallback[1]:
                out[var] = option
    return out


def absent_options(options):
    """Why a run cannot work (None when it can): an option the credential type feeds is gone from _options.py."""
    from ansible_collections.jiraops.integration.plugins.module_utils import _options  # pylint: disable=import-outside-toplevel
    absent = [o for o in options if o not in _options.connection_argspec()]
    return f"no shared option {', '.join(absent)} in plugins/module_utils/_options.py" if absent else None


FILES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(TYPES_DIR, "*.yml")))


def test_the_five_types_exist():
    assert FILES == ["jira_basic_pat.yml", "jira_cloud_3lo_app.yml", "jira_cloud_3lo_vault.yml",
                     "jira_cloud_oauth_credentials.yml", "jira_datacenter_oauth1.yml"]


@pytest.mark.parametrize("name", FILES)
def test_definition_is_what_awx_accepts(name):
    ctype = load(name)
    assert set(ctype) <= TOP_KEYS and {"name", "kind", "inputs", "injectors"} <= set(ctype)
    assert ctype["kind"] == "cloud"
    jsonschema.validate(ctype["inputs"], INPUTS_SCHEMA)
    jsonschema.validate(ctype["injectors"], INJECTORS_SCHEMA)
    fields = ctype["inputs"]["fields"]
    ids = [f["id"] for f in fields]
    assert len(ids) == len(set(ids)) and "tower" not in ids
    assert set(ctype["inputs"].get("required", [])) <= set(ids)
    for f in fields:
        assert f.get("type", "string") == "string"
        if SECRET_LOOKING.search(f["id"]) and f["id"] not in NOT_SECRET:
            assert f.get("secret") is True, f"{name}: {f['id']} must be secret: true"
        if f["id"] in NOT_SECRET:
            assert not f.get("secret")
    env = ctype["injectors"]["env"]
    # The collection's own JIRA_* variables, and Vault's standard VAULT_* ones for the Vault token store.
    assert all(var.startswith(("JIRA_", "VAULT_")) for var in env), "only JIRA_* and VAULT_* variables"
    # Every template may use only defined fields (AWX renders each with StrictUndefined and 'EXAMPLE' values).
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for var, tmpl in env.items():
        strict.from_string(tmpl).render({i: "EXAMPLE" for i in ids})
        used = set(re.findall(r"{{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*}}", tmpl))
        assert used <= set(ids), f"{var} uses undefined fields {used - set(ids)}"
    injected = {m for tmpl in env.values() for m in re.findall(r"{{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*}}", tmpl)}
    assert injected == set(ids), f"fields never injected: {set(ids) - injected}"
    # Rendering with an unset optional field gives '' (AWX's default Undefined), never an error.
    required = ctype["inputs"].get("required", [])
    rendered = render_env(ctype, {i: "x" for i in required})
    assert set(rendered) == set(env)


# ---------------------------------------------------------------------------------------------------------------
# A real module run with only the injected variables
# ---------------------------------------------------------------------------------------------------------------

def _inputs_basic(emulator, tmp_path):
    return {"url": emulator.url, "username": "alice", "password": "alice-password"}, ("alice", "basic")


def _inputs_pat(emulator, tmp_path):
    return {"url": emulator.url, "token": "alice-pat-0123456789abcdef"}, ("alice", "pat")


def _inputs_2lo(emulator, tmp_path):
    """OAuth credentials made through the OAuth 2.0 emulator feature's control API."""
    secret = "awx-2lo-secret-" + uuid.uuid4().hex
    emulator.control("POST", "/oauth2/clients", json={"kind": "credentials", "client_id": "awx-2lo-client",
                                                      "client_secret": secret})
    cloud_id = emulator.control("GET", "/config")["cloud_id"]
    return ({"url": emulator.url, "client_id": "awx-2lo-client", "client_secret": secret, "cloud_id": cloud_id,
             "api_url": emulator.url, "auth_url": emulator.url}, (None, "oauth2"))


def _inputs_3lo(emulator, tmp_path, store=None, **store_args):
    """A 3LO app, alice's consent on /authorize, the code exchanged at /oauth/token (Atlassian's documented shapes),
    and the token store filled once by the api module with that refresh token; the job then needs only the store."""
    secret = "awx-3lo-secret-" + uuid.uuid4().hex
    redirect = "https://awx.example.com/oauth/callback"
    emulator.control("POST", "/oauth2/clients", json={"kind": "app", "client_id": "awx-3lo-app",
                                                      "client_secret": secret, "redirect_uris": [redirect]})
    resp = requests.post(f"{emulator.url}/authorize", allow_redirects=False, timeout=10, data={
        "audience": "api.atlassian.com", "client_id": "awx-3lo-app", "redirect_uri": redirect,
        "scope": "read:jira-user read:jira-work offline_access", "state": "s-1", "response_type": "code",
        "prompt": "consent", "username": "alice", "password": "alice-password", "decision": "accept"})
    code = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
    tokens = requests.post(f"{emulator.url}/oauth/token", timeout=10, json={
        "grant_type": "authorization_code", "client_id": "awx-3lo-app", "client_secret": secret, "code": code,
        "redirect_uri": redirect}).json()
    store = store or str(tmp_path / "jira-tokens.json")
    cloud_id = emulator.control("GET", "/config")["cloud_id"]
    sys.path.insert(0, os.path.join(ansible_run.HERE, "reliability"))
    from reliability_support import run_module  # pylint: disable=import-outside-toplevel
    seeded = run_module("api", {"auth_method": "refresh_token", "client_id": "awx-3lo-app", "client_secret": secret,
                                "refresh_token": tokens["refresh_token"], "token_cache": store, "cloud_id": cloud_id,
                                "api_url": emulator.url, "auth_url": emulator.url, "path": "/rest/api/3/myself",
                                **store_args})
    assert seeded.ok, seeded.msg
    return ({"client_id": "awx-3lo-app", "client_secret": secret, "token_cache": store, "cloud_id": cloud_id,
             "api_url": emulator.url, "auth_url": emulator.url}, ("alice", "oauth2"))


def _inputs_3lo_vault(emulator, tmp_path, vault=None, approle=True):
    """The same grant, kept in OpenBao (a real dev server) and reached with an AppRole limited to its path."""
    inputs, expected = _inputs_3lo(emulator, tmp_path, store=vault.location, vault_url=vault.url,
                                   vault_token=vault.root_token)
    inputs.update(token_cache=vault.location, vault_url=vault.url)
    if approle:
        inputs["vault_role_id"], inputs["vault_secret_id"] = vault.approle(["secret/data/jira/tests/*"])
    else:
        inputs["vault_token"] = vault.token_for(["secret/data/jira/tests/*"])
    return inputs, expected


_inputs_3lo_vault.needs_vault = True


def _inputs_3lo_vault_token(emulator, tmp_path, vault=None):
    return _inputs_3lo_vault(emulator, tmp_path, vault, approle=False)


_inputs_3lo_vault_token.needs_vault = True


def _inputs_oauth1(emulator, tmp_path):
    """An application link with an incoming consumer (Jira's REST API, as admin) and alice's access token from an
    independent requests-oauthlib dance approved through the OAuth 1.0a emulator feature."""
    from oauthlib.oauth1 import SIGNATURE_RSA  # pylint: disable=import-outside-toplevel
    from requests_oauthlib import OAuth1Session  # pylint: disable=import-outside-toplevel
    from ansible_collections.jiraops.integration.plugins.module_utils import _keys  # pylint: disable=import-outside-toplevel
    key = _keys.generate_private_key(2048)
    pem = _keys.private_key_pem(key).decode()
    xsrf = {"X-Atlassian-Token": "no-check", "Accept": "application/json"}
    resp = requests.put(f"{emulator.url}/rest/applinks/3.0/applicationlink", auth=("admin", "admin"), headers=xsrf,
                        timeout=10, json={"id": None, "name": "AWX", "rpcUrl": "https://awx.example.com",
                                          "displayUrl": "https://awx.example.com", "typeId": "generic"})
    link_id = resp.json()["resources-created"][0]["href"].rsplit("/", 1)[1]
    requests.put(f"{emulator.url}/rest/applinks-oauth/1.0/applicationlink/{link_id}/authentication/consumer",
                 auth=("admin", "admin"), headers=xsrf, timeout=10,
                 json={"key": "awx-consumer", "name": "AWX", "description": "", "sharedSecret": None,
                       "publicKey": _keys.public_key_oneline(key), "outgoing": False, "twoLOAllowed": False})
    session = OAuth1Session("awx-consumer", signature_method=SIGNATURE_RSA, rsa_key=pem, callback_uri="oob")
    request_token = session.fetch_request_token(f"{emulator.url}/plugins/servlet/oauth/request-token")
    approval = {"oauth_token": request_token["oauth_token"], "user": "alice", "approve": True}
    verifier = emulator.control("POST", "/oauth1/approve", json=approval)["verifier"]
    session = OAuth1Session("awx-consumer", signature_method=SIGNATURE_RSA, rsa_key=pem,
                            resource_owner_key=request_token["oauth_token"], verifier=verifier)
    access = session.fetch_access_token(f"{emulator.url}/plugins/servlet/oauth/access-token")
    return ({"url": emulator.url, "consumer_key": "awx-consumer", "private_key": pem,
             "access_token": access["oauth_token"]}, ("alice", "oauth1"))


RUNS = [
    # credential type file, case, inputs builder, options that must exist (else the run fails)
    ("jira_basic_pat.yml", "basic auth", _inputs_basic, ()),
    ("jira_basic_pat.yml", "personal access token", _inputs_pat, ()),
    ("jira_cloud_oauth_credentials.yml", "2LO client credentials", _inputs_2lo, ("client_id", "client_secret")),
    ("jira_cloud_3lo_app.yml", "3LO refresh token from the store", _inputs_3lo, ("client_id", "token_cache")),
    ("jira_cloud_3lo_vault.yml", "3LO from the Vault store, AppRole", _inputs_3lo_vault,
     ("token_cache", "vault_url", "vault_role_id", "vault_secret_id")),
    ("jira_cloud_3lo_vault.yml", "3LO from the Vault store, Vault token", _inputs_3lo_vault_token,
     ("token_cache", "vault_url", "vault_token")),
    ("jira_datacenter_oauth1.yml", "OAuth 1.0a signed", _inputs_oauth1, ("consumer_key", "private_key",
                                                                         "access_token")),
]


@pytest.mark.parametrize("name, case, build, options", RUNS, ids=[f"{r[0]}: {r[1]}" for r in RUNS])
def test_module_runs_with_only_the_injected_variables(name, case, build, options, emulator, tmp_path, request):
    reason = absent_options(options)
    if reason:
        pytest.fail(reason)
    ctype = load(name)
    extra = {"vault": request.getfixturevalue("vault")} if getattr(build, "needs_vault", False) else {}
    inputs, (user, via) = build(emulator, tmp_path, **extra)
    env_from_awx = render_env(ctype, inputs)
    known = option_env_vars()
    assert set(env_from_awx) <= set(known), f"variables no option reads: {set(env_from_awx) - set(known)}"
    home = str(tmp_path / "home")
    os.makedirs(home)
    inventory = ansible_run.localhost_inventory(str(tmp_path / "inventory.yml"))
    env = ansible_run.base_env(home, env_from_awx)
    assert {k for k in env if k.startswith(("JIRA_", "VAULT_"))} == set(env_from_awx)
    proc = ansible_run.run([ansible_run.tool("ansible"), "localhost", "-i", inventory, "-o",
                            "-m", "jiraops.integration.api", "-a", "path=/rest/api/2/myself"], env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and " | SUCCESS => " in proc.stdout, out[-3000:]
    result = json.loads(proc.stdout.split(" | SUCCESS => ", 1)[1])
    assert result["status"] == 200 and result["json"]["authenticatedVia"] == via
    if user:
        assert result["json"]["name"] == user
    for field in ctype["inputs"]["fields"]:
        value = inputs.get(field["id"])
        if field.get("secret") and value:
            for variant in (value, base64.b64encode(value.encode()).decode()):
                assert variant not in out, f"{field['id']} appears in the output"
