"""One refresher process for the concurrency and crash tests: get a token as every module does, then use it.

``python oauth2_refresher.py '<json config>'`` with url, client_id, client_secret, token_cache (a file or
``vault://...`` with the vault_* options), cloud_id, min_ttl, timeout, retry_budget,
optional ``start_at`` (epoch seconds to wait for, so that several processes start together) and ``kill_at``:
``after_reply`` (SIGKILL right after the token endpoint answered, before the store is written), ``mid_write``
(after the new store file was written to its temp name, before the rename) or ``after_store`` (after the store was
written, before the new access token is used). Prints one JSON line unless killed.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time


def sha(value):
    return hashlib.sha256(value.encode()).hexdigest() if value else None


def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main():
    cfg = json.loads(sys.argv[1])
    # pylint: disable=import-outside-toplevel
    from ansible_collections.jiraops.integration.plugins.module_utils import _io, _oauth2, _token_store
    from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError
    from ansible_collections.jiraops.integration.plugins.module_utils._options import build_client

    kill_at = cfg.get("kill_at")
    if kill_at == "after_reply":
        original = _oauth2.TokenEndpoint.request

        def request(self, grant_type, **fields):
            token = original(self, grant_type, **fields)
            print(json.dumps({"event": "reply", "refresh_token_sha256": sha(token.refresh_token)}), flush=True)
            die()
        _oauth2.TokenEndpoint.request = request
    elif kill_at == "mid_write":
        def replace(src, dst):
            print(json.dumps({"event": "temp_written", "temp": src}), flush=True)
            die()
        _io.os.replace = replace
    elif kill_at == "after_store":
        original_put = _token_store.Transaction.put
        if cfg["token_cache"].startswith("vault://"):
            from ansible_collections.jiraops.integration.plugins.module_utils import _token_store_vault
            original_put = _token_store_vault.VaultTransaction.put

        def put(self, key, entry):
            original_put(self, key, entry)
            print(json.dumps({"event": "stored", "refresh_token_sha256": sha(entry.get("refresh_token")),
                              "access_token_sha256": sha(entry["access_token"])}), flush=True)
            die()
        _token_store.Transaction.put = put
        if cfg["token_cache"].startswith("vault://"):
            _token_store_vault.VaultTransaction.put = put

    params = {"url": cfg["url"], "api_url": cfg["url"], "auth_url": cfg["url"], "cloud_id": cfg["cloud_id"],
              "auth_method": "refresh_token", "client_id": cfg["client_id"], "client_secret": cfg["client_secret"],
              "token_cache": cfg["token_cache"], "min_ttl": cfg.get("min_ttl", 60), "provider": "cloud",
              "timeout": cfg.get("timeout", 10), "retry_budget": cfg.get("retry_budget", 30)}
    params.update((k, v) for k, v in cfg.items() if k.startswith("vault_"))
    if cfg.get("start_at"):
        time.sleep(max(0.0, cfg["start_at"] - time.time()))
    try:
        client = build_client(params)
        resp = client.request("GET", "/rest/api/3/myself")
    except JiraError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    print(json.dumps({"status": resp.status, "user": resp.json.get("name"), "obtained": client.auth.obtained,
                      "access_token_sha256": sha(client.auth.token.access_token)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
