"""Jira's OAuth 1.0a provider, built on oauthlib's server endpoints.

``/plugins/servlet/oauth/request-token``, ``/authorize`` and ``/access-token`` behave as Jira's do: RSA-SHA1 only,
signatures verified against the public key of the application link's incoming consumer, nonces remembered for the
timestamp window, request tokens valid for ``oauth1_request_token_ttl`` seconds (Jira: 10 minutes), replies
form-encoded, failures reported as ``oauth_problem=...`` (body and ``WWW-Authenticate``).  REST calls signed with
an access token run as the user who approved it (the ``OAuth`` Authorization scheme).

Control API: ``POST /_emulator/oauth1/approve`` approves (or denies) a request token as a user and returns the
verifier; ``GET /_emulator/oauth1/tokens`` and ``GET /_emulator/oauth1/verified`` expose the server's view.
"""
from __future__ import annotations

import hmac
import secrets
import string
import time
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, Response, current_app, request
from markupsafe import escape
from oauthlib.oauth1 import AccessTokenEndpoint, RequestTokenEndpoint, RequestValidator, ResourceEndpoint
from oauthlib.oauth1.rfc5849 import SIGNATURE_RSA_SHA1, errors, signature, utils

from . import auth as emu_auth
from .applinks import consumer_by_key, parse_public_key, pem
from .core import CONTROL_PREFIX
from .http import jira_json
from .state import Principal

bp = Blueprint("oauth1", __name__)

SERVLET = "/plugins/servlet/oauth"
DEFAULTS = {
    "oauth1_request_token_ttl": 600,        # Jira: request tokens live 10 minutes
    "oauth1_access_token_ttl": 157680000,   # Jira: access tokens live 5 years
    "oauth1_timestamp_window": 300,         # seconds a timestamp may differ from the server clock
}

# HTTP status per problem, as net.oauth (which Jira's provider uses) maps them.
PROBLEM_STATUS = {
    "version_rejected": 400, "parameter_absent": 400, "parameter_rejected": 400, "timestamp_refused": 400,
    "signature_method_rejected": 400,
}
# When several checks fail, report the one Jira would find first.
PRIORITY = (
    "parameter_absent", "parameter_rejected", "version_rejected", "signature_method_rejected",
    "consumer_key_unknown", "timestamp_refused", "nonce_used", "signature_invalid",
    "token_expired", "token_used", "token_revoked", "token_rejected", "permission_unknown", "permission_denied",
)
REQUIRED = ("oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_timestamp", "oauth_nonce")
SAFE = set(string.ascii_letters + string.digits + "-_.~")


def _state():
    return current_app.config["STATE"]


def _data(state=None):
    return (state or _state()).features["oauth1"]


def _ttl(state, name):
    return float(state.config.get(name, DEFAULTS[name]))


class Problem(Exception):
    """An OAuth problem found before oauthlib runs (missing or malformed protocol parameters)."""

    def __init__(self, problem, **extra):
        super().__init__(problem)
        self.problem = problem
        self.extra = extra


def _note(request_, problem, **extra):
    """Remember why a check failed on oauthlib's request object (its endpoints only keep booleans)."""
    problems = getattr(request_, "jira_problems", None)
    if problems is None:
        problems = request_.jira_problems = []
    problems.append((problem, extra))


class JiraRequestValidator(RequestValidator):
    """Answers oauthlib's questions from the emulator state and notes why each check failed."""

    def __init__(self, state):
        super().__init__()
        self.state = state

    # -- policy ---------------------------------------------------------------------------------------------
    @property
    def enforce_ssl(self):
        return False  # the emulator serves plain HTTP on loopback

    @property
    def allowed_signature_methods(self):
        return (SIGNATURE_RSA_SHA1,)

    @property
    def timestamp_lifetime(self):
        return _ttl(self.state, "oauth1_timestamp_window")

    def check_client_key(self, client_key):
        return 0 < len(client_key) <= 255 and client_key.isprintable()

    def check_request_token(self, request_token):
        return 8 <= len(request_token) <= 128 and set(request_token) <= SAFE

    def check_access_token(self, request_token):
        return 8 <= len(request_token) <= 128 and set(request_token) <= SAFE

    def check_nonce(self, nonce):
        return 0 < len(nonce) <= 255 and nonce.isprintable()

    def check_verifier(self, verifier):
        return 0 < len(verifier) <= 128 and set(verifier) <= SAFE

    def check_realms(self, realms):
        return True

    # -- dummies keep failing requests on the same code path -------------------------------------------------
    dummy_client = "emulator-dummy-consumer"
    dummy_request_token = "emulatordummyrequesttoken"
    dummy_access_token = "emulatordummyaccesstoken"

    def get_rsa_key(self, client_key, request):
        _link, consumer = consumer_by_key(self.state, client_key)
        if consumer is None:
            return _data(self.state)["dummy_key_pem"]
        return pem(parse_public_key(consumer["publicKey"]))

    def get_default_realms(self, client_key, request):
        return []

    def get_realms(self, token, request):
        return []

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True

    # -- consumers, nonces, callbacks -----------------------------------------------------------------------
    def validate_client_key(self, client_key, request):
        if consumer_by_key(self.state, client_key)[1] is None:
            _note(request, "consumer_key_unknown")
            return False
        return True

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, request_token=None,
                                     access_token=None):
        now = time.time()
        window = self.timestamp_lifetime
        if abs(now - int(timestamp)) > window:
            _note(request, "timestamp_refused", oauth_acceptable_timestamps=f"{int(now - window)}-{int(now + window)}")
            return False
        with self.state.lock:
            nonces = _data(self.state)["nonces"]
            for key in [k for k, seen in nonces.items() if seen < now - 2 * window]:
                del nonces[key]
            key = (client_key, timestamp, nonce)
            if key in nonces:
                _note(request, "nonce_used")
                return False
            nonces[key] = now
        return True

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        if redirect_uri == "oob" or redirect_uri.startswith(("http://", "https://")):
            return True
        _note(request, "parameter_rejected", oauth_parameters_rejected="oauth_callback")
        return False

    # -- request tokens -------------------------------------------------------------------------------------
    def save_request_token(self, token, request):
        now = time.time()
        with self.state.lock:
            _data(self.state)["request_tokens"][token["oauth_token"]] = {
                "token": token["oauth_token"],
                "secret": token["oauth_token_secret"],
                "consumer_key": request.client_key,
                "callback": request.redirect_uri,
                "created": now,
                "expires_at": now + _ttl(self.state, "oauth1_request_token_ttl"),
                "status": "pending",  # pending, approved, denied, used
                "user": None,
                "verifier": None,
            }

    def _request_token(self, client_key, token, request):
        record = _data(self.state)["request_tokens"].get(token)
        if record is None or record["consumer_key"] != client_key:
            _note(request, "token_rejected")
            return None
        if record["status"] == "used":
            _note(request, "token_used")
            return None
        if time.time() >= record["expires_at"]:
            _note(request, "token_expired")
            return None
        return record

    def validate_request_token(self, client_key, token, request):
        return self._request_token(client_key, token, request) is not None

    def validate_verifier(self, client_key, token, verifier, request):
        record = _data(self.state)["request_tokens"].get(token)
        if record is None or record["consumer_key"] != client_key:
            return False  # already noted by validate_request_token
        if record["status"] == "pending":
            _note(request, "permission_unknown")
            return False
        if record["status"] == "denied":
            _note(request, "permission_denied")
            return False
        if not hmac.compare_digest((record["verifier"] or "").encode(), verifier.encode()):
            _note(request, "token_rejected")
            return False
        return True

    def invalidate_request_token(self, client_key, request_token, request):
        with self.state.lock:
            record = _data(self.state)["request_tokens"].get(request_token)
            if record is not None:
                record["status"] = "used"

    def get_request_token_secret(self, client_key, token, request):  # HMAC only; Jira is RSA-SHA1 only
        return "unused"

    # -- access tokens --------------------------------------------------------------------------------------
    def save_access_token(self, token, request):
        now = time.time()
        with self.state.lock:
            record = _data(self.state)["request_tokens"][request.resource_owner_key]
            _data(self.state)["access_tokens"][token["oauth_token"]] = {
                "token": token["oauth_token"],
                "secret": token["oauth_token_secret"],
                "consumer_key": request.client_key,
                "user": record["user"],
                "created": now,
                "expires_at": now + _ttl(self.state, "oauth1_access_token_ttl"),
            }

    def validate_access_token(self, client_key, token, request):
        record = _data(self.state)["access_tokens"].get(token)
        if record is None or record["consumer_key"] != client_key:
            _note(request, "token_rejected")
            return False
        if time.time() >= record["expires_at"]:
            _note(request, "token_expired")
            return False
        return True

    def get_access_token_secret(self, client_key, token, request):  # HMAC only
        return "unused"

    def get_client_secret(self, client_key, request):  # HMAC only
        return "unused"


# -- running oauthlib and reporting like Jira --------------------------------------------------------------
def _oauth_request(endpoint):
    """The oauthlib Request for the current Flask request, after the protocol checks Jira reports by name."""
    uri = request.base_url + (("?" + request.query_string.decode("latin-1")) if request.query_string else "")
    body = request.get_data(as_text=True) if request.mimetype == "application/x-www-form-urlencoded" else ""
    headers = dict(request.headers.items())
    try:
        # oauthlib's own parser (the one its endpoints use), so that precheck and verification see the same request.
        oauth_request = endpoint._create_request(uri, request.method, body, headers)  # pylint: disable=protected-access
    except errors.OAuth1Error:
        params = _collected_params(uri, body, headers)
        if not params:
            raise Problem("parameter_absent", oauth_parameters_absent="&".join(REQUIRED)) from None
        raise Problem("parameter_rejected", oauth_parameters_rejected="oauth_*") from None
    oauth_request.jira_problems = []
    params = oauth_request.oauth_params
    absent = [p for p in REQUIRED if not params.get(p)]
    if absent:
        raise Problem("parameter_absent", oauth_parameters_absent="&".join(absent))
    if params.get("oauth_version", "1.0") != "1.0":
        raise Problem("version_rejected", oauth_acceptable_versions="1.0-1.0")
    if params["oauth_signature_method"] != SIGNATURE_RSA_SHA1:
        raise Problem("signature_method_rejected", oauth_acceptable_signature_methods=SIGNATURE_RSA_SHA1)
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError:
        raise Problem("parameter_rejected", oauth_parameters_rejected="oauth_timestamp") from None
    window = _ttl(_state(), "oauth1_timestamp_window")
    now = time.time()
    if abs(now - timestamp) > window:
        raise Problem("timestamp_refused", oauth_acceptable_timestamps=f"{int(now - window)}-{int(now + window)}")
    return oauth_request


def _collected_params(uri, body, headers):
    try:
        found = signature.collect_parameters(uri_query=uri.partition("?")[2], body=body, headers=headers)
    except (ValueError, TypeError):
        return []
    return utils.filter_oauth_params(found)


def _problem_of(oauth_request):
    noted = dict(reversed(getattr(oauth_request, "jira_problems", None) or []))
    if oauth_request.validator_log.get("signature") is False:
        noted.setdefault("signature_invalid", {})
    for name in PRIORITY:
        if name in noted:
            return name, noted[name]
    return "parameter_rejected", {}


def problem_response(problem, extra=None):
    """Jira's failure reply: ``oauth_problem`` form-encoded in the body and in ``WWW-Authenticate``."""
    status = PROBLEM_STATUS.get(problem, 401)
    fields = [("oauth_problem", problem)] + sorted((extra or {}).items())
    resp = Response(urlencode(fields), status=status, mimetype="application/x-www-form-urlencoded")
    realm = request.host_url.rstrip("/")
    resp.headers["WWW-Authenticate"] = f'OAuth realm="{realm}", oauth_problem="{problem}"'
    return resp


def _form(body):
    return Response(body, status=200, mimetype="application/x-www-form-urlencoded")


def _endpoints(state):
    data = _data(state)
    if "endpoints" not in data:
        validator = JiraRequestValidator(state)
        data["endpoints"] = {
            "request": RequestTokenEndpoint(validator, token_generator=_token),
            "access": AccessTokenEndpoint(validator, token_generator=_token),
            "resource": ResourceEndpoint(validator, token_generator=_token),
        }
    return data["endpoints"]


def _token():
    return secrets.token_urlsafe(24).replace("-", "A").replace("_", "z")[:32]


@bp.route(f"{SERVLET}/request-token", methods=["GET", "POST"])
def request_token():
    endpoint = _endpoints(_state())["request"]
    try:
        oauth_request = _oauth_request(endpoint)
        if not oauth_request.redirect_uri:
            raise Problem("parameter_absent", oauth_parameters_absent="oauth_callback")
        valid, _checked = endpoint.validate_request_token_request(oauth_request)
    except Problem as exc:
        return problem_response(exc.problem, exc.extra)
    except errors.OAuth1Error:
        return problem_response("parameter_rejected")
    if not valid:
        return problem_response(*_problem_of(oauth_request))
    return _form(endpoint.create_request_token(oauth_request, {}))


@bp.route(f"{SERVLET}/access-token", methods=["GET", "POST"])
def access_token():
    state = _state()
    endpoint = _endpoints(state)["access"]
    try:
        oauth_request = _oauth_request(endpoint)
        if not oauth_request.resource_owner_key:
            raise Problem("parameter_absent", oauth_parameters_absent="oauth_token")
        if not oauth_request.verifier:
            raise Problem("parameter_absent", oauth_parameters_absent="oauth_verifier")
        valid, _checked = endpoint.validate_access_token_request(oauth_request)
    except Problem as exc:
        return problem_response(exc.problem, exc.extra)
    except errors.OAuth1Error:
        return problem_response("parameter_rejected")
    if not valid:
        return problem_response(*_problem_of(oauth_request))
    ttl = int(_ttl(state, "oauth1_access_token_ttl"))
    token = endpoint.create_access_token(oauth_request, {"oauth_expires_in": str(ttl)})
    # oauthlib adds an OAuth 2-style oauth_authorized_realms; Jira's reply has no such field.
    token = urlencode([(k, v) for k, v in parse_qsl(token, keep_blank_values=True) if k != "oauth_authorized_realms"])
    endpoint.request_validator.invalidate_request_token(oauth_request.client_key, oauth_request.resource_owner_key,
                                                        oauth_request)
    return _form(token)


def oauth_scheme(state, credentials):
    """``Authorization: OAuth ...`` on REST calls: verify with oauthlib's ResourceEndpoint, run as the approver."""
    endpoint = _endpoints(state)["resource"]
    try:
        oauth_request = _oauth_request(endpoint)
    except Problem as exc:
        raise emu_auth.AuthFailed(problem_response(exc.problem, exc.extra)) from None
    if not oauth_request.resource_owner_key:
        raise emu_auth.AuthFailed(problem_response("parameter_absent", {"oauth_parameters_absent": "oauth_token"}))
    valid, checked = endpoint.validate_protected_resource_request(
        oauth_request.uri, http_method=oauth_request.http_method, body=oauth_request.body,
        headers=dict(oauth_request.headers))
    if checked is None:
        raise emu_auth.AuthFailed(problem_response("parameter_rejected"))
    if not valid:
        raise emu_auth.AuthFailed(problem_response(*_problem_of(checked)))
    with state.lock:
        record = _data(state)["access_tokens"][checked.resource_owner_key]
        user = state.users.get(record["user"])
        _data(state)["verified"].append({
            "method": request.method, "path": request.path, "user": record["user"],
            "consumer_key": checked.client_key, "time": time.time(),
        })
    if user is None:
        raise emu_auth.AuthFailed(problem_response("token_rejected"))
    return Principal(user=user, via="oauth1", client_id=checked.client_key,
                     extra={"consumer_key": checked.client_key})


# -- the browser step: a logged-in user approves or denies --------------------------------------------------
def _page(title, body, status=200):
    html = (f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head>"
            f"<body><h1>{escape(title)}</h1>{body}</body></html>")
    return Response(html, status=status, mimetype="text/html")


def approve_token(state, token, user_name, approve=True):
    """Approve or deny a pending request token as ``user_name``; returns (record, error message)."""
    with state.lock:
        record = _data(state)["request_tokens"].get(token)
        if record is None:
            return None, "unknown request token"
        if record["status"] == "used":
            return None, "the request token was already exchanged"
        if time.time() >= record["expires_at"]:
            return None, "the request token expired"
        if user_name not in state.users:
            return None, f"unknown user {user_name!r}"
        record["user"] = user_name
        record["status"] = "approved" if approve else "denied"
        # Jira shows a short code the user types into the client.
        record["verifier"] = "".join(secrets.choice(string.ascii_letters + string.digits) for _i in range(6)) \
            if approve else None
        return record, None


@bp.route(f"{SERVLET}/authorize", methods=["GET", "POST"])
@emu_auth.require_user()
def authorize(principal):
    state = _state()
    token = request.values.get("oauth_token", "")
    record = _data(state)["request_tokens"].get(token)
    if record is None or record["status"] == "used" or time.time() >= record["expires_at"]:
        return _page("The request token is invalid or has expired", "<p>Start the authorization again.</p>", 400)
    _link, consumer = consumer_by_key(state, record["consumer_key"])
    consumer_name = consumer["name"] if consumer else record["consumer_key"]
    if request.method == "GET":
        return _page(
            f"Welcome to Jira, {principal.user['displayName']}",
            f"<p>{escape(consumer_name)} would like to read and write data on your behalf.</p>"
            f'<form method="post"><input type="hidden" name="oauth_token" value="{escape(token)}">'
            '<button name="approve" value="Allow">Allow</button> <button name="deny" value="Deny">Deny</button>'
            "</form>")
    approved = "deny" not in request.form
    record, error = approve_token(state, token, principal.user["name"], approved)
    if error:
        return _page("The request token is invalid or has expired", f"<p>{escape(error)}</p>", 400)
    if not approved:
        return _page("Access denied", f"<p>You have denied {escape(consumer_name)} access to your data.</p>")
    if record["callback"] and record["callback"] != "oob":
        sep = "&" if "?" in record["callback"] else "?"
        target = f"{record['callback']}{sep}{urlencode({'oauth_token': token, 'oauth_verifier': record['verifier']})}"
        return Response(status=302, headers={"Location": target})
    return _page("Access approved",
                 f"<p>You have successfully authorized '{escape(consumer_name)}'. "
                 f"Your verification code is '<code>{escape(record['verifier'])}</code>'. "
                 "You will need to enter this exact text when prompted.</p>")


# -- control API --------------------------------------------------------------------------------------------
@bp.post(f"{CONTROL_PREFIX}/oauth1/approve")
def control_approve():
    """``{"oauth_token": ..., "user": "alice", "approve": true}`` -> ``{"verifier": ..., "user": ...}``."""
    state = _state()
    data = request.get_json(force=True, silent=True) or {}
    record, error = approve_token(state, data.get("oauth_token", ""), data.get("user", "admin"),
                                  bool(data.get("approve", True)))
    if error:
        return jira_json({"error": error}, status=404 if "unknown" in error else 409)
    return jira_json({"oauth_token": record["token"], "user": record["user"], "status": record["status"],
                      "verifier": record["verifier"]})


@bp.get(f"{CONTROL_PREFIX}/oauth1/tokens")
def control_tokens():
    state = _state()
    with state.lock:
        data = _data(state)
        return jira_json({"request_tokens": list(data["request_tokens"].values()),
                          "access_tokens": list(data["access_tokens"].values())})


@bp.get(f"{CONTROL_PREFIX}/oauth1/verified")
def control_verified():
    """Every REST call whose OAuth 1.0a signature the emulator verified, with the user it ran as."""
    state = _state()
    with state.lock:
        rows = list(_data(state)["verified"])
    return jira_json({"count": len(rows), "verified": rows})


# -- wiring -------------------------------------------------------------------------------------------------
_DUMMY_KEY = []


def _dummy_key_pem():
    # A key no consumer holds, so that unknown consumers still go through a real RSA verification.
    if not _DUMMY_KEY:
        from cryptography.hazmat.primitives.asymmetric import rsa  # pylint: disable=import-outside-toplevel
        _DUMMY_KEY.append(pem(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()))
    return _DUMMY_KEY[0]


def drop_consumer(state, consumer_key):
    """Forget every token of a consumer (its application link or consumer was removed or re-keyed)."""
    with state.lock:
        data = _data(state)
        for table in ("request_tokens", "access_tokens"):
            for token in [t for t, r in data[table].items() if r["consumer_key"] == consumer_key]:
                del data[table][token]


def _reset(state):
    state.features["oauth1"] = {
        "request_tokens": {}, "access_tokens": {}, "nonces": {}, "verified": [],
        "dummy_key_pem": _dummy_key_pem(), "drop_consumer": drop_consumer,
    }
    for key, value in DEFAULTS.items():
        state.config.setdefault(key, value)


def register(app, state):
    state.on_reset(_reset)
    emu_auth.register_scheme("oauth", oauth_scheme)
    app.register_blueprint(bp)
