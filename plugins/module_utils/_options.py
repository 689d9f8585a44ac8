# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared connection and auth options, and the one way to turn them into a client.

Modules (through JiraModule) and lookup plugins both use this, so an option behaves the same everywhere.
"""
from __future__ import annotations

import math
import os
from urllib.parse import urlsplit

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
    DEFAULT_MAX_RESPONSE_SIZE,
    JiraClient,
    is_loopback,
)
from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._io import read_regular_file
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
    # No default here: the client's (8 MiB), or a larger one for the DevOps bulk modules (JiraModuleBase).
    "max_response_size": {"type": "int", "fallback": _env("JIRA_MAX_RESPONSE_SIZE")},
}

# Bounds that keep a typo (1e308, a missing unit) from turning into a task that never ends.
MAX_TIMEOUT = 3600.0
MAX_RETRY_BUDGET = 86400.0
MAX_RETRIES = 100
MAX_RESPONSE_SIZE_LIMIT = 1024 * 1024 * 1024
# Options whose values are credentials sent to Jira (for the plain-http warning).
CREDENTIAL_OPTIONS = ("password", "token", "client_secret", "refresh_token", "private_key", "private_key_path",
                      "access_token")

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
    data = read_regular_file(path, "ca_path")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise OptionError("ca_path", f"{path} contains no PEM certificate (-----BEGIN CERTIFICATE-----)")


def check_number(option, value, low, high, low_ok=True):
    """A finite number within [low, high] (``low`` itself excluded unless ``low_ok``), naming the option if not."""
    if value is None:
        return
    if not math.isfinite(value):
        raise OptionError(option, f"must be a finite number, got {value}")
    if value < low or (value == low and not low_ok) or value > high:
        floor = f"{'at least' if low_ok else 'more than'} {low:.15g}"
        raise OptionError(option, f"must be {floor} and at most {high:.15g}, got {value:.15g}")


def check_limits(params):
    timeout = params.get("timeout")
    if timeout is not None and timeout <= 0:
        raise OptionError("timeout", f"must be a positive number of seconds, got {timeout}")
    check_number("timeout", timeout, 0, MAX_TIMEOUT, low_ok=False)
    if (params.get("max_retries") or 0) < 0:
        raise OptionError("max_retries", "must be 0 or more")
    check_number("max_retries", params.get("max_retries"), 0, MAX_RETRIES)
    check_number("retry_budget", params.get("retry_budget"), 0, MAX_RETRY_BUDGET)
    size = params.get("max_response_size")
    if size is not None and size <= 0:
        raise OptionError("max_response_size", f"must be a positive number of bytes, got {size}")
    check_number("max_response_size", size, 1, MAX_RESPONSE_SIZE_LIMIT)


def insecure_warnings(params, client):
    """One warning per insecure setting, saying what it exposes (shown once per task)."""
    out = []
    if client.session.verify is False:
        out.append("validate_certs=false: TLS certificates are not verified, so anyone on the network path can "
                   "impersonate the Jira host and read the credentials and data sent to it; use ca_path for a "
                   "private CA instead")
    has_credentials = any(params.get(o) for o in CREDENTIAL_OPTIONS) or getattr(client.auth, "name", "none") != "none"
    plain = [f"{name}={urlsplit(value).hostname}" for name, value in
             (("url", client.url), ("api_url", client.api_url), ("auth_url", client.auth_url))
             if value and value.startswith("http://") and not is_loopback(urlsplit(value).hostname or "")]
    if has_credentials and plain:
        out.append(f"plain http:// to a host that is not loopback ({', '.join(plain)}): the credentials (password, "
                   "tokens, client secret or signatures) and every request and reply travel unencrypted and can "
                   "be read or replayed on the network; use https://")
    return out


def build_client(params, log=None, clock=None, **overrides):
    """A JiraClient from validated option values; raises OptionError naming the bad option.

    ``clock`` (a ``_clock.Clock``) is for Python callers only, never an option: tests hand in one that does not sleep.
    """
    check_limits(params)
    timeout = params.get("timeout")
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
        clock=clock,
        max_response_size=params.get("max_response_size") or overrides.pop("default_max_response_size", None)
        or DEFAULT_MAX_RESPONSE_SIZE,
    )
    overrides.pop("default_max_response_size", None)
    kwargs.update(overrides)
    client = JiraClient(**kwargs)
    client.warnings = insecure_warnings(params, client)
    return client
