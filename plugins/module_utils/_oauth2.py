# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OAuth 2.0 against Atlassian's cloud and Jira Data Center: token requests, the authorize URL, PKCE, and
``TokenSource`` (get a valid access token from the store, refreshing it when it is about to expire).

The rule that keeps rotating refresh tokens safe: a token request that rotates the refresh token is made while
holding the store's lock, and the reply is written to the store before the lock is released and before the new
access token is used. A process killed after that point loses nothing; one killed between the reply and the
write leaves the previous refresh token in the store, which the server still accepts during its reuse interval.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from ansible_collections.jiraops.integration.plugins.module_utils import _clock
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._token_store import fingerprint, store_key

CLOUD_AUDIENCE = "api.atlassian.com"
PROVIDERS = ("cloud", "datacenter")
DC_SCOPES = ("READ", "WRITE", "ADMIN", "SYSTEM_ADMIN")
DC_PREFIX = "/rest/oauth2/latest"
# How many refresh-token fingerprints of one chain the store remembers (to recognise an old seed token).
CHAIN_MEMORY = 50

KIND_CLIENT = "client_credentials"
KIND_USER = "user"
KIND_PENDING = "pending"

# Atlassian's policy for 3LO rotating refresh tokens: one expires after 90 days unused, and every refresh token of a
# grant 365 days after the user's consent, however often it was rotated.
REFRESH_IDLE_LIMIT = 90 * 86400
GRANT_MAX_AGE = 365 * 86400
GRANT_WARN_BEFORE = 30 * 86400


def new_state():
    return secrets.token_urlsafe(24)


def new_pkce():
    """(code_verifier, code_challenge) for PKCE with S256 (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")
    return verifier, challenge


def _need_url(client, provider):
    if not client.url:
        raise OptionError("url", f"provider={provider} needs the Jira base URL (or set JIRA_URL)")
    return client.url


def token_url(client, provider, grant_type):
    """Where token requests go: the cloud's 2LO and 3LO servers, or the Data Center site."""
    if provider == "datacenter":
        return _need_url(client, provider) + DC_PREFIX + "/token"
    if grant_type == "client_credentials":
        return client.api_url + "/oauth/token"
    return client.auth_url + "/oauth/token"


def authorize_url(client, provider, client_id, redirect_uri, scopes, state, code_challenge=None,
                  audience=CLOUD_AUDIENCE):
    """The URL a user opens to approve the app."""
    if provider == "datacenter":
        query = [("client_id", client_id), ("redirect_uri", redirect_uri), ("response_type", "code"),
                 ("scope", " ".join(scopes)), ("state", state)]
        if code_challenge:
            query += [("code_challenge", code_challenge), ("code_challenge_method", "S256")]
        base = _need_url(client, provider) + DC_PREFIX + "/authorize"
    else:
        query = [("audience", audience), ("client_id", client_id), ("scope", " ".join(scopes)),
                 ("redirect_uri", redirect_uri), ("state", state), ("response_type", "code"), ("prompt", "consent")]
        base = client.auth_url + "/authorize"
    return base + "?" + urlencode(query, quote_via=quote)


def parse_callback(code, expected_state):
    """The code from ``code`` (a bare code or the whole redirect URL), checking the redirect's ``state``.

    Returns (code, state_checked).
    """
    value = code.strip()
    if not value.lower().startswith(("http://", "https://")):
        return value, False
    query = parse_qs(urlsplit(value).query)
    received = (query.get("state") or [None])[0]
    if query.get("error"):
        detail = (query.get("error_description") or [""])[0]
        raise JiraError(f"code: the authorization server redirected with error {query['error'][0]!r}"
                        + (f" ({detail})" if detail else "")
                        + ("; the user denied access" if query["error"][0] == "access_denied" else ""))
    if not query.get("code"):
        raise OptionError("code", "the redirect URL carries no 'code' parameter")
    if expected_state in (None, ""):
        raise OptionError("state", "give the state returned with the authorize URL so that the redirect's state "
                                   "can be checked")
    if received != expected_state:
        raise OptionError(
            "state",
            "state mismatch: the redirect URL's state does not match the state of the authorization request; "
            "the URL belongs to another (possibly forged or stale) request, start the authorization again",
        )
    return query["code"][0], True


class Token:
    """A token reply or store entry, with the facts modules return."""

    FIELDS = ("access_token", "token_type", "expires_at", "scopes", "refresh_token", "obtained_at", "granted_at")

    def __init__(self, access_token, token_type="Bearer", expires_at=None, scopes=None, refresh_token=None,
                 obtained_at=None, granted_at=None):
        self.access_token = access_token
        self.token_type = token_type or "Bearer"
        self.expires_at = expires_at
        self.scopes = list(scopes or [])
        self.refresh_token = refresh_token
        self.obtained_at = obtained_at or time.time()
        # When the user consented (a 3LO grant); None when the grant came from elsewhere (a refresh_token option).
        self.granted_at = granted_at
        # Whether the reply named its scopes (RFC 6749 5.1: it may leave them out when they are those requested).
        self.scope_reported = True

    @classmethod
    def from_reply(cls, payload, now):
        expires_in = payload.get("expires_in")
        try:
            expires_at = now + float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            expires_at = None
        scope = payload.get("scope")
        scopes = scope.split() if isinstance(scope, str) else list(scope or [])
        token = cls(payload["access_token"], payload.get("token_type"), expires_at, scopes,
                    payload.get("refresh_token"), now)
        token.scope_reported = scope is not None
        return token

    @classmethod
    def from_entry(cls, entry):
        return cls(**{k: entry.get(k) for k in cls.FIELDS})

    def remaining(self, now=None):
        """Seconds of validity left; 0 when the lifetime is unknown (never assume one)."""
        if self.expires_at is None:
            return 0
        return self.expires_at - (now or time.time())

    def grant_expires_at(self):
        """When the grant's refresh token stops working at the latest: 90 days after its last use (this token was
        obtained with it), 365 days after the consent when that time is known."""
        bounds = [self.obtained_at + REFRESH_IDLE_LIMIT]
        if self.granted_at is not None:
            bounds.append(self.granted_at + GRANT_MAX_AGE)
        return min(bounds)

    def result(self):
        """What modules return (the caller decides whether the refresh token is included)."""
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": int(self.expires_at) if self.expires_at is not None else None,
            "expires_in": max(0, int(self.remaining())) if self.expires_at is not None else None,
            "scopes": list(self.scopes),
        }


def _clock_of(client):
    """The clock a client waits and tells time by (a test's, or the system's for clients built without one)."""
    return getattr(client, "clock", None) or _clock.SYSTEM


class TokenEndpoint:
    """Token requests for one client at one provider, with errors that say what to do."""

    def __init__(self, client, provider, client_id, client_secret=None, audience=CLOUD_AUDIENCE):
        if provider not in PROVIDERS:
            raise OptionError("provider", f"must be one of {', '.join(PROVIDERS)}, got {provider!r}")
        if not client_id:
            raise OptionError("client_id", "the OAuth 2.0 client id is required (or set JIRA_CLIENT_ID)")
        self.client = client
        self.provider = provider
        self.client_id = client_id
        self.client_secret = client_secret
        self.audience = audience or CLOUD_AUDIENCE
        self.requests_made = 0
        client.redactor.add(client_secret)

    def url(self, grant_type):
        return token_url(self.client, self.provider, grant_type)

    def request(self, grant_type, **fields):
        """POST one token request and return a Token; raises JiraError with a clear message."""
        if not self.client_secret:
            raise OptionError("client_secret", f"grant_type={grant_type} needs the client secret "
                                               "(or set JIRA_CLIENT_SECRET)")
        body = {"grant_type": grant_type, "client_id": self.client_id, "client_secret": self.client_secret}
        if grant_type == "client_credentials" and self.provider == "cloud":
            body["audience"] = self.audience
        body.update({k: v for k, v in fields.items() if v not in (None, "")})
        for key in ("refresh_token", "code", "code_verifier"):
            self.client.redactor.add(body.get(key))
        url = self.url(grant_type)
        self.client.debug(f"OAuth 2.0 {grant_type} token request for client {self.client_id}")
        self.requests_made += 1
        now = _clock_of(self.client).time()
        try:
            if self.provider == "cloud":
                resp = self.client.request("POST", url, json=body, authenticate=False)
            else:
                resp = self.client.request(
                    "POST", url, data=urlencode(body).encode("ascii"), authenticate=False,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        except JiraError as exc:
            raise self._explain(exc, grant_type) from None
        payload = resp.json if isinstance(resp.json, dict) else {}
        if not payload.get("access_token"):
            raise JiraError("the token endpoint answered without an access_token", method="POST", path=resp.path,
                            status=resp.status)
        token = Token.from_reply(payload, now)
        self.client.redactor.add(token.access_token)
        self.client.redactor.add(token.refresh_token)
        return token

    def _explain(self, exc, grant_type):
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error")
        described = body.get("error_description")
        server = f"{error}: {described}" if error and described else (error or described or "")
        if exc.status is None or exc.status >= 500 or exc.status == 429:
            return exc
        if "audience" in (described or "") and self.provider == "cloud":
            message = f"the token endpoint refused the audience {self.audience!r}"
            option = "audience"
        elif exc.status == 401 or error in ("invalid_client", "access_denied"):
            message = ("the token endpoint refused the client credentials: check client_id and client_secret "
                       f"(and provider={self.provider})")
            option = "client_secret"
        elif error == "invalid_scope":
            message = "the requested scopes were refused"
            option = "scopes"
        elif error == "unsupported_grant_type" and grant_type == "client_credentials" and self.provider == "datacenter":
            message = ("Jira Data Center does not give this client the client_credentials grant: on Data Center it "
                       f"exists only for service accounts (Jira 10.x and later, POST {self.url(grant_type)}, no "
                       "refresh token), not for the incoming-link OAuth 2.0 clients of Jira 8.22 to 10; use a "
                       "service account's client_id, or grant_type=authorization_code with this client")
            option = "grant_type"
        elif grant_type == "authorization_code":
            message = ("the authorization code was refused: a code works once, for a few minutes, with the same "
                       "redirect_uri (and code_verifier when PKCE was used); start the authorization again")
            option = "code"
        elif grant_type == "refresh_token":
            message = ("the refresh token was refused: it was revoked, expired unused, or already rotated and "
                       "reused; the user must authorize the app again (role jiraops.integration.oauth2_authorize)")
            option = "refresh_token"
        elif error == "unauthorized_client":
            message = f"the client may not use grant_type={grant_type}"
            option = "grant_type"
        else:
            message = "the token request failed"
            option = None
        if server:
            message = f"{message} ({server})"
        return JiraError(message, status=exc.status, method=exc.method, path=exc.path, option=option)


class TokenSource:
    """GET-AND-REFRESH: a valid access token for one credential, from the store when one is good enough.

    ``kind`` is KIND_CLIENT (client credentials: a new token is simply requested) or KIND_USER (a user's grant:
    refreshed with the chain's current refresh token, which rotates).
    """

    def __init__(self, endpoint, kind, store=None, min_ttl=60, refresh_token=None, scopes=None, warn=None,
                 clock=None):
        self.endpoint = endpoint
        # Token lifetimes are judged on the client's clock, so a test can let a token age without waiting.
        self.clock = clock or _clock_of(endpoint.client)
        self.kind = kind
        self.store = store
        self.min_ttl = max(0, min_ttl or 0)
        self.refresh_token = refresh_token
        self.scopes = scopes
        self.warn = warn or (lambda msg: None)
        grant = "client_credentials" if kind == KIND_CLIENT else "refresh_token"
        self.key = store_key(endpoint.provider, kind, endpoint.client_id, endpoint.url(grant))
        self.obtained = 0
        self._used_refresh_token = None  # the refresh token the last refresh sent (joins the chain's fingerprints)
        if refresh_token:
            endpoint.client.redactor.add(refresh_token)

    # -- the store entry ---------------------------------------------------------------------------------------
    def _belongs(self, entry):
        """Does the cached entry continue the chain of the given refresh_token (or is none given)?"""
        if self.kind != KIND_USER or not self.refresh_token:
            return True
        return fingerprint(self.refresh_token) in (entry.get("chain") or [])

    def _usable(self, entry, reject=None):
        """An entry of this credential with an access token (not the rejected one) covering the wanted scopes."""
        if not entry or not entry.get("access_token") or entry["access_token"] == reject or not self._belongs(entry):
            return False
        # Tokens obtained with another client secret (rotated, or a typo now) are not handed out for this one.
        if entry.get("client_secret_sha256") != self._secret_fingerprint():
            return False
        return not self.scopes or set(self.scopes) <= set(entry.get("scopes") or [])

    def _secret_fingerprint(self):
        return fingerprint(self.endpoint.client_secret) if self.endpoint.client_secret else None

    def _good(self, entry, now):
        return self._usable(entry) and Token.from_entry(entry).remaining(now) > self.min_ttl

    def cached(self):
        """The stored token when it is good for more than min_ttl seconds, else None (no network, no lock)."""
        if self.store is None:
            return None
        entry = self.store.get(self.key)
        if self._good(entry, self.clock.time()):
            token = Token.from_entry(entry)
            self._redact(token)
            return token
        return None

    def _redact(self, token):
        self.endpoint.client.redactor.add(token.access_token)
        self.endpoint.client.redactor.add(token.refresh_token)

    # -- obtaining -------------------------------------------------------------------------------------------
    def get(self, reject=None):
        """(Token, obtained) — ``reject`` is an access token the server refused (401): never hand it out again."""
        now = self.clock.time()
        if self.store is None:
            return self._obtain(None), True
        if reject is None:
            token = self.cached()
            if token is not None:
                return token, False
        waited_since = now
        with self.store.locked() as tx:
            entry = tx.get(self.key)
            if self._usable(entry, reject):
                token = Token.from_entry(entry)
                now = self.clock.time()
                if token.remaining(now) > self.min_ttl:
                    self._redact(token)
                    return token, False
                # Obtained by another process while this one waited for the lock: as fresh as a new one would be.
                if token.obtained_at >= waited_since and token.remaining(now) > 0:
                    self._redact(token)
                    return token, False
            token = self._obtain(entry)
            # Persist first (rotated refresh token included), then let the caller use the access token.
            tx.put(self.key, self._entry(token, entry))
        return token, True

    def _obtain(self, entry):
        self.obtained += 1
        if self.kind == KIND_CLIENT:
            token = self.endpoint.request("client_credentials", scope=" ".join(self.scopes) if self.scopes else None)
            if not token.scope_reported and self.scopes:
                token.scopes = list(self.scopes)  # granted as requested, else the reply would name them
        else:
            refresh_token = self._refresh_token_for(entry)
            token = self.endpoint.request("refresh_token", refresh_token=refresh_token)
            if not token.refresh_token:
                token.refresh_token = refresh_token  # a server that does not rotate keeps the old one valid
            if not token.scope_reported and entry and self._belongs(entry):
                token.scopes = list(entry.get("scopes") or [])  # a refresh keeps the grant's scopes
            if entry and self._belongs(entry):
                token.granted_at = entry.get("granted_at")
            self._used_refresh_token = refresh_token
        left = token.remaining(self.clock.time())
        if token.expires_at is not None and left <= self.min_ttl:
            self.warn(f"min_ttl ({self.min_ttl}s) is not shorter than the token lifetime "
                      f"({int(left)}s): every use will request a new token")
        return token

    def _refresh_token_for(self, entry):
        stored = entry.get("refresh_token") if entry else None
        if stored and self._belongs(entry):
            return stored
        if self.refresh_token:
            return self.refresh_token
        raise OptionError(
            "refresh_token",
            "no refresh token: the token_cache has none for this client and refresh_token is not set; "
            "authorize first (role jiraops.integration.oauth2_authorize or module oauth2_token with "
            "grant_type=authorization_code)",
        )

    def _entry(self, token, previous):
        entry = {
            "provider": self.endpoint.provider,
            "kind": self.kind,
            "client_id": self.endpoint.client_id,
            "token_url": self.endpoint.url("client_credentials" if self.kind == KIND_CLIENT else "refresh_token"),
            "access_token": token.access_token,
            "token_type": token.token_type,
            "expires_at": token.expires_at,
            "scopes": token.scopes,
            "obtained_at": token.obtained_at,
            "client_secret_sha256": self._secret_fingerprint(),
        }
        if self.kind == KIND_USER:
            entry["granted_at"] = token.granted_at  # kept across rotations: the 365-day limit counts from it (credential_info)
            chain = list((previous or {}).get("chain") or []) if previous and self._belongs(previous) else []
            for value in (self.refresh_token, self._used_refresh_token, token.refresh_token):
                if value and fingerprint(value) not in chain:
                    chain.append(fingerprint(value))
            entry["refresh_token"] = token.refresh_token
            entry["chain"] = chain[-CHAIN_MEMORY:]
        return entry

    def start_chain(self, token):
        """Store a user's first tokens (from an authorization code), replacing any older grant of this client."""
        if token.granted_at is None:
            token.granted_at = token.obtained_at
        if self.store is None:
            return
        self._used_refresh_token = None
        self.refresh_token = None
        with self.store.locked() as tx:
            tx.put(self.key, self._entry(token, None))


class PendingAuthorization:
    """The state and PKCE verifier of an authorization request, kept in the token store between the run that built
    the authorize URL and the run that exchanges the code.

    In the store rather than in a file of its own, so that the verifier gets the store's rules (0600, never
    written through a link, refused when another user owns it, written under the lock) without a second set.
    """

    def __init__(self, store, client, provider, client_id):
        self.store = store
        self.client = client
        url = token_url(client, provider, "authorization_code")
        self.key = store_key(provider, KIND_PENDING, client_id, url)
        self.entry = {"provider": provider, "kind": KIND_PENDING, "client_id": client_id, "token_url": url}

    def keep(self, state, code_verifier=None):
        """Replace any earlier pending request of this client: only the latest authorize URL can succeed."""
        entry = dict(self.entry, state=state, created_at=time.time())
        if code_verifier:
            entry["code_verifier"] = code_verifier
        with self.store.locked() as tx:
            tx.put(self.key, entry)

    def get(self):
        """(state, code_verifier) kept for this client, each None when absent."""
        entry = self.store.get(self.key) or {}
        verifier = entry.get("code_verifier")
        self.client.redactor.add(verifier)
        return entry.get("state"), verifier

    def forget(self):
        """Drop the request once its code was exchanged (the verifier is of no further use, only a secret)."""
        if self.store.get(self.key) is None:
            return
        with self.store.locked() as tx:
            tx.delete(self.key)
