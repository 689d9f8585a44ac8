# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # The Vault / OpenBao KV v2 token store (module_utils/_token_store_vault.py), selected by token_cache.
    DOCUMENTATION = r"""
options:
  vault_url:
    description:
      - Address of the HashiCorp Vault or OpenBao server holding the token store when O(token_cache) is
        V(vault://<mount>/<path>), for example V(https://vault.example.com:8200). Ignored with a file store.
      - If not set, the environment variable E(VAULT_ADDR) is used.
    type: str
  vault_token:
    description:
      - Vault token whose policy allows read, create and update on C(<mount>/data/<path>) of O(token_cache).
      - Not used when O(vault_role_id) and O(vault_secret_id) are set (the AppRole login wins).
      - If not set, the environment variable E(VAULT_TOKEN) is used.
    type: str
  vault_role_id:
    description:
      - Role id of an AppRole login (C(POST /v1/auth/approle/login)), together with O(vault_secret_id).
      - If not set, the environment variable E(VAULT_ROLE_ID) is used.
    type: str
  vault_secret_id:
    description:
      - Secret id of the AppRole login, together with O(vault_role_id).
      - If not set, the environment variable E(VAULT_SECRET_ID) is used.
    type: str
  vault_namespace:
    description:
      - Vault Enterprise / OpenBao namespace, sent as C(X-Vault-Namespace) on every Vault request.
      - If not set, the environment variable E(VAULT_NAMESPACE) is used.
    type: str
  vault_ca_path:
    description:
      - CA bundle (PEM) that signed Vault's TLS certificate. Vault's certificate is always verified.
      - If not set, the environment variable E(VAULT_CACERT) is used.
    type: path
notes:
  - With O(token_cache=vault://<mount>/<path>) the OAuth 2.0 token store is one KV version 2 secret in Vault or
    OpenBao instead of a file, and nothing of the grant is written to local disk. Every write is a check-and-set
    on the secret's version, so jobs on several execution nodes share one grant and never send one refresh token
    twice.
"""

    # The same options for lookup plugins, which read the environment through C(env:) entries.
    PLUGINS = r"""
options:
  vault_url:
    description: Address of the Vault or OpenBao server holding the token store when O(token_cache) is V(vault://...).
    type: str
    env:
      - name: VAULT_ADDR
  vault_token:
    description: Vault token allowed to read, create and update the token store's path.
    type: str
    env:
      - name: VAULT_TOKEN
  vault_role_id:
    description: Role id of an AppRole login, together with O(vault_secret_id) (wins over O(vault_token)).
    type: str
    env:
      - name: VAULT_ROLE_ID
  vault_secret_id:
    description: Secret id of the AppRole login.
    type: str
    env:
      - name: VAULT_SECRET_ID
  vault_namespace:
    description: Vault Enterprise / OpenBao namespace (C(X-Vault-Namespace)).
    type: str
    env:
      - name: VAULT_NAMESPACE
  vault_ca_path:
    description: CA bundle (PEM) that signed Vault's TLS certificate.
    type: path
    env:
      - name: VAULT_CACERT
"""
