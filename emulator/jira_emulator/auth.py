"""Who is calling: Authorization schemes are pluggable so OAuth 1.0a / 2.0 features can add theirs."""
from __future__ import annotations

import base64
import binascii
import functools
import hmac
import time

from flask import current_app, g, request

from .http import jira_error, unauthorized
from .state import Principal


class AuthFailed(Exception):
    """Carries the exact reply Jira would give."""

    def __init__(self, response):
        super().__init__("authentication failed")
        self.response = response


def _basic(state, credentials):
    try:
        raw = base64.b64decode(credentials, validate=True).decode("utf-8")
        name, password = raw.split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise AuthFailed(unauthorized()) from None
    user = state.user_by_name(name) or next(
        (u for u in state.users.values() if u.get("emailAddress") == name), None)
    if not user or not hmac.compare_digest(user["password"].encode(), password.encode()):
        raise AuthFailed(unauthorized())
    return Principal(user=user, via="basic")


def _bearer(state, credentials):
    token = credentials.strip()
    with state.lock:
        if token in state.pats:
            return Principal(user=state.users[state.pats[token]], via="pat")
        info = state.bearer_tokens.get(token)
        if info is None:
            raise AuthFailed(unauthorized(challenge='Bearer realm="jira"'))
        if info.get("revoked"):
            raise AuthFailed(unauthorized("The access token has been revoked.", challenge='Bearer error="invalid_token"'))
        if info.get("expires_at") is not None and time.time() >= info["expires_at"]:
            raise AuthFailed(unauthorized("The access token expired.", challenge='Bearer error="invalid_token"'))
        user = state.users[info["user"]]
        scopes = info.get("scopes")
        return Principal(user=user, via="oauth2", scopes=None if scopes is None else frozenset(scopes),
                         client_id=info.get("client_id"), extra=info)


SCHEMES = {"basic": _basic, "bearer": _bearer}


def register_scheme(name, func):
    """``func(state, credentials) -> Principal`` raising AuthFailed; OAuth 1.0a registers 'oauth'."""
    SCHEMES[name.lower()] = func


def current_principal():
    """The caller, or None when anonymous; raises AuthFailed for bad credentials."""
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    principal = None
    if header:
        scheme, dummy, credentials = header.partition(" ")
        func = SCHEMES.get(scheme.lower())
        if func is None:
            raise AuthFailed(unauthorized())
        principal = func(current_app.config["STATE"], credentials)
    g.principal = principal
    return principal


def require_user(admin=False, scopes=None, anonymous_message=None):
    """Decorator: 401 for anonymous or bad credentials, 403 for missing admin rights or OAuth 2.0 scopes."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            try:
                principal = current_principal()
            except AuthFailed as exc:
                return exc.response
            if principal is None:
                if anonymous_message:
                    return jira_error(401, *anonymous_message, headers={"WWW-Authenticate": 'Basic realm="protected-area"'})
                return unauthorized(reason="AUTHENTICATION_DENIED")
            if scopes and not principal.has_scope(*scopes):
                return jira_error(403, f"The access token does not grant any of the required scopes: {', '.join(scopes)}")
            if admin and not principal.user.get("admin"):
                return jira_error(403, "You must be a Jira administrator to access this resource.")
            return view(principal, *args, **kwargs)

        return inner

    return wrap
