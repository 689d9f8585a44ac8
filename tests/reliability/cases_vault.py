"""Bad input for the Vault token store options (any module that takes token_cache) and for credential_info: each
fails before anything is sent, naming the option."""
from __future__ import annotations

from reliability_support import BadInput

APP = {"client_id": "emu-3lo-app-0001", "client_secret": "emu-3lo-secret-0001-do-not-share"}
VAULT = "vault://secret/jira/tokens/ci"


def _3lo(**kw):
    args = {"url": "{url}", "api_url": "{url}", "auth_url": "{url}", "grant_type": "refresh_token",
            "token_cache": VAULT, "vault_url": "http://127.0.0.1:9", "vault_token": "s.planted-0000", **APP}
    args.update(kw)
    return args


def _api(**kw):
    args = {"url": "{url}", "api_url": "{url}", "auth_url": "{url}", "cloud_id": "cloud-x", "path": "/rest/api/3/myself",
            "auth_method": "refresh_token", "token_cache": VAULT, "vault_url": "http://127.0.0.1:9",
            "vault_token": "s.planted-0000", **APP}
    args.update(kw)
    return args


BAD_INPUT = [
    BadInput("vault store without vault_url", "oauth2_token", _3lo(vault_url=None), "vault_url", "VAULT_ADDR"),
    BadInput("vault_url without scheme", "oauth2_token", _3lo(vault_url="vault.example.com:8200"), "vault_url",
             "absolute http"),
    BadInput("vault store without credentials", "oauth2_token", _3lo(vault_token=None), "vault_token",
             "needs Vault credentials"),
    BadInput("AppRole role id without secret id", "oauth2_token", _3lo(vault_token=None, vault_role_id="r-1"),
             "vault_secret_id", "needs both"),
    BadInput("vault location without a path", "oauth2_token", _3lo(token_cache="vault://secret"), "token_cache",
             "not a Vault location"),
    BadInput("vault location with ..", "api", _api(token_cache="vault://secret/../sys"), "token_cache",
             "not a Vault location"),
    BadInput("vault_ca_path missing", "api", _api(vault_ca_path="{tmp}/no-ca.pem"), "vault_ca_path",
             "does not exist"),
    BadInput("credential_info with nothing to report", "credential_info", {}, "token_cache", "nothing to report"),
    BadInput("credential_info negative warn_days", "credential_info", {"token_cache": "{tmp}/t.json",
                                                                       "warn_days": -1}, "warn_days", "0 or more"),
    BadInput("credential_info missing token store file", "credential_info", {"token_cache": "{tmp}/t.json"},
             "token_cache", "does not exist"),
    BadInput("credential_info missing OAuth 1.0a store", "credential_info",
             {"oauth1_token_stores": ["{tmp}/o1.json"]}, "oauth1_token_stores", "does not exist"),
    BadInput("credential_info fail_days not a number", "credential_info",
             {"token_cache": "{tmp}/t.json", "fail_days": "soon"}, "fail_days", ""),
]
