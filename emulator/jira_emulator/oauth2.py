"""OAuth 2.0: Atlassian's authorization server (2LO client credentials, 3LO authorization code, rotating refresh
tokens with reuse detection), the cloud gateway (``/ex/jira/{cloudid}/...``, accessible-resources; the site's
tenant_info is served by ``devops.py``), and Jira Data Center's OAuth 2.0 provider (authorize, token,
incoming-link clients).

Access tokens are issued into ``state.bearer_tokens`` so every REST route accepts them, scopes enforced.
Control endpoints live under ``/_emulator/oauth2/...``; expiries are tunable through ``/_emulator/config``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, current_app, g, jsonify, redirect, request
from werkzeug.datastructures import MultiDict

from . import auth
from .core import CONTROL_PREFIX, json_body
from .http import jira_error, jira_json, unauthorized

bp = Blueprint("oauth2", __name__)
control_bp = Blueprint("oauth2_control", __name__, url_prefix=f"{CONTROL_PREFIX}/oauth2")

CLOUD_AUDIENCE = "api.atlassian.com"
DC_SCOPES = ("READ", "WRITE", "ADMIN", "SYSTEM_ADMIN")
# Data Center scopes are hierarchical: a token for ADMIN may do everything READ and WRITE allow.
DC_SCOPE_IMPLIES = {s: DC_SCOPES[: i + 1] for i, s in enumerate(DC_SCOPES)}
CLOUD_SCOPES = ("read:jira-work", "write:jira-work", "read:jira-user", "manage:jira-configuration",
                "manage:jira-project", "read:me", "offline_access")

# environ keys set by the gateway middleware
GATEWAY_CLOUD_ID = "jira_emulator.gateway_cloud_id"
ORIGINAL_PATH = "jira_emulator.original_path"
_GATEWAY_RE = re.compile(r"^/ex/jira/([^/]+)(/.*)?$")

APP_USER = {"name": "ci-reporting-app", "password": None, "displayName": "CI reporting (OAuth credentials)",
            "emailAddress": "ci-reporting-app@connect.atlassian.com", "accountId": "712020:emu-ci-reporting-app",
            "admin": False, "accountType": "app"}

DEFAULT_CLIENTS = [
    # Jira Software Cloud "OAuth credentials" (2LO), created by a site admin for one site.
    {"client_id": "emu-2lo-client-0001", "client_secret": "emu-2lo-secret-0001-do-not-share", "kind": "credentials",
     "user": APP_USER["name"], "scopes": ["read:jira-work", "write:jira-work", "read:jira-user"] + [
         f"{verb}:{kind}:jira-software" for kind in ("build", "deployment", "source-code", "feature-flag")
         for verb in ("read", "write")]},
    # A developer-console app with OAuth 2.0 (3LO).
    {"client_id": "emu-3lo-app-0001", "client_secret": "emu-3lo-secret-0001-do-not-share", "kind": "app",
     "name": "Jira Junior automation", "redirect_uris": ["https://ci.example.com/oauth/callback"],
     "scopes": list(CLOUD_SCOPES)},
]

DEFAULT_CONFIG = {
    "oauth2_credentials_ttl": 900,  # 2LO access tokens: 15 minutes
    "oauth2_access_ttl": 3600,  # 3LO access tokens
    "oauth2_dc_access_ttl": 3600,  # Data Center access tokens
    "oauth2_code_ttl": 600,  # authorization codes
    "oauth2_refresh_ttl": 90 * 86400,  # an unused refresh token expires after 90 days
    "oauth2_grant_max_age": 365 * 86400,  # and every refresh token of a grant 365 days after the consent
    # Token reply fields left out (RFC 6749 makes scope optional and a refresh token is never due to 2LO):
    # any of "scope", "refresh_token".
    "oauth2_omit_reply_fields": [],
    "oauth2_reuse_grace": 60,  # a rotated refresh token still works this long (Atlassian's reuse interval)
    "extra_sites": [],  # more sites a 3LO grant can reach: [{"id", "url", "name"}]
}


def _state():
    return current_app.config["STATE"]


def _data(state=None):
    return (state or _state()).features["oauth2"]


def _cfg(key):
    return _state().config.get(key, DEFAULT_CONFIG[key])


def _fingerprint(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _reset(state):
    state.features["oauth2"] = {
        "clients": {c["client_id"]: dict(c) for c in DEFAULT_CLIENTS},
        "dc_clients": {},
        "codes": {},
        "chains": {},
        "chain_seq": 0,
        "refresh_tokens": {},
        "token_log": [],
        "events": [],
    }
    state.users.setdefault(APP_USER["name"], dict(APP_USER))
    for key, value in DEFAULT_CONFIG.items():
        state.config.setdefault(key, list(value) if isinstance(value, list) else value)


# -- sites ---------------------------------------------------------------------------------------------------
def _sites():
    state = _state()
    primary = {"id": state.config["cloud_id"], "name": state.config.get("site_name", "jira-junior"),
               "url": (state.config.get("site_url") or request.host_url).rstrip("/")}
    return [primary] + [dict(s) for s in state.config.get("extra_sites") or []]


# -- errors --------------------------------------------------------------------------------------------------
def oauth_error(status, error, description):
    return jira_json({"error": error, "error_description": description}, status=status,
                     headers={"Cache-Control": "no-store"})


class OAuthFailure(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.response = oauth_error(status, error, description)
        self.error = error


def _log_token_request(provider, client_id, grant_type, status, error=None):
    state = _state()
    with state.lock:
        log = _data(state)["token_log"]
        log.append({"seq": len(log) + 1, "time": time.time(), "provider": provider, "client_id": client_id,
                    "grant_type": grant_type, "status": status, "error": error})


# -- tokens --------------------------------------------------------------------------------------------------
def _issue_access_token(state, *, provider, client_id, user, scopes, ttl, chain=None, cloud_ids=None):
    token = ("emu-at-" if provider == "cloud" else "emu-dc-at-") + secrets.token_urlsafe(32)
    state.bearer_tokens[token] = {
        "user": user, "scopes": sorted(scopes), "expires_at": time.time() + ttl, "client_id": client_id,
        "revoked": False, "provider": provider, "chain": chain, "cloud_ids": cloud_ids,
        # Cloud OAuth 2.0 tokens work only through the gateway (/ex/jira/{cloudid}), never on the site URL.
        "gateway_only": provider == "cloud",
    }
    return token


def _new_chain(state, *, provider, client_id, user, scopes, cloud_ids):
    data = _data(state)
    data["chain_seq"] += 1
    chain = {"id": data["chain_seq"], "provider": provider, "client_id": client_id, "user": user,
             "scopes": sorted(scopes), "cloud_ids": cloud_ids, "head": None, "revoked": False,
             "revoked_reason": None, "rotations": 0, "grace_reuses": 0, "created": time.time(),
             "access_tokens": [], "refresh_tokens": []}
    data["chains"][chain["id"]] = chain
    return chain


def _issue_refresh_token(state, chain):
    token = ("emu-rt-" if chain["provider"] == "cloud" else "emu-dc-rt-") + secrets.token_urlsafe(40)
    _data(state)["refresh_tokens"][token] = {"chain": chain["id"], "issued_at": time.time(), "superseded_at": None}
    chain["refresh_tokens"].append(token)
    chain["head"] = token
    return token


def _revoke_chain(state, chain, reason):
    chain["revoked"] = True
    chain["revoked_reason"] = reason
    for token in chain["access_tokens"]:
        if token in state.bearer_tokens:
            state.bearer_tokens[token]["revoked"] = True
    _data(state)["events"].append({"time": time.time(), "event": "chain_revoked", "chain": chain["id"],
                                   "client_id": chain["client_id"], "reason": reason})


def _token_reply(access_token, ttl, scopes, refresh_token=None):
    body = {"access_token": access_token, "expires_in": int(ttl), "token_type": "Bearer", "scope": " ".join(sorted(scopes))}
    if refresh_token:
        body["refresh_token"] = refresh_token
    for field in _cfg("oauth2_omit_reply_fields") or []:
        body.pop(field, None)
    return jira_json(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _form():
    """Token requests come as JSON (Atlassian's docs) or form-encoded (RFC 6749); accept both, strictly."""
    ctype = (request.mimetype or "").lower()
    if ctype == "application/json":
        data = json_body()
        if not isinstance(data, dict):
            raise OAuthFailure(400, "invalid_request", "The request body must be a JSON object")
        return MultiDict({k: ("" if v is None else str(v)) for k, v in data.items()})
    if ctype == "application/x-www-form-urlencoded":
        return request.form
    raise OAuthFailure(415, "invalid_request", "Unsupported content type: send application/json or "
                                               "application/x-www-form-urlencoded")


def _client_auth(form):
    """(client_id, client_secret) from the body or HTTP Basic."""
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic ") and not client_secret:
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            hid, _sep, hsecret = raw.partition(":")
            client_id, client_secret = client_id or hid, hsecret
        except (ValueError, UnicodeDecodeError):
            pass
    return client_id, client_secret


def _check_client(provider, clients, client_id, client_secret):
    client = clients.get(client_id or "")
    if client is None or not client_secret or not hmac.compare_digest(
            client["client_secret"].encode(), client_secret.encode()):
        if provider == "cloud":
            raise OAuthFailure(401, "access_denied", "Unauthorized")
        raise OAuthFailure(401, "invalid_client", "Client authentication failed")
    return client


def _verify_pkce(code, verifier):
    challenge = code.get("code_challenge")
    if not challenge:
        return
    if not verifier:
        raise OAuthFailure(400, "invalid_grant", "code_verifier is required: the authorization used PKCE")
    if code.get("code_challenge_method", "plain").upper() == "S256":
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    else:
        computed = verifier
    if not hmac.compare_digest(computed, challenge):
        raise OAuthFailure(400, "invalid_grant", "PKCE verification failed: code_verifier does not match the "
                                                 "code_challenge")


def _grant_client_credentials(state, provider, client, form):
    if provider == "cloud":
        audience = form.get("audience")
        if audience != CLOUD_AUDIENCE:
            raise OAuthFailure(403, "access_denied",
                               f"Unauthorized: audience must be {CLOUD_AUDIENCE!r}, got {audience or 'none'!r}")
        if client.get("kind") != "credentials":
            raise OAuthFailure(403, "unauthorized_client",
                               "The client is not allowed to use the client_credentials grant")
        scopes = list(client["scopes"])
        wanted = (form.get("scope") or "").split()
        if wanted:
            extra = sorted(set(wanted) - set(scopes))
            if extra:
                raise OAuthFailure(403, "invalid_scope", f"Scopes not granted to these credentials: {' '.join(extra)}")
            scopes = wanted
        user, ttl = client["user"], _cfg("oauth2_credentials_ttl")
        cloud_ids = [client.get("cloud_id") or state.config["cloud_id"]]
    else:
        # The clients of /rest/oauth2/latest/client are incoming-link clients: Jira 8.22-10 gives them the
        # authorization code grant only. (Client credentials on Data Center belong to the service accounts of
        # Jira 10.x and later, which this emulator does not have.)
        if not client.get("service_account"):
            raise OAuthFailure(400, "unsupported_grant_type", "The grant type client_credentials is not supported "
                                                              "for this client")
        scopes = list(DC_SCOPE_IMPLIES[client["scope"]])
        user, ttl, cloud_ids = client["userKey"], _cfg("oauth2_dc_access_ttl"), None
    token = _issue_access_token(state, provider=provider, client_id=client["client_id"], user=user, scopes=scopes,
                                ttl=ttl, cloud_ids=cloud_ids)
    return _token_reply(token, ttl, scopes)


def _grant_authorization_code(state, provider, client, form):
    data = _data(state)
    code_value = form.get("code") or ""
    code = data["codes"].get(code_value)
    invalid = "Invalid authorization code"
    if code is None or code["provider"] != provider or code["client_id"] != client["client_id"]:
        raise OAuthFailure(403 if provider == "cloud" else 400, "invalid_grant", invalid)
    if code["used"]:
        # RFC 6749 10.5: a code used twice revokes what it granted.
        chain = data["chains"].get(code.get("chain"))
        if chain and not chain["revoked"]:
            _revoke_chain(state, chain, "authorization code used twice")
        raise OAuthFailure(403 if provider == "cloud" else 400, "invalid_grant", f"{invalid}: already used")
    if time.time() > code["expires_at"]:
        raise OAuthFailure(403 if provider == "cloud" else 400, "invalid_grant", f"{invalid}: the code expired")
    if form.get("redirect_uri") != code["redirect_uri"]:
        raise OAuthFailure(403 if provider == "cloud" else 400, "invalid_grant",
                           f"{invalid}: redirect_uri does not match the authorization request")
    _verify_pkce(code, form.get("code_verifier"))
    code["used"] = True
    scopes = code["scopes"]
    if provider == "cloud":
        ttl, cloud_ids = _cfg("oauth2_access_ttl"), [s["id"] for s in _sites()]
        token_scopes = scopes
    else:
        ttl, cloud_ids = _cfg("oauth2_dc_access_ttl"), None
        token_scopes = list(DC_SCOPE_IMPLIES[scopes[0]])
    chain = _new_chain(state, provider=provider, client_id=client["client_id"], user=code["user"],
                       scopes=token_scopes, cloud_ids=cloud_ids)
    code["chain"] = chain["id"]
    access = _issue_access_token(state, provider=provider, client_id=client["client_id"], user=code["user"],
                                 scopes=token_scopes, ttl=ttl, chain=chain["id"], cloud_ids=cloud_ids)
    chain["access_tokens"].append(access)
    refresh = None
    if provider == "datacenter" or "offline_access" in scopes:
        refresh = _issue_refresh_token(state, chain)
    return _token_reply(access, ttl, scopes, refresh)


def _grant_refresh_token(state, provider, client, form):
    data = _data(state)
    value = form.get("refresh_token") or ""
    info = data["refresh_tokens"].get(value)
    chain = data["chains"].get(info["chain"]) if info else None
    status, error = (403, "unauthorized_client") if provider == "cloud" else (400, "invalid_grant")
    if chain is None or chain["client_id"] != client["client_id"] or chain["provider"] != provider:
        raise OAuthFailure(status, error, "refresh_token is invalid")
    if chain["revoked"]:
        raise OAuthFailure(status, error, f"refresh_token is invalid: the grant was revoked ({chain['revoked_reason']})")
    now = time.time()
    if info["superseded_at"] is None and now - info["issued_at"] > _cfg("oauth2_refresh_ttl"):
        raise OAuthFailure(status, error, "refresh_token is invalid: it expired unused")
    if now - chain["created"] > _cfg("oauth2_grant_max_age"):
        raise OAuthFailure(status, error, "refresh_token is invalid: the grant is older than its maximum lifetime")
    if value != chain["head"]:
        if info["superseded_at"] is not None and now - info["superseded_at"] <= _cfg("oauth2_reuse_grace"):
            chain["grace_reuses"] += 1
        else:
            _revoke_chain(state, chain, "a rotated refresh token was reused")
            raise OAuthFailure(status, error, "refresh_token is invalid: a rotated refresh token was reused, "
                                              "so the whole grant was revoked; the user must authorize again")
    ttl = _cfg("oauth2_access_ttl") if provider == "cloud" else _cfg("oauth2_dc_access_ttl")
    access = _issue_access_token(state, provider=provider, client_id=client["client_id"], user=chain["user"],
                                 scopes=chain["scopes"], ttl=ttl, chain=chain["id"], cloud_ids=chain["cloud_ids"])
    chain["access_tokens"].append(access)
    if "refresh_token" in (_cfg("oauth2_omit_reply_fields") or []):
        # A server that sends no new refresh token does not rotate: the one used stays valid (and counts as used).
        info["issued_at"] = now
        return _token_reply(access, ttl, chain["scopes"])
    head = data["refresh_tokens"][chain["head"]]
    if head["superseded_at"] is None:
        head["superseded_at"] = now
    if info["superseded_at"] is None:
        info["superseded_at"] = now
    chain["rotations"] += 1
    refresh = _issue_refresh_token(state, chain)
    return _token_reply(access, ttl, chain["scopes"], refresh)


GRANTS = {
    "client_credentials": _grant_client_credentials,
    "authorization_code": _grant_authorization_code,
    "refresh_token": _grant_refresh_token,
}


def _token_endpoint(provider):
    state = _state()
    grant_type, client_id = None, None
    try:
        form = _form()
        grant_type = form.get("grant_type")
        client_id, client_secret = _client_auth(form)
        if grant_type not in GRANTS:
            raise OAuthFailure(400, "unsupported_grant_type", f"Unsupported grant_type: {grant_type or 'none'}")
        with state.lock:
            clients = _data(state)["clients"] if provider == "cloud" else _data(state)["dc_clients"]
            client = _check_client(provider, clients, client_id, client_secret)
            response = GRANTS[grant_type](state, provider, client, form)
    except OAuthFailure as exc:
        _log_token_request(provider, client_id, grant_type, exc.response.status_code, exc.error)
        return exc.response
    _log_token_request(provider, client_id, grant_type, 200)
    return response


@bp.post("/oauth/token")
def cloud_token():
    return _token_endpoint("cloud")


@bp.post("/rest/oauth2/latest/token")
def dc_token():
    return _token_endpoint("datacenter")


# -- authorize (consent) ---------------------------------------------------------------------------------------
class AuthorizeError(Exception):
    """An error that cannot be sent back to the client (unknown client or redirect_uri): shown to the user."""


def _authorize_request(provider, args):
    """Validate an authorization request; returns (client, params) or raises AuthorizeError / redirect errors."""
    data = _data()
    clients = data["clients"] if provider == "cloud" else data["dc_clients"]
    client = clients.get(args.get("client_id") or "")
    if client is None or (provider == "cloud" and client.get("kind") != "app"):
        raise AuthorizeError("Invalid client_id: no such app")
    redirect_uris = client.get("redirect_uris") if provider == "cloud" else client.get("redirects")
    if args.get("redirect_uri") not in (redirect_uris or []):
        raise AuthorizeError("The redirect_uri does not match the callback URL registered for the app")
    problems = []
    if args.get("response_type") != "code":
        problems.append(("unsupported_response_type", "response_type must be code"))
    if provider == "cloud":
        if args.get("audience") != CLOUD_AUDIENCE:
            problems.append(("invalid_request", f"audience must be {CLOUD_AUDIENCE}"))
        scopes = (args.get("scope") or "").split()
        unknown = [s for s in scopes if s not in client["scopes"]]
        if not scopes or unknown:
            problems.append(("invalid_scope", f"Invalid scope: {' '.join(unknown) or 'none requested'}"))
    else:
        scopes = (args.get("scope") or client["scope"]).split()
        allowed = DC_SCOPE_IMPLIES[client["scope"]]
        if len(scopes) != 1 or scopes[0] not in allowed:
            problems.append(("invalid_scope", f"scope must be one of {', '.join(allowed)}"))
        method = args.get("code_challenge_method")
        if method and method.upper() not in ("S256", "PLAIN"):
            problems.append(("invalid_request", "code_challenge_method must be S256 or plain"))
    return client, scopes, problems


def _redirect_with(uri, **params):
    sep = "&" if urlsplit(uri).query else "?"
    return redirect(uri + sep + urlencode({k: v for k, v in params.items() if v is not None}), code=302)


def _page(title, body, status=200):
    doc = (f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head>"
           f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return current_app.response_class(doc, status=status, mimetype="text/html")


def _consent_form(provider, client, scopes, args, message=""):
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in args.items() if k not in ("username", "password", "decision"))
    name = client.get("name") or client["client_id"]
    items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    note = f'<p class="error">{html.escape(message)}</p>' if message else ""
    body = (f"<p>{html.escape(name)} is requesting access to your Atlassian account.</p><ul>{items}</ul>{note}"
            f'<form method="post" action="{html.escape(request.path)}">{hidden}'
            '<label>Username <input name="username"></label> <label>Password <input name="password" '
            'type="password"></label> <button name="decision" value="accept">Accept</button> '
            '<button name="decision" value="deny">Deny</button></form>')
    return _page("Authorize access", body, status=401 if message else 200)


def _authorize(provider):
    state = _state()
    # The consent form posts back to the authorize URL: its query plus the user's answer in the body.
    args = MultiDict(request.args) if request.method == "GET" else request.values
    try:
        client, scopes, problems = _authorize_request(provider, args)
    except AuthorizeError as exc:
        return _page("Something went wrong", f"<p>{html.escape(str(exc))}</p>", status=400)
    if problems:
        error, description = problems[0]
        return _redirect_with(args["redirect_uri"], error=error, error_description=description,
                              state=args.get("state"))
    if request.method == "GET":
        return _consent_form(provider, client, scopes, args)
    if args.get("decision") == "deny":
        return _redirect_with(args["redirect_uri"], error="access_denied",
                              error_description="The user denied the request", state=args.get("state"))
    if args.get("decision") != "accept":
        return _consent_form(provider, client, scopes, args, "Choose Accept or Deny")
    user = state.user_by_name(args.get("username") or "")
    if not user or not user.get("password") or not hmac.compare_digest(
            user["password"].encode(), (args.get("password") or "").encode()):
        return _consent_form(provider, client, scopes, args, "Sorry, your username and password are incorrect")
    code_value = secrets.token_urlsafe(24)
    with state.lock:
        _data(state)["codes"][code_value] = {
            "provider": provider, "client_id": client["client_id"], "user": user["name"], "scopes": scopes,
            "redirect_uri": args["redirect_uri"], "expires_at": time.time() + _cfg("oauth2_code_ttl"),
            "used": False, "code_challenge": args.get("code_challenge"),
            "code_challenge_method": args.get("code_challenge_method") or "plain", "chain": None}
    return _redirect_with(args["redirect_uri"], code=code_value, state=args.get("state"))


@bp.route("/authorize", methods=["GET", "POST"])
def cloud_authorize():
    return _authorize("cloud")


@bp.route("/rest/oauth2/latest/authorize", methods=["GET", "POST"])
def dc_authorize():
    return _authorize("datacenter")


# -- cloud gateway -------------------------------------------------------------------------------------------
@bp.get("/oauth/token/accessible-resources")
def accessible_resources():
    try:
        principal = auth.current_principal()
    except auth.AuthFailed as exc:
        return exc.response
    if principal is None or principal.via != "oauth2":
        return jira_json({"code": 401, "message": "Unauthorized"}, status=401)
    cloud_ids = principal.extra.get("cloud_ids")
    scopes = sorted(principal.scopes or [])
    return jira_json([
        dict(site, scopes=scopes, avatarUrl="https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png")
        for site in _sites() if cloud_ids is None or site["id"] in cloud_ids
    ])


class GatewayMiddleware:
    """``/ex/jira/{cloudid}/rest/...`` reaches the same REST handlers as ``/rest/...`` on the site."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        match = _GATEWAY_RE.match(environ.get("PATH_INFO", ""))
        if match:
            environ[ORIGINAL_PATH] = environ["PATH_INFO"]
            environ[GATEWAY_CLOUD_ID] = match.group(1)
            environ["PATH_INFO"] = match.group(2) or "/"
        return self.wsgi_app(environ, start_response)


def _gateway_error(status, message):
    return jira_json({"code": status, "message": message}, status=status)


def gateway_check():
    """Runs after the request log entry exists: record the path as sent, then apply the gateway's rules."""
    cloud_id = request.environ.get(GATEWAY_CLOUD_ID)
    if cloud_id is None:
        return None
    entry = g.get("log_entry")
    if entry is not None:
        entry["path"] = request.environ[ORIGINAL_PATH]
        entry["gateway_cloud_id"] = cloud_id
    if request.path.startswith(CONTROL_PREFIX) or request.path.startswith("/ex/"):
        return _gateway_error(404, "Not Found")
    state = _state()
    if cloud_id not in {s["id"] for s in _sites()}:
        return _gateway_error(404, "Not Found")
    scheme, _sep, credentials = request.headers.get("Authorization", "").partition(" ")
    with state.lock:
        info = state.bearer_tokens.get(credentials.strip()) if scheme.lower() == "bearer" else None
    if info is None:
        return _gateway_error(401, "Unauthorized")
    allowed = info.get("cloud_ids")
    if allowed is not None and cloud_id not in allowed:
        return _gateway_error(401, "Unauthorized; scope does not match")
    return None


def _wrap_bearer(base):
    if getattr(base, "gateway_aware", False):
        return base

    def bearer(state, credentials):
        principal = base(state, credentials)
        if principal.extra.get("gateway_only") and request.environ.get(GATEWAY_CLOUD_ID) is None \
                and request.path.startswith("/rest/"):
            raise auth.AuthFailed(unauthorized(
                "OAuth 2.0 access tokens for Jira Cloud are accepted only through the API gateway "
                "(https://api.atlassian.com/ex/jira/{cloudid}/...)", challenge='Bearer error="invalid_token"'))
        return principal

    bearer.gateway_aware = True
    return bearer


# -- Data Center incoming OAuth 2.0 clients (admin) -------------------------------------------------------------
# As the provider plugin's ClientResource maps them: GET/POST client; GET/PUT/DELETE client/{id} (the client's ``id``);
# PUT client/reset/{clientId} (its ``clientId``). Anything else answers 404 (no such path) or 405 (other method).
# Every reply carries ``clientSecret``, as Jira's RestClientEntity does, so the module must keep it to itself.
CLIENT_MISSING = "The client does not exist."


def _dc_client_json(client):
    return {"id": client["id"], "clientId": client["client_id"], "clientSecret": client["client_secret"],
            "name": client["name"], "scope": client["scope"], "redirects": list(client["redirects"]),
            "userKey": client["userKey"]}


def _dc_client_by_id(store, client_id_or_id):
    return next((c for c in store["dc_clients"].values() if c["id"] == client_id_or_id), None)


def _validate_dc_client(store, data, current=None):
    """Jira's RestClientValidator: an update merges blank fields from the current client, then all is checked."""
    if not isinstance(data, dict):
        return {"body": "must be a JSON object"}, None
    unknown = set(data) - {"name", "scope", "redirects", "id", "clientId", "clientSecret", "userKey"}
    if unknown:
        return {"body": f"Unrecognized field(s): {', '.join(sorted(unknown))}"}, None
    errors = {}
    name = data.get("name").strip() if isinstance(data.get("name"), str) else data.get("name")
    scope = data.get("scope")
    redirects = data.get("redirects")
    if current is not None:
        name = name or current["name"]
        scope = scope or current["scope"]
        redirects = redirects or current["redirects"]
    if not isinstance(name, str) or not name:
        errors["name"] = "The name is required."
    elif len(name) > 255:
        errors["name"] = "The name must be 255 characters or fewer."
    elif any(c["name"] == name and c is not current for c in store["dc_clients"].values()):
        errors["name"] = "An application link with this name already exists."
    if scope not in DC_SCOPES:
        errors["scope"] = f"The scope must be one of {', '.join(DC_SCOPES)}."
    if not isinstance(redirects, list) or not redirects:
        errors["redirects"] = "At least one redirect URL is required."
    else:
        for uri in redirects:
            parts = urlsplit(uri) if isinstance(uri, str) else None
            if not parts or parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
                errors["redirects"] = f"Invalid redirect URL: {uri!r}"
                break
    if errors:
        return errors, None
    # Jira stores the redirect URLs trimmed, sorted and without duplicates.
    return {}, {"name": name, "scope": scope, "redirects": sorted({u.strip() for u in redirects})}


ADMIN_SCOPES = ("ADMIN", "SYSTEM_ADMIN")


@bp.get("/rest/oauth2/latest/client")
@auth.require_user(admin=True, scopes=ADMIN_SCOPES)
def dc_list_clients(principal):
    with _state().lock:
        clients = sorted(_data()["dc_clients"].values(), key=lambda c: c["client_id"])  # ORDER BY CLIENT_ID
        return jira_json([_dc_client_json(c) for c in clients])


@bp.get("/rest/oauth2/latest/client/<client_id_or_id>")
@auth.require_user(admin=True, scopes=ADMIN_SCOPES)
def dc_get_client(principal, client_id_or_id):
    with _state().lock:
        client = _dc_client_by_id(_data(), client_id_or_id)
        if client is None:
            return jira_error(404, CLIENT_MISSING)
        return jira_json(_dc_client_json(client))


@bp.post("/rest/oauth2/latest/client")
@auth.require_user(admin=True, scopes=ADMIN_SCOPES)
def dc_create_client(principal):
    state = _state()
    data = json_body()
    with state.lock:
        store = _data(state)
        errors, fields = _validate_dc_client(store, data)
        if errors:
            return jira_error(400, errors=errors)
        # Jira generates the ``id`` apart from the 32-character ``clientId`` and the 64-character secret.
        client = {"id": secrets.token_hex(8), "client_id": secrets.token_hex(16),
                  "client_secret": secrets.token_hex(32), "userKey": principal.user["name"], **fields}
        store["dc_clients"][client["client_id"]] = client
        return jira_json(_dc_client_json(client))


@bp.put("/rest/oauth2/latest/client/<client_id_or_id>")
@auth.require_user(admin=True, scopes=ADMIN_SCOPES)
def dc_update_client(principal, client_id_or_id):
    state = _state()
    data = json_body()
    with state.lock:
        store = _data(state)
        client = _dc_client_by_id(store, client_id_or_id)
        if client is None:
            return jira_error(404, CLIENT_MISSING)
        errors, fields = _validate_dc_client(store, data, current=client)
        if errors:
            return jira_error(400, errors=errors)
        client.update(fields)
    return current_app.response_class(status=204)


@bp.delete("/rest/oauth2/latest/client/<client_id_or_id>")
@auth.require_user(admin=True, scopes=ADMIN_SCOPES)
def dc_delete_client(principal, client_id_or_id):
    state = _state()
    with state.lock:
        store = _data(state)
        client = _dc_client_by_id(store, client_id_or_id)
        if client is None:
            return jira_error(404, CLIENT_MISSING)
        del store["dc_clients"][client["client_id"]]
        # Deleting an incoming link revokes everything it granted.
        for chain in store["chains"].values():
            if chain["provider"] == "datacenter" and chain["client_id"] == client["client_id"] and not chain["revoked"]:
                _revoke_chain(state, chain, "the OAuth 2.0 client was deleted")
        for info in state.bearer_tokens.values():
            if info.get("provider") == "datacenter" and info.get("client_id") == client["client_id"]:
                info["revoked"] = True
        return jira_json(_dc_client_json(client))


@bp.put("/rest/oauth2/latest/client/reset/<client_id>")
@auth.require_user(admin=True, scopes=ADMIN_SCOPES)
def dc_reset_secret(principal, client_id):
    state = _state()
    with state.lock:
        client = _data(state)["dc_clients"].get(client_id)
        if client is None:
            return jira_error(404, CLIENT_MISSING)
        client["client_secret"] = secrets.token_hex(32)
        return jira_json(_dc_client_json(client))


# -- control API ---------------------------------------------------------------------------------------------
def _bad(message):
    resp = jsonify({"error": message})
    resp.status_code = 400
    return resp


@control_bp.post("/clients")
def control_add_client():
    """Add or replace a cloud client: ``{"client_id", "client_secret", "kind": "credentials"|"app", ...}``
    (credentials may name the ``cloud_id`` of their site, default the primary one).

    ``kind: datacenter`` (``name``, ``scope``, ``redirects``) adds a Data Center client without Jira's checks, to
    stage what Jira's own API refuses (two clients of one name, left by a race or an import).
    """
    data = request.get_json(force=True, silent=True)
    if isinstance(data, dict) and data.get("kind") == "datacenter":
        return _control_add_dc_client(data)
    if not isinstance(data, dict) or data.get("kind") not in ("credentials", "app"):
        return _bad("body must be a JSON object with kind 'credentials', 'app' or 'datacenter'")
    client = {"client_id": data.get("client_id") or "emu-client-" + secrets.token_hex(8),
              "client_secret": data.get("client_secret") or secrets.token_urlsafe(32), "kind": data["kind"],
              "name": data.get("name"), "scopes": list(data.get("scopes") or (
                  DEFAULT_CLIENTS[0]["scopes"] if data["kind"] == "credentials" else CLOUD_SCOPES))}
    if data["kind"] == "credentials":
        client["user"] = data.get("user") or APP_USER["name"]
        # OAuth credentials belong to one site; a second site (config extra_sites) has its own.
        if data.get("cloud_id"):
            client["cloud_id"] = data["cloud_id"]
    else:
        client["redirect_uris"] = list(data.get("redirect_uris") or [])
    state = _state()
    with state.lock:
        if client.get("user") and client["user"] not in state.users:
            return _bad(f"unknown user {client['user']!r}")
        _data(state)["clients"][client["client_id"]] = client
    resp = jsonify(client)
    resp.status_code = 201
    return resp


def _control_add_dc_client(data):
    client = {"id": secrets.token_hex(8), "client_id": secrets.token_hex(16), "client_secret": secrets.token_hex(32),
              "name": data.get("name"), "scope": data.get("scope") or "READ",
              "redirects": list(data.get("redirects") or []), "userKey": data.get("userKey") or "admin"}
    with _state().lock:
        _data()["dc_clients"][client["client_id"]] = client
    resp = jsonify(_dc_client_json(client))
    resp.status_code = 201
    return resp


@control_bp.get("/clients")
def control_list_clients():
    """The clients without their secrets (tests read this at -vvvv, where a secret must not show)."""
    with _state().lock:
        data = _data()
        cloud = [{k: v for k, v in c.items() if k != "client_secret"} for c in data["clients"].values()]
        dc = [{k: v for k, v in _dc_client_json(c).items() if k != "clientSecret"} for c in data["dc_clients"].values()]
    return jsonify({"cloud": cloud, "datacenter": dc})


@control_bp.get("/token-requests")
def control_token_requests():
    """Token requests seen, filtered by ``client_id``, ``grant_type``, ``provider``, ``status``."""
    args = request.args
    with _state().lock:
        rows = [r for r in _data()["token_log"]
                if all(args.get(k) in (None, str(r[k])) for k in ("client_id", "grant_type", "provider", "status"))]
    return jsonify({"count": len(rows), "requests": rows})


@control_bp.delete("/token-requests")
def control_clear_token_requests():
    with _state().lock:
        _data()["token_log"].clear()
    return jsonify({"cleared": True})


def _chain_json(chain):
    data = _data()
    head = chain["head"]
    return {
        "id": chain["id"], "provider": chain["provider"], "client_id": chain["client_id"], "user": chain["user"],
        "scopes": chain["scopes"], "revoked": chain["revoked"], "revoked_reason": chain["revoked_reason"],
        "rotations": chain["rotations"], "grace_reuses": chain["grace_reuses"],
        "refresh_tokens_issued": len(chain["refresh_tokens"]),
        "access_tokens_issued": len(chain["access_tokens"]),
        "head_sha256": _fingerprint(head) if head else None,
        "head_issued_at": data["refresh_tokens"][head]["issued_at"] if head else None,
    }


@control_bp.get("/chains")
def control_chains():
    """Refresh-token chains (grants) with fingerprints, never the tokens; ``events`` lists revocations."""
    with _state().lock:
        data = _data()
        args = request.args
        chains = [_chain_json(c) for c in data["chains"].values()
                  if args.get("client_id") in (None, c["client_id"]) and args.get("user") in (None, c["user"])]
        return jsonify({"chains": chains, "events": list(data["events"])})


@control_bp.post("/revoke")
def control_revoke():
    """Revoke grants as a user removing an app's access would: ``{"client_id", "user"}`` (both optional)."""
    data = request.get_json(force=True, silent=True) or {}
    state = _state()
    revoked = 0
    with state.lock:
        for chain in _data(state)["chains"].values():
            if chain["revoked"] or data.get("client_id") not in (None, chain["client_id"]) \
                    or data.get("user") not in (None, chain["user"]):
                continue
            _revoke_chain(state, chain, data.get("reason") or "access revoked by the user")
            revoked += 1
    return jsonify({"revoked": revoked})


@control_bp.post("/expire-access-tokens")
def control_expire_access_tokens():
    """Make access tokens expire now on the server (``{"client_id"}`` optional) to exercise 401 handling."""
    data = request.get_json(force=True, silent=True) or {}
    state = _state()
    count = 0
    with state.lock:
        for info in state.bearer_tokens.values():
            if info.get("provider") and data.get("client_id") in (None, info.get("client_id")):
                info["expires_at"] = time.time() - 1
                count += 1
    return jsonify({"expired": count})


def register(app, state):
    state.on_reset(_reset)
    app.register_blueprint(bp)
    app.register_blueprint(control_bp)
    app.before_request(gateway_check)
    app.wsgi_app = GatewayMiddleware(app.wsgi_app)
    auth.register_scheme("bearer", _wrap_bearer(auth.SCHEMES["bearer"]))
