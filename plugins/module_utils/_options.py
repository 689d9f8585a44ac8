# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared connection and auth options, and the one way to turn them into a client.

Modules (through JiraModule) and lookup plugins both use this, so an option behaves the same everywhere.
"""
from __future__ import annotations

import os

from ansible.module_utils.basic import env_fallback

from ansible_collections.jiraops.integration.plugins.module_utils._auth import AUTH_METHODS, select_auth
# Importing an auth method's module registers it.
from ansible_collections.jiraops.integration.plugins.module_utils._auth_oauth1 import OAuth1Auth  # noqa: F401  pylint: disable=unused-import
from ansible_collections.jiraops.integration.plugins.module_utils._auth_oauth2 import (  # noqa: F401  pylint: disable=unused-import
    ClientCredentialsAuth,
    RefreshTokenAuth,
)
from ansible_collections.jiraops.integration.plugins.module_utils._client import (
    DEFAULT_API_URL,
    DEFAULT_AUTH_URL,
    JiraClient,
)
from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._redact import Redactor


def _utf8_env_fallback(*names, **kwargs):
    """``env_fallback``, but bytes that are not UTF-8 become U+FFFD instead of crashing AnsibleModule's logging.

    The option's own check then names it (for example ``url: 'jira.\ufffd' is not an absolute http(s) URL``).
    """
    value = env_fallback(*names, **kwargs)
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _env(*names):
    return (_utf8_env_fallback, list(names))


CONNECTION_OPTIONS = {
    "url": {"type": "str", "fallback": _env("JIRA_URL")},
    "api_url": {"type": "str", "fallback": _env("JIRA_API_URL"), "default": DEFAULT_API_URL},
    "auth_url": {"type": "str", "fallback": _env("JIRA_AUTH_URL"), "default": DEFAULT_AUTH_URL},
    "cloud_id": {"type": "str", "fallback": _env("JIRA_CLOUD_ID")},
    "timeout": {"type": "float", "fallback": _env("JIRA_TIMEOUT"), "default": 30},
    "validate_certs": {"type": "bool", "fallback": _env("JIRA_VALIDATE_CERTS"), "default": True},
    "ca_path": {"type": "path", "fallback": _env("JIRA_CA_PATH")},
    "max_retries": {"type": "int", "fallback": _env("JIRA_MAX_RETRIES"), "default": 5},
    "retry_budget": {"type": "float", "fallback": _env("JIRA_RETRY_BUDGET"), "default": 120},
}

AUTH_OPTIONS = {
    "auth_method": {"type": "str", "fallback": _env("JIRA_AUTH_METHOD"), "default": "auto"},
    "username": {"type": "str", "fallback": _env("JIRA_USERNAME")},
    "password": {"type": "str", "fallback": _env("JIRA_PASSWORD", "JIRA_API_TOKEN"), "no_log": True},
    "token": {"type": "str", "fallback": _env("JIRA_TOKEN"), "no_log": True},
    # OAuth 2.0 (client_credentials and refresh_token methods, and the oauth2_token module)
    "provider": {"type": "str", "fallback": _env("JIRA_OAUTH2_PROVIDER"), "default": "cloud",
                 "choices": ["cloud", "datacenter"]},
    "client_id": {"type": "str", "fallback": _env("JIRA_CLIENT_ID"), "no_log": False},
    "client_secret": {"type": "str", "fallback": _env("JIRA_CLIENT_SECRET"), "no_log": True},
    "refresh_token": {"type": "str", "fallback": _env("JIRA_REFRESH_TOKEN"), "no_log": True},
    "audience": {"type": "str", "fallback": _env("JIRA_OAUTH2_AUDIENCE"), "default": "api.atlassian.com"},
    "token_cache": {"type": "path", "fallback": _env("JIRA_TOKEN_CACHE"), "no_log": False},
    "min_ttl": {"type": "int", "fallback": _env("JIRA_TOKEN_MIN_TTL"), "default": 60},
    # OAuth 1.0a (Jira Server / Data Center application links). The consumer key and a key *path* only look secret.
    "consumer_key": {"type": "str", "fallback": _env("JIRA_CONSUMER_KEY"), "no_log": False},
    "private_key": {"type": "str", "fallback": _env("JIRA_PRIVATE_KEY"), "no_log": True},
    "private_key_path": {"type": "path", "fallback": _env("JIRA_PRIVATE_KEY_PATH"), "no_log": False},
    "access_token": {"type": "str", "fallback": _env("JIRA_ACCESS_TOKEN"), "no_log": True},
}

# The Vault / OpenBao KV v2 token store (token_cache: vault://<mount>/<path>); env names as Vault's own CLI reads.
VAULT_OPTIONS = {
    "vault_url": {"type": "str", "fallback": _env("VAULT_ADDR")},
    "vault_token": {"type": "str", "fallback": _env("VAULT_TOKEN"), "no_log": True},
    "vault_role_id": {"type": "str", "fallback": _env("VAULT_ROLE_ID"), "no_log": False},
    "vault_secret_id": {"type": "str", "fallback": _env("VAULT_SECRET_ID"), "no_log": True},
    "vault_namespace": {"type": "str", "fallback": _env("VAULT_NAMESPACE")},
    "vault_ca_path": {"type": "path", "fallback": _env("VAULT_CACERT")},
}
AUTH_OPTIONS.update(VAULT_OPTIONS)


def auth_option_names():
    return frozenset(AUTH_OPTIONS)


def connection_argspec():
    spec = {}
    for source in (CONNECTION_OPTIONS, AUTH_OPTIONS):
        for name, value in source.items():
            spec[name] = dict(value)
    spec["auth_method"]["choices"] = ["auto"] + sorted(AUTH_METHODS)
    return spec


def check_ca_path(path):
    """A CA bundle must be a readable PEM file (or a hashed CA directory); say so before any TLS handshake."""
    if not path:
        return
    if not os.path.exists(path):
        raise OptionError("ca_path", f"{path} does not exist")
    if os.path.isdir(path):
        return
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise OptionError("ca_path", f"cannot read {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise OptionError("ca_path", f"{path} contains no PEM certificate (-----BEGIN CERTIFICATE-----)")


def build_client(params, log=None, **overrides):
    """A JiraClient from validated option values; raises OptionError naming the bad option."""
    timeout = params.get("timeout")
    if timeout is not None and timeout <= 0:
        raise OptionError("timeout", f"must be a positive number of seconds, got {timeout}")
    if (params.get("max_retries") or 0) < 0:
        raise OptionError("max_retries", "must be 0 or more")
    check_ca_path(params.get("ca_path"))
    # A caller that signs differently (the OAuth 1.0a token dance) passes its own auth method.
    auth = overrides.pop("auth", None) or select_auth(params)
    redactor = Redactor(auth.secrets())
    kwargs = dict(
        url=params.get("url"),
        api_url=params.get("api_url"),
        auth_url=params.get("auth_url"),
        cloud_id=params.get("cloud_id"),
        auth=auth,
        timeout=timeout or 30,
        validate_certs=params.get("validate_certs", True),
        ca_path=params.get("ca_path"),
        max_retries=params.get("max_retries", 5),
        retry_budget=params.get("retry_budget", 120),
        redactor=redactor,
        log=log,
    )
    kwargs.update(overrides)
    return JiraClient(**kwargs)
