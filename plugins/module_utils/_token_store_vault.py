# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OAuth 2.0 token store in HashiCorp Vault / OpenBao KV v2, selected by ``token_cache: vault://<mount>/<path>``.

It offers ``TokenSource`` what the file store offers (``get``, ``read``, ``locked()`` yielding a transaction with
``get``/``put``/``delete``), so a grant survives the job's container and is shared by every execution node.
The file store's ``flock`` becomes a lease kept in the secret itself and taken with a check-and-set write on the
KV version: of two jobs refreshing at once only one wins the CAS; the loser re-reads, waits for the winner's
tokens and uses them, so one refresh token is never sent twice. Every write (lease, tokens, release) is a CAS
write; the rotated refresh token is written before the new access token is used. Nothing touches local disk.

Vault is spoken to with the collection's own HTTP client (retries, TLS options, redaction), not hvac, so that
execution environments need no extra library.
"""
from __future__ import annotations

import contextlib
import os
import random
import re
import secrets
import socket
import time
from urllib.parse import quote

from ansible_collections.jiraops.integration.plugins.module_utils._client import JiraClient, check_base_url
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._redact import Redactor
from ansible_collections.jiraops.integration.plugins.module_utils._token_store import (
    FORMAT_VERSION,
    OPTION,
    TokenStore,
)

SCHEME = "vault://"
CAS_MISMATCH = "check-and-set parameter did not match"
# Margin on top of the longest a token request may take (timeout + retry budget) before a lease counts as stale.
LEASE_MARGIN = 5.0


def is_vault_location(value):
    return isinstance(value, str) and value.startswith(SCHEME)


def open_token_store(params, module=None):
    """The store ``token_cache`` names: ``vault://<mount>/<path>`` is Vault KV v2, anything else a file."""
    value = params.get("token_cache")
    if not value:
        return None
    if is_vault_location(value):
        return VaultTokenStore(value, params)
    return TokenStore(value, module=module)


def parse_location(value, option=OPTION):
    """(mount, path) of ``vault://<mount>/<path>``."""
    rest = value[len(SCHEME):].strip("/")
    mount, _sep, path = rest.partition("/")
    parts = [p for p in path.split("/") if p]
    if not mount or not parts or any(p in (".", "..") for p in parts) or "?" in rest or "#" in rest:
        raise OptionError(option, f"{value!r} is not a Vault location; use vault://<kv v2 mount>/<path>, "
                                  "for example vault://secret/jira/tokens/ci")
    return mount, "/".join(parts)


class _Conflict(Exception):
    """A CAS write lost: another writer changed the secret since it was read."""


class VaultTokenStore:
    """One KV v2 secret holding ``{"version", "entries", "lease"}``; ``option`` names the option in every error."""

    def __init__(self, location, params, option=OPTION, lock_timeout=None, poll=0.05):
        self.option = option
        self.location = location
        self.mount, self.secret_path = parse_location(location, option)
        url = check_base_url("vault_url", params.get("vault_url"))
        if not url:
            raise OptionError("vault_url", f"{option}={location} needs the Vault address (or set VAULT_ADDR)")
        ca_path = params.get("vault_ca_path")
        if ca_path and not os.path.exists(ca_path):
            raise OptionError("vault_ca_path", f"{ca_path} does not exist")
        self.vault_url = url
        self.namespace = params.get("vault_namespace")
        self.role_id = params.get("vault_role_id")
        self.secret_id = params.get("vault_secret_id")
        self.token = params.get("vault_token")
        if self.role_id or self.secret_id:
            if not (self.role_id and self.secret_id):
                missing = "vault_secret_id" if self.role_id else "vault_role_id"
                raise OptionError(missing, "AppRole login needs both vault_role_id and vault_secret_id "
                                           "(or VAULT_ROLE_ID and VAULT_SECRET_ID)")
            self.auth_option = "vault_role_id"
        elif self.token:
            self.auth_option = "vault_token"
        else:
            raise OptionError("vault_token", f"{option}={location} needs Vault credentials: vault_token (VAULT_TOKEN) "
                                             "or vault_role_id and vault_secret_id (VAULT_ROLE_ID, VAULT_SECRET_ID)")
        timeout = params.get("timeout") or 30
        budget = params.get("retry_budget")
        budget = 120 if budget is None else budget
        # A lease outlives the longest token request its holder can make (timeout plus retries), so it is stale
        # only when its holder is gone.
        self.lease_seconds = float(timeout) + float(budget) + LEASE_MARGIN
        self.lock_timeout = lock_timeout if lock_timeout is not None else max(120.0, 2 * self.lease_seconds)
        self.poll = poll
        self.redactor = Redactor([self.token, self.secret_id])
        self.client = JiraClient(url=url, timeout=timeout, ca_path=ca_path, max_retries=2,
                                 retry_budget=min(budget, 10.0), redactor=self.redactor)
        self._client_token = None
        self.holder = f"{socket.gethostname()} pid {os.getpid()}"

    def secrets(self):
        return [s for s in (self.token, self.secret_id, self._client_token) if s]

    # -- HTTP -------------------------------------------------------------------------------------------------
    @property
    def data_path(self):
        return f"/v1/{quote(self.mount)}/data/{quote(self.secret_path)}"

    def _headers(self, with_token=True):
        headers = {}
        if self.namespace:
            headers["X-Vault-Namespace"] = self.namespace
        if with_token:
            headers["X-Vault-Token"] = self._login()
        return headers

    def _login(self):
        if self._client_token:
            return self._client_token
        if self.auth_option == "vault_token":
            self._client_token = self.token
            return self._client_token
        resp = self._call("POST", "/v1/auth/approle/login", json={"role_id": self.role_id, "secret_id": self.secret_id},
                          expected=(200,), with_token=False, what="AppRole login")
        token = ((resp.json or {}).get("auth") or {}).get("client_token")
        if not token:
            raise JiraError("Vault's AppRole login answered without a client token", method="POST",
                            path="/v1/auth/approle/login", option="vault_role_id")
        self.redactor.add(token)
        self._client_token = token
        return token

    def _call(self, method, path, json=None, expected=(200, 204), with_token=True, what=None):
        headers = self._headers(with_token)  # a failed login explains itself
        try:
            return self.client.request(method, path, json=json, headers=headers, expected=expected,
                                       authenticate=False)
        except JiraError as exc:
            raise self._explain(exc, what or f"{method} {path}") from None

    def _explain(self, exc, what):
        """Vault's failure as one message naming the option to fix (a vault_* option or token_cache)."""
        messages = [" ".join(re.sub(r"^\d+ errors? occurred:|^\s*\*", " ", m, flags=re.M).split())
                    for m in exc.messages]
        text = "; ".join(messages).lower()
        unchanged = "" if what == "tokens" else "; the token store was not changed"
        if exc.status is None and "TLS verification failed" in exc.message:
            message = (f"TLS verification of Vault at {self.vault_url} failed; give vault_ca_path (VAULT_CACERT) "
                       "with the CA that signed Vault's certificate")
            option = "vault_ca_path"
        elif exc.status is None:
            message = (f"cannot reach Vault at {self.vault_url} ({exc.message}); check vault_url (VAULT_ADDR) and "
                       f"that Vault is running{unchanged}")
            option = "vault_url"
        elif exc.status == 503 and "sealed" in text:
            message = f"Vault at {self.vault_url} is sealed; unseal it (bao/vault operator unseal) and run again{unchanged}"
            option = "vault_url"
        elif what == "AppRole login":
            message = ("AppRole login failed: check vault_role_id and vault_secret_id (VAULT_ROLE_ID, "
                       "VAULT_SECRET_ID), and that the approle auth method is enabled")
            option = "vault_secret_id"
        elif exc.status in (401, 403):
            if self._token_valid():
                message = (f"the Vault token may not use {self.mount}/data/{self.secret_path} ({what}): its "
                           f"policy needs read, create and update on that path; check {OPTION}, or the policy "
                           f"of {self.auth_option}")
            else:
                message = (f"Vault refused the token (invalid, expired or revoked); check {self.auth_option} "
                           f"({'VAULT_TOKEN' if self.auth_option == 'vault_token' else 'VAULT_ROLE_ID'})")
            option = self.auth_option
        elif exc.status == 404:
            message = f"no KV version 2 secrets engine is mounted at {self.mount!r} in Vault ({OPTION} {self.location})"
            option = self.option
        else:
            message = f"Vault answered HTTP {exc.status} ({what})"
            option = self.option
        if what == "tokens":
            message = ("the new tokens could not be stored in Vault, so the rotated refresh token is lost unless "
                       "the authorization server's reuse interval accepts the previous one (if the next run says "
                       f"the refresh token was refused, authorize again): {message}")
        return JiraError(message, status=exc.status, method=exc.method, path=exc.path, messages=messages,
                         option=option)

    def _token_valid(self):
        """Tells a wrong token from one without permission on the path (Vault answers 403 to both)."""
        try:
            self.client.request("GET", "/v1/auth/token/lookup-self", headers=self._headers(), expected=(200,),
                                authenticate=False, retry=False)
        except JiraError:
            return False
        return True

    # -- KV v2 ------------------------------------------------------------------------------------------------
    def _read(self):
        """(data, version): the secret's current content and KV version (0 when it was never written)."""
        resp = self._call("GET", self.data_path, expected=(200, 404), what="read")
        body = resp.json if isinstance(resp.json, dict) else {}
        block = body.get("data") if isinstance(body.get("data"), dict) else {}
        version = int(((block.get("metadata") or {}).get("version")) or 0)
        if resp.status == 404 and body.get("errors"):
            # 404 with errors is a missing route (no such mount); an absent secret answers 404 with none.
            raise self._explain(JiraError("", status=404, method="GET", path=self.data_path,
                                          messages=body["errors"]), "read")
        data = block.get("data") if resp.status == 200 else None
        if not data:  # absent, or its newest version deleted
            return {"version": FORMAT_VERSION, "entries": {}}, version
        if not isinstance(data.get("entries"), dict):
            raise OptionError(self.option, f"{self.location} is not a token store (no 'entries' object); "
                                           "give a path of its own to the token store")
        if data.get("version") != FORMAT_VERSION:
            raise OptionError(self.option, f"{self.location} has store format version {data.get('version')!r}; "
                                           f"this collection reads version {FORMAT_VERSION}")
        return data, version

    def _write(self, data, cas, what="write"):
        """CAS write; returns the new version, raises _Conflict when another writer came first."""
        headers = self._headers()
        try:
            resp = self.client.request("POST", self.data_path, json={"options": {"cas": cas}, "data": data},
                                       headers=headers, expected=(200, 204), authenticate=False)
        except JiraError as exc:
            if exc.status == 400 and any(CAS_MISMATCH in m for m in exc.messages):
                raise _Conflict() from None
            raise self._explain(exc, what) from None
        return int(((resp.json or {}).get("data") or {}).get("version") or cas + 1)

    # -- the interface TokenSource uses -----------------------------------------------------------------------
    def read(self):
        data, _version = self._read()
        return {"version": data.get("version", FORMAT_VERSION), "entries": dict(data["entries"])}

    def get(self, key):
        entry = self.read()["entries"].get(key)
        return dict(entry) if isinstance(entry, dict) else None

    @contextlib.contextmanager
    def locked(self):
        """Hold the store's lease (taken by CAS); yields a transaction that writes through at once."""
        tx = self._acquire()
        try:
            yield tx
        except BaseException:
            with contextlib.suppress(JiraError):
                tx.release()
            raise
        tx.release()

    def _acquire(self):
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + self.lock_timeout
        delay = self.poll
        while True:
            data, version = self._read()
            lease = data.get("lease") if isinstance(data.get("lease"), dict) else None
            now = time.time()
            if lease and float(lease.get("expires_at") or 0) > now:
                if time.monotonic() >= deadline:
                    raise OptionError(
                        self.option,
                        f"timed out after {self.lock_timeout:.0f}s waiting for {self.location}: "
                        f"{lease.get('holder', 'another process')} holds it for a token refresh until "
                        f"{time.strftime('%H:%M:%S UTC', time.gmtime(float(lease['expires_at'])))}; run again "
                        "after that (a lease whose holder died is taken over once it expires)",
                    )
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)
                continue
            claimed = dict(data, lease={"owner": owner, "holder": self.holder, "expires_at": now + self.lease_seconds})
            try:
                version = self._write(claimed, cas=version)
            except _Conflict:
                continue
            data.pop("lease", None)
            return VaultTransaction(self, data, version, owner)


class VaultTransaction:
    """The store as seen while holding its lease; every change is one CAS write."""

    def __init__(self, store, data, version, owner):
        self.store = store
        self.data = data
        self.version = version
        self.owner = owner
        self.released = False

    def get(self, key):
        entry = self.data["entries"].get(key)
        return dict(entry) if isinstance(entry, dict) else None

    def _lease(self):
        return {"owner": self.owner, "holder": self.store.holder,
                "expires_at": time.time() + self.store.lease_seconds}

    def _commit(self, change):
        """Apply ``change`` to the freshest content and write it by CAS (re-reading after a lost race)."""
        data, lease = self.data, self._lease()
        while True:
            change(data)
            data["version"] = FORMAT_VERSION
            try:
                self.version = self.store._write(dict(data, lease=lease), cas=self.version, what="tokens")
            except _Conflict:
                # Only when this lease expired and was taken over: the tokens still go in, under the new lease.
                data, self.version = self.store._read()
                data = dict(data)
                lease = data.pop("lease", None) or self._lease()
                continue
            self.data = data
            return

    def put(self, key, entry):
        """Replace one entry and write it to Vault now, before the caller uses the token."""
        self._commit(lambda data: data["entries"].__setitem__(key, entry))

    def delete(self, key):
        if key in self.data["entries"]:
            self._commit(lambda data: data["entries"].pop(key, None))

    def release(self):
        if self.released:
            return
        self.released = True
        version = self.version
        data = dict(self.data)
        while True:
            try:
                self.store._write(data, cas=version)
                return
            except _Conflict:
                data, version = self.store._read()
                lease = data.get("lease") or {}
                if lease.get("owner") != self.owner:
                    return  # taken over after it expired: not ours to release
                data = dict(data)
                data.pop("lease", None)
