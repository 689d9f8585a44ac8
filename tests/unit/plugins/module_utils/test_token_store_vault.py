"""The store factory and the vault:// location form (no network: the Vault store talks to Vault only when used)."""
from __future__ import annotations

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._token_store import TokenStore
from ansible_collections.jiraops.integration.plugins.module_utils._token_store_vault import (
    VaultTokenStore,
    open_token_store,
    parse_location,
)

VAULT = {"vault_url": "https://vault.example.com:8200", "vault_token": "s.unit-test"}


def test_the_factory_picks_the_store_from_token_cache(tmp_path):
    assert open_token_store({"token_cache": None}) is None
    assert isinstance(open_token_store({"token_cache": str(tmp_path / "t.json")}), TokenStore)
    store = open_token_store({"token_cache": "vault://secret/jira/tokens/ci", **VAULT})
    assert isinstance(store, VaultTokenStore)
    assert (store.mount, store.secret_path, store.data_path) == ("secret", "jira/tokens/ci",
                                                                 "/v1/secret/data/jira/tokens/ci")


@pytest.mark.parametrize("value", ["vault://", "vault://secret", "vault://secret/", "vault://secret/a/../b",
                                   "vault://secret/a?version=2", "vault:///jira"])
def test_bad_locations_name_token_cache(value):
    with pytest.raises(OptionError) as info:
        parse_location(value)
    assert info.value.option == "token_cache" and "vault://<kv v2 mount>/<path>" in str(info.value)


def test_the_lease_outlives_the_longest_token_request():
    store = open_token_store({"token_cache": "vault://kv/x", **VAULT, "timeout": 10, "retry_budget": 30})
    assert store.lease_seconds == 45 and store.lock_timeout == 120


def test_approle_wins_over_a_token_and_secrets_are_known_to_redaction():
    store = open_token_store({"token_cache": "vault://kv/x", **VAULT, "vault_role_id": "role",
                              "vault_secret_id": "sec-ret-id"})
    assert store.auth_option == "vault_role_id"
    assert store.redactor.text("x sec-ret-id s.unit-test") == "x ******** ********"
