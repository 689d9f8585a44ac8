# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client every module, lookup and role uses to talk to Jira and Atlassian's cloud endpoints.

Retries, ``Retry-After``, TLS options, error messages and redaction live here and nowhere else.
"""
from __future__ import annotations

import json as _json
import threading
import time
from urllib.parse import urljoin, urlsplit

try:
    import requests
    from urllib3.exceptions import ConnectTimeoutError as _ConnectTimeoutError
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without requests
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._redact import Redactor
from ansible_collections.jiraops.integration.plugins.module_utils._retry import RETRY_STATUSES, RetryPolicy
from ansible_collections.jiraops.integration.plugins.module_utils._version import COLLECTION_VERSION

DEFAULT_API_URL = "https://api.atlassian.com"
DEFAULT_AUTH_URL = "https://auth.atlassian.com"
USER_AGENT = f"jiraops.integration/{COLLECTION_VERSION}"
# Methods that may be sent twice without doing anything twice (RFC 9110, 9.2.2).
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE"))
# Replies whose Retry-After pauses every request of the client, not only the one that got it.
PAUSE_STATUSES = frozenset((429, 503))
# Connections requests keeps per host unless told otherwise (requests.adapters.DEFAULT_POOLSIZE).
DEFAULT_POOL_SIZE = 10


def check_base_url(option, value):
    """A base URL must be absolute http(s); say which option is wrong before any request is made."""
    if value in (None, ""):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OptionError(option, f"{value!r} is not an absolute http(s) URL (for example https://jira.example.com)")
    if HAS_REQUESTS:
        # A host requests cannot encode (stray bytes from a non-UTF-8 environment variable) would otherwise surface
        # as a traceback at the first request.
        try:
            requests.Request("GET", value).prepare()
        except requests.exceptions.RequestException as exc:
            raise OptionError(option, f"{value!r} is not an absolute http(s) URL that can be used: "
                                      f"{str(exc).splitlines()[0][:200]}") from None
    return value.rstrip("/")


def _message_text(item):
    if isinstance(item, dict) and item.get("message"):
        return str(item["message"])
    return str(item)


def may_have_been_processed(exc):
    """False only when the request surely never reached the server (refused, or no connection in time).

    A read timeout or a connection dropped after sending leaves it open whether Jira acted on the request.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(exc, requests.exceptions.Timeout):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, _ConnectTimeoutError)  # NewConnectionError subclasses it
    return True


def error_messages(payload):
    """Jira's error text from ``errorMessages``/``errors`` and the other shapes Atlassian APIs use."""
    out = []
    if isinstance(payload, list):
        # The DevOps APIs (builds, deployments, feature flags) answer errors as [{"message": ...}, ...].
        return [_message_text(item) for item in payload]
    if isinstance(payload, dict):
        for msg in payload.get("errorMessages") or []:
            out.append(_message_text(msg))
        errors = payload.get("errors")
        if isinstance(errors, dict):
            out.extend(f"{k}: {v}" for k, v in errors.items())
        elif isinstance(errors, list):
            for item in errors:
                if isinstance(item, dict):
                    out.append(str(item.get("message") or item.get("title") or item))
                else:
                    out.append(str(item))
        for key in ("error_description", "message", "detail"):
            if payload.get(key):
                out.append(str(payload[key]))
        if not out and payload.get("error"):
            out.append(str(payload["error"]))
    return out


class Response:
    """What callers need from a response, decoded once."""

    def __init__(self, status, headers, body, url, method, path):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.method = method
        self.path = path
        self.json = None
        ctype = headers.get("Content-Type", "")
        if body and ("json" in ctype or body[:1] in (b"{", b"[")):
            try:
                self.json = _json.loads(body.decode("utf-8"))
            except ValueError:
                self.json = None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


class JiraClient:
    """A ``requests`` session with base URLs, one auth method, retries and Jira-aware errors.

    Safe to share between threads (the DevOps modules send their batches from a few): the counters are locked,
    authentication happens once, a 401 seen by several threads at once re-authenticates once, and a
    ``Retry-After`` one thread gets pauses the others too.
    """

    def __init__(self, url=None, api_url=DEFAULT_API_URL, auth_url=DEFAULT_AUTH_URL, auth=None, cloud_id=None,
                 timeout=30, validate_certs=True, ca_path=None, max_retries=5, retry_budget=120,
                 redactor=None, log=None, retry_policy_factory=None, session=None):
        if not HAS_REQUESTS:
            raise JiraError(f"the Python library 'requests' is required: {REQUESTS_IMPORT_ERROR}")
        self.url = check_base_url("url", url)
        self.api_url = check_base_url("api_url", api_url) or DEFAULT_API_URL
        self.auth_url = check_base_url("auth_url", auth_url) or DEFAULT_AUTH_URL
        self.cloud_id = cloud_id
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_budget = retry_budget
        self.redactor = redactor or Redactor()
        if auth is not None:
            for secret in auth.secrets():
                self.redactor.add(secret)
        self._log = log
        self._retry_policy_factory = retry_policy_factory or (
            lambda: RetryPolicy(max_retries=self.max_retries, budget=self.retry_budget)
        )
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if ca_path:
            self.session.verify = ca_path
        else:
            self.session.verify = bool(validate_certs)
        self._authenticated = False
        # Held while authenticating or re-authenticating (network calls); the generation counts re-authentications
        # so that a thread whose request carried older credentials retries instead of refreshing again.
        self._auth_lock = threading.RLock()
        self._auth_generation = 0
        # Counters and the shared pause.
        self._lock = threading.Lock()
        self._pause_until = 0.0
        self._pause_owner = None
        self._pause_note = ""  # the RateLimit-Reason of the reply that asked for the pause
        self.requests_made = 0
        self.retries_made = 0

    # -- URLs ---------------------------------------------------------------------------------------------
    def site_base(self):
        """Where site REST paths go: the site itself, or the cloud gateway when only a cloud id is known."""
        gateway = getattr(self.auth, "uses_gateway", False)
        if self.cloud_id and (not self.url or gateway):
            return f"{self.api_url}/ex/jira/{self.cloud_id}"
        if gateway:
            raise OptionError(
                "cloud_id",
                "Jira Cloud accepts OAuth 2.0 access tokens only through the API gateway "
                "{api_url}/ex/jira/{cloud_id}: give cloud_id (module jiraops.integration.cloud_id finds it), "
                "or provider=datacenter for a Jira Data Center site",
            )
        if not self.url:
            raise OptionError("url", "the Jira site URL is required (or set JIRA_URL, or give cloud_id)")
        return self.url

    def url_for(self, path, base="site"):
        if path.startswith(("http://", "https://")):
            return path
        root = {"site": self.site_base, "api": lambda: self.api_url, "auth": lambda: self.auth_url}[base]()
        return urljoin(root + "/", path.lstrip("/"))

    def debug(self, message):
        if self._log:
            self._log(self.redactor.text(message))

    # -- sharing between threads ----------------------------------------------------------------------------
    def use_connections(self, count):
        """Keep up to ``count`` connections per host open, for callers that send from that many threads."""
        if count > DEFAULT_POOL_SIZE:
            adapter = requests.adapters.HTTPAdapter(pool_connections=DEFAULT_POOL_SIZE, pool_maxsize=count)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)

    def ensure_authenticated(self):
        """Run the auth method's one-off step (an OAuth 2.0 token request) once, even when threads race to it."""
        if self.auth is None or self._authenticated:
            return
        with self._auth_lock:
            if not self._authenticated:
                self.auth.authenticate(self)
                self._authenticated = True

    def _reauthenticate(self, generation):
        """After a 401: True when the request should be sent again with fresh credentials."""
        with self._auth_lock:
            if self._auth_generation != generation:
                return True  # another thread got new credentials while this request was out
            if self.auth.on_unauthorized(self):
                self._auth_generation += 1
                return True
            return False

    def _count(self, retry=False):
        with self._lock:
            if retry:
                self.retries_made += 1
            else:
                self.requests_made += 1

    def _pause_all(self, seconds, note=""):
        """A reply said ``Retry-After: seconds``: no thread sends before then (this one waits by its own policy)."""
        with self._lock:
            until = time.monotonic() + seconds
            if until > self._pause_until:
                self._pause_until = until
                self._pause_owner = threading.get_ident()
                self._pause_note = note

    def _wait_for_pause(self, policy, method, display):
        """Wait out a pause another thread's reply asked for, within this request's retry budget."""
        while True:
            with self._lock:
                left = self._pause_until - time.monotonic()
                if left <= 0 or self._pause_owner == threading.get_ident():
                    return
            if policy.elapsed + left > policy.budget:
                raise JiraError(f"gave up after {policy.retries} retr{'y' if policy.retries == 1 else 'ies'}: Jira "
                                f"asked to wait {left:.0f}s more before the next request (Retry-After on a request "
                                "sent in parallel); raise retry_budget"
                                + (f"; {self._pause_note}" if self._pause_note else ""), method=method, path=display,
                                retries=policy.retries)
            self.debug(f"{method} {display} waits {left:.2f}s (Retry-After on a parallel request)")
            time.sleep(left)

    # -- requests -----------------------------------------------------------------------------------------
    def request(self, method, path, base="site", json=None, data=None, params=None, headers=None,
                expected=(200,), authenticate=True, retry=None, idempotent=None):
        """Send one logical request (retrying as policy allows) and return a Response or raise JiraError.

        ``expected`` lists accepted statuses (None accepts any). ``retry=None`` (default) retries 429/502/503/504
        for every method, since they mean the request was not processed, but retries a timeout or a dropped
        connection only for idempotent methods: a POST that timed out may have been processed, and sending it
        again could create a second comment. ``retry=True`` also retries those (for POSTs that are idempotent,
        such as bulk submissions keyed by sequence numbers); ``retry=False`` never retries. ``idempotent=False``
        marks a request whose method looks idempotent but is not (a PUT that creates a new entity each time, as
        Jira's application link API does): it is treated like a POST.
        """
        method = method.upper()
        url = self.url_for(path, base)
        display = urlsplit(url).path or "/"
        if authenticate:
            self.ensure_authenticated()
        policy = self._retry_policy_factory()
        reauthenticated = False
        hdrs = {"Accept": "application/json"}
        if headers:
            hdrs.update(headers)
        body = None
        if json is not None:
            body = _json.dumps(json).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = data
        while True:
            req = requests.Request(method, url, params=params, data=body, headers=hdrs)
            prepared = self.session.prepare_request(req)
            # Read before the credentials are applied: a 401 then tells whether they were replaced meanwhile.
            generation = self._auth_generation
            if authenticate and self.auth is not None:
                prepared = self.auth.apply(prepared) or prepared
            self._wait_for_pause(policy, method, display)
            self._count()
            if self._log:
                self.debug(f"{method} {display} attempt {policy.retries + 1}")
            try:
                raw = self.session.send(prepared, timeout=self.timeout, allow_redirects=False)
            except requests.exceptions.SSLError as exc:
                raise JiraError(
                    f"TLS verification failed ({self._short(exc)}); give ca_path with the CA bundle that signed "
                    "the server's certificate, or (only for throwaway test servers) validate_certs=false",
                    method=method, path=display,
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection failed"
                if idempotent is None:
                    idempotent = method in IDEMPOTENT_METHODS
                unsafe = (retry is None and not idempotent and may_have_been_processed(exc))
                wait = policy.next_wait() if retry is not False and not unsafe else None
                if wait is None:
                    message = f"{kind} after {policy.retries + 1} attempt(s) in {policy.elapsed:.1f}s: {self._short(exc)}"
                    if unsafe:
                        message += (f"; not retried because Jira may have processed this {method} already: check "
                                    "the result in Jira before running the task again")
                    raise JiraError(message, method=method, path=display, retries=policy.retries) from None
                self.debug(f"{method} {display} {kind}; retrying in {wait:.2f}s")
                self._count(retry=True)
                policy.wait(wait)
                continue
            resp = Response(raw.status_code, raw.headers, raw.content, url, method, display)
            if resp.status in RETRY_STATUSES and retry is not False:
                retry_after = policy.observe(resp.status, raw.headers)  # Retry-After, else X-RateLimit-Reset
                if retry_after and resp.status in PAUSE_STATUSES:
                    self._pause_all(retry_after, policy.limit_note())
                wait = policy.next_wait(retry_after)
                if wait is not None:
                    self.debug(f"{method} {display} got HTTP {resp.status}; retrying in {wait:.2f}s")
                    self._count(retry=True)
                    policy.wait(wait)
                    continue
                raise self._error(resp, policy, gave_up=True, retry_after=retry_after)
            if resp.status == 401 and authenticate and self.auth is not None and not reauthenticated:
                if self._reauthenticate(generation):
                    reauthenticated = True
                    continue
            if expected is not None and resp.status not in expected:
                raise self._error(resp, policy)
            resp.retries = policy.retries
            resp.waited = policy.waited
            return resp

    def _short(self, exc):
        return self.redactor.text(str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)[:300]

    def _error(self, resp, policy, gave_up=False, retry_after=None):
        messages = [self.redactor.text(m) for m in error_messages(resp.json)]
        if not messages and resp.body and resp.json is None:
            text = resp.text.strip()
            if text and "<html" not in text[:200].lower():
                messages = [self.redactor.text(text[:300])]
        # The auth method knows its protocol's failure replies (OAuth 1.0a's oauth_problem) best.
        explain = getattr(self.auth, "explain_failure", None)
        explained = explain(resp) if explain and not gave_up else None
        if gave_up:
            message = policy.give_up_message(retry_after)
        elif explained:
            message = explained
        elif resp.status == 401:
            message = "authentication failed: check the credentials (username/password, token, or OAuth settings)"
        elif resp.status == 403:
            message = "permission denied: the credentials are valid but lack the permission or scope for this call"
        elif resp.status == 404:
            message = "not found"
        else:
            message = "unexpected status"
        if not gave_up:
            policy.observe(resp.status, resp.headers)  # a 429 not retried (retry=False) still names its reason
            message = policy.with_limit_note(message)
        return JiraError(message, status=resp.status, method=resp.method, path=resp.path, messages=messages,
                         body=self.redactor.data(resp.json), retries=policy.retries)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)
