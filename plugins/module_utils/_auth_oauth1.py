# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OAuth 1.0a (RSA-SHA1) as Jira Server / Data Center speaks it: signing, and explaining ``oauth_problem`` replies.

Signatures are made by oauthlib through requests-oauthlib's ``OAuth1`` (never by hand): a fresh nonce and
timestamp for every attempt, the body included only when it is form-encoded, as RFC 5849 says.  Jira accepts
RSA-SHA1 only, so that is the one method used, and hosts that refuse it (RHEL 9 / UBI 9: the crypto policy's
OpenSSL refuses SHA-1 signatures, the packaged python3-oauthlib has RSA-SHA1 patched out) are told so before any
request is sent.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl

from ansible_collections.jiraops.integration.plugins.module_utils._auth import AuthMethod, register
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._io import read_regular_file

# The signing libraries are imported on first use, not with this file: every module that talks to Jira imports it
# (it registers auth_method=oauth1), and most never sign with OAuth 1.0a. Importing oauthlib, PyJWT and cryptography
# up front cost each such module tens of milliseconds.
_LIBS = {}


def _libraries():
    """``{"OAuth1": class or None, "pyjwt": bool, "keys": _keys module or None}``, imported once."""
    if not _LIBS:
        try:
            from requests_oauthlib import OAuth1  # pylint: disable=import-outside-toplevel
        except ImportError:  # pragma: no cover - exercised only without the libraries
            OAuth1 = None
        try:
            import jwt  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel  # RSA-SHA1 goes through it
            pyjwt = True
        except ImportError:  # pragma: no cover
            pyjwt = False
        try:
            from ansible_collections.jiraops.integration.plugins.module_utils import _keys  # pylint: disable=import-outside-toplevel
        except ImportError:  # pragma: no cover
            _keys = None
        _LIBS.update(OAuth1=OAuth1, pyjwt=pyjwt, keys=_keys if _keys is not None and _keys.HAS_CRYPTOGRAPHY else None)
    return _LIBS


SIGNATURE_METHOD = "RSA-SHA1"  # oauthlib.oauth1.SIGNATURE_RSA, "RSA-SHA1": the only method Jira's OAuth 1.0a provider accepts

# What each oauth_problem (the OAuth Problem Reporting extension Jira implements) means for the user, by stage:
# "request" (request-token), "access" (access-token) or "resource" (a signed REST call).
_PROBLEMS = {
    "signature_invalid": (
        "Jira could not verify the RSA-SHA1 signature: the private key does not belong to the public key of "
        "the incoming consumer {consumer_key!r}. Put the matching public key on the application link "
        "(jiraops.integration.applink public_key) or sign with the private key that belongs to it"),
    "consumer_key_unknown": (
        "Jira has no incoming OAuth consumer with key {consumer_key!r}: create the application link and its "
        "consumer first (jiraops.integration.applink), or fix consumer_key"),
    "consumer_key_rejected": (
        "Jira rejected consumer {consumer_key!r}: check that the application link's incoming OAuth "
        "authentication is enabled"),
    "consumer_key_refused": (
        "Jira refused consumer {consumer_key!r}: check that the application link's incoming OAuth "
        "authentication is enabled"),
    "timestamp_refused": (
        "Jira refused the request's timestamp: this machine's clock and Jira's differ by more than Jira "
        "allows{acceptable}. Synchronise both clocks (NTP) and run the task again"),
    "nonce_used": (
        "Jira has already seen this request's nonce (a replayed request: a proxy or client resent a signed "
        "request). Run the task again; if it keeps happening, check for a proxy that replays requests"),
    "signature_method_rejected": "Jira accepts RSA-SHA1 signatures only",
    "version_rejected": "Jira speaks OAuth 1.0a (oauth_version 1.0) only",
    "parameter_absent": "the request lacked OAuth parameters Jira needs{absent}",
    "parameter_rejected": "Jira rejected an OAuth parameter of the request{rejected}",
    "token_expired": {
        "access": ("the request token expired before it was exchanged (Jira keeps request tokens 10 minutes): "
                   "run jiraops.integration.oauth1_token again without verifier, approve the new authorize_url "
                   "and exchange it within 10 minutes"),
        "resource": ("the access token expired: get a new one with jiraops.integration.oauth1_token "
                     "(force=true when it comes from a token_store)"),
    },
    "token_used": (
        "this request token was already exchanged for an access token, which is the one to use (a token_store "
        "keeps it); to get another, run jiraops.integration.oauth1_token again without verifier"),
    "token_revoked": (
        "the access token was revoked (by the user in their profile, or by an administrator): get a new one "
        "with jiraops.integration.oauth1_token (force=true when it comes from a token_store)"),
    "token_rejected": {
        "access": ("Jira rejected the request token or the verifier: verifier must be the exact code Jira "
                   "showed after approving this very request token (codes are case-sensitive). If the token "
                   "came from another run or consumer, run jiraops.integration.oauth1_token again without "
                   "verifier"),
        "resource": ("Jira does not know this access token (never issued, revoked, deleted with its "
                     "application link, or issued to another consumer than {consumer_key!r}): get a new one "
                     "with jiraops.integration.oauth1_token (force=true when it comes from a token_store)"),
        "request": "Jira rejected the token sent with the request-token call; send none",
    },
    "permission_unknown": (
        "the request token has not been approved yet: open authorize_url in a browser as the Jira user the "
        "automation should act as, click Allow, then pass the verification code Jira shows as verifier"),
    "permission_denied": (
        "the user denied access at authorize_url: run jiraops.integration.oauth1_token again without "
        "verifier and click Allow this time"),
    "user_refused": (
        "the user denied access at authorize_url: run jiraops.integration.oauth1_token again without "
        "verifier and click Allow this time"),
    "additional_authorization_required": (
        "the access token does not allow this call: approve a new request token as a user who may make it"),
}

_HEADER_PROBLEM = re.compile(r'oauth_problem="?([a-z_]+)"?', re.IGNORECASE)


def parse_problem(response):
    """``(problem, details)`` from a reply carrying ``oauth_problem`` (body or WWW-Authenticate), else (None, {})."""
    body = response.text.strip() if response.body else ""
    details = {}
    if "oauth_problem=" in body and "<" not in body[:1]:
        try:
            details = dict(parse_qsl(body, keep_blank_values=True))
        except ValueError:
            details = {}
    problem = details.get("oauth_problem")
    if not problem:
        match = _HEADER_PROBLEM.search(response.headers.get("WWW-Authenticate", "") or "")
        problem = match.group(1) if match else None
    return problem, details


def explain_problem(problem, details=None, stage="resource", consumer_key=None):
    """A message that tells the user what to do about ``oauth_problem=<problem>``."""
    details = details or {}
    text = _PROBLEMS.get(problem)
    if isinstance(text, dict):
        text = text.get(stage) or next(iter(text.values()))
    if text is None:
        return f"OAuth 1.0a problem {problem!r} reported by Jira"
    acceptable = details.get("oauth_acceptable_timestamps")
    values = {
        "consumer_key": consumer_key,
        "acceptable": f" (it accepts timestamps {acceptable})" if acceptable else " (usually 5 minutes)",
        "absent": f": {details['oauth_parameters_absent']}" if details.get("oauth_parameters_absent") else "",
        "rejected": f": {details['oauth_parameters_rejected']}" if details.get("oauth_parameters_rejected") else "",
    }
    return f"OAuth 1.0a problem {problem}: {text.format(**values)}"


def check_libraries():
    """Raise OptionError naming what is missing for RSA-SHA1 signing."""
    missing = []
    libs = _libraries()
    if libs["OAuth1"] is None:
        missing.append("oauthlib and requests-oauthlib")
    if not libs["pyjwt"]:
        missing.append("PyJWT (oauthlib signs RSA-SHA1 through it)")
    if libs["keys"] is None:
        missing.append("cryptography")
    if missing:
        raise OptionError("auth_method", "OAuth 1.0a needs the Python libraries " + ", ".join(missing)
                          + " on the host that runs the module (pip install 'oauthlib[signedtoken]' requests-oauthlib)")


RSA_SHA1_REFUSED = (
    "RSA-SHA1 signing is refused on this host: {reason}. Jira accepts only RSA-SHA1 for application links, so "
    "OAuth 1.0a cannot work here as it is. Run the module with oauthlib and cryptography from PyPI (pip install "
    "'oauthlib[signedtoken]' requests-oauthlib cryptography; the collection's execution environment, "
    "meta/execution-environment.yml, installs them so) instead of the distribution's python3-oauthlib / "
    "python3-cryptography, or let the system crypto policy allow SHA-1 signatures for this use (RHEL 9: "
    "update-crypto-policies --set DEFAULT:SHA1, or OPENSSL_ENABLE_SHA1_SIGNATURES=1 in the task's environment). "
    "See docs/oauth1-applink.md, 'RSA-SHA1 on RHEL 9'")


def _raise_if_refused(exc):
    """Turn a signing failure that is the host refusing RSA-SHA1 into what to do; other failures are left alone.

    cryptography raises UnsupportedAlgorithm ("sha1 is not supported by this backend for RSA signing.") when
    its OpenSSL refuses SHA-1 signatures; a patched oauthlib raises "Invalid signature method.".
    """
    name = exc.__class__.__name__
    text = str(exc)[:200]
    if name == "UnsupportedAlgorithm" or (name == "InternalError" and "digest" in text.lower()):
        reason = f"the OpenSSL library under cryptography refuses SHA-1 signatures ({name}: {text})"
    elif isinstance(exc, (ValueError, KeyError)) and "signature method" in text.lower():
        reason = f"the installed oauthlib has no RSA-SHA1 signer ({text}); distribution builds patch it out"
    else:
        return
    raise JiraError(RSA_SHA1_REFUSED.format(reason=reason)) from None


def check_rsa_sha1(consumer_key, pem):
    """Sign a probe the way every request is signed, so a host that refuses RSA-SHA1 fails before any request."""
    from oauthlib.oauth1 import Client  # pylint: disable=import-outside-toplevel

    if SIGNATURE_METHOD not in getattr(Client, "SIGNATURE_METHODS", {}):
        raise JiraError(RSA_SHA1_REFUSED.format(
            reason="the installed oauthlib has no RSA-SHA1 signer (distribution builds such as RHEL 9's "
                   "python3-oauthlib patch it out)"))
    try:
        Client(consumer_key, signature_method=SIGNATURE_METHOD, rsa_key=pem).sign("https://rsa-sha1.probe.invalid/")
    except Exception as exc:  # pylint: disable=broad-exception-caught  # anything else is re-raised
        _raise_if_refused(exc)
        raise


def read_private_key(params):
    """The private key PEM (text) from ``private_key`` or ``private_key_path``, checked to be an RSA key."""
    content = params.get("private_key")
    path = params.get("private_key_path")
    if content and path:
        raise OptionError("private_key", "give either private_key or private_key_path, not both")
    option = "private_key" if content else "private_key_path"
    if not content and not path:
        raise OptionError("private_key", "OAuth 1.0a needs the consumer's RSA private key: set private_key (PEM "
                                         "content) or private_key_path (or JIRA_PRIVATE_KEY / JIRA_PRIVATE_KEY_PATH)")
    if path:
        try:
            content = read_regular_file(path, option).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OptionError(option, f"cannot read {path}: {exc.__class__.__name__}") from None
    check_libraries()
    keys = _libraries()["keys"]
    try:
        keys.load_private_key(content)
    except keys.KeyMaterialError as exc:
        where = f"{path}: " if path else ""
        raise OptionError(option, f"{where}{exc}") from None
    return content


def key_secrets(pem):
    """The PEM and each of its base64 lines: masked wherever they might show up."""
    if not pem:
        return []
    return [pem, pem.strip()] + [line for line in pem.splitlines() if len(line) >= 16 and "-----" not in line]


class OAuth1Signer:
    """Signs prepared requests with RSA-SHA1 for one consumer and, optionally, one token."""

    def __init__(self, consumer_key, private_key_pem, token=None, verifier=None, callback=None):
        self.consumer_key = consumer_key
        self._pem = private_key_pem
        self._token = token
        self._verifier = verifier
        self._callback = callback

    def sign(self, request):
        oauth1 = _libraries()["OAuth1"]
        # signature_type: oauthlib.oauth1.SIGNATURE_TYPE_AUTH_HEADER
        auth = oauth1(self.consumer_key, signature_method=SIGNATURE_METHOD, signature_type="AUTH_HEADER",
                      rsa_key=self._pem, resource_owner_key=self._token, verifier=self._verifier,
                      callback_uri=self._callback)
        try:
            return auth(request)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # anything else is re-raised
            _raise_if_refused(exc)
            raise


class OAuth1Auth(AuthMethod):
    """Every REST call signed with the consumer's private key and the user's access token."""

    name = "oauth1"
    trigger_options = ("consumer_key", "private_key", "private_key_path", "access_token")
    required_options = ("consumer_key", "access_token")
    secret_options = ("private_key", "access_token")
    description = "OAuth 1.0a (RSA-SHA1) with consumer_key, private_key or private_key_path, and access_token"
    stage = "resource"

    def __init__(self, params, token=None, verifier=None, callback=None, stage=None):
        super().__init__(params)
        self._pem = None
        self._token = token
        self._verifier = verifier
        self._callback = callback
        if stage:
            self.stage = stage
        self._signer = None

    @classmethod
    def for_stage(cls, params, stage, token=None, verifier=None, callback=None):
        """The signer of a token-endpoint call: ``request`` (with callback) or ``access`` (token + verifier)."""
        method = cls(params, token=token, verifier=verifier, callback=callback, stage=stage)
        method.validate()
        return method

    def validate(self):
        check_libraries()
        if self.stage == "resource":
            super().validate()
        elif not self.params.get("consumer_key"):
            raise OptionError("consumer_key", "the OAuth 1.0a dance needs consumer_key (or JIRA_CONSUMER_KEY): the "
                                              "consumer key of the application link's incoming consumer")
        self._pem = read_private_key(self.params)
        check_rsa_sha1(self.params["consumer_key"], self._pem)
        token = self._token if self.stage != "resource" else self.params["access_token"]
        self._signer = OAuth1Signer(self.params["consumer_key"], self._pem, token=token, verifier=self._verifier,
                                    callback=self._callback)

    def apply(self, request):
        return self._signer.sign(request)

    def secrets(self):
        values = super().secrets() + key_secrets(self._pem)
        if self._verifier:
            values.append(self._verifier)
        return values

    def explain_failure(self, response):
        """The message for a failed call whose reply names an ``oauth_problem``; None otherwise."""
        problem, details = parse_problem(response)
        if not problem:
            return None
        return explain_problem(problem, details, stage=self.stage, consumer_key=self.params.get("consumer_key"))


register(OAuth1Auth)
