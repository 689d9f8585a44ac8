# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client every module, lookup and role uses to talk to Jira and Atlassian's cloud endpoints.

Retries, ``Retry-After``, TLS options, error messages and redaction live here and nowhere else.
"""
from __future__ import annotations

import http.client
import ipaddress
import json as _json
import re
import socket
import threading
import time
import zlib
from urllib.parse import urlsplit

try:
    import requests
    import urllib3
    import urllib3.connection
    import urllib3.exceptions
    from urllib3.exceptions import ConnectTimeoutError as _ConnectTimeoutError
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without requests
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

from ansible_collections.jiraops.integration.plugins.module_utils import _clock
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
# Reply bodies larger than this (decompressed) fail the task: Jira's REST replies are far smaller, so a bigger
# one is a misbehaving server or proxy, and reading it whole would cost the controller its memory.
DEFAULT_MAX_RESPONSE_SIZE = 8 * 1024 * 1024
# The DevOps bulk modules: each reply lists every entity of its request with its outcome and errors.
BULK_MAX_RESPONSE_SIZE = 32 * 1024 * 1024
# Bytes asked from the socket per read; a compressed read decompresses to at most the bytes still allowed.
READ_CHUNK = 64 * 1024
# Only the codings decoded here are offered, so that the size limit counts every decompressed byte.
ACCEPT_ENCODING = "gzip, deflate"
# Longest base URL and host accepted (DNS names are at most 253 characters).
MAX_URL_LENGTH = 2048
MAX_HOST_LENGTH = 253
# RFC 9110 5.1: a field name is a token.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
DEFAULT_PORTS = {"http": 80, "https": 443}


class ReplyProblem(Exception):
    """A reply that could not be read or decoded; retried like a dropped connection where that is safe."""


class ReplyTimeout(ReplyProblem):
    """The reply did not arrive whole within ``timeout``."""


class ReplyTooLarge(Exception):
    """A reply past ``max_response_size``; never retried (the next one would be as large)."""


# The cutter of the request this thread is sending, for the connection to report its socket to.
_ACTIVE = threading.local()


class _Cutter:
    """Shuts the request's socket at the deadline, so that no read (however slowly the server drips its headers or
    body) outlasts ``timeout``."""

    def __init__(self, deadline):
        self._lock = threading.Lock()
        self._open = True
        self._sock = None
        self.stream = None
        self.cut = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()
        _ACTIVE.cutter = self

    def watch(self, sock):
        with self._lock:
            self._sock = sock
        if self.cut:
            self._fire()

    def _fire(self):
        with self._lock:
            if not self._open:
                return
            self.cut = True
            try:
                if self._sock is not None:
                    self._sock.shutdown(socket.SHUT_RDWR)
                elif self.stream is not None:  # a connection class that did not report its socket (a proxy)
                    self.stream.shutdown()
            except (ValueError, RuntimeError, OSError):
                pass

    def stop(self):
        """Disarm; True when the deadline had already cut the request off."""
        with self._lock:
            self._open = False
        self._timer.cancel()
        _ACTIVE.cutter = None
        return self.cut


def _watched(connection_class):
    """A urllib3 connection class that hands its socket to the request's cutter once the request is sent."""

    class Watched(connection_class):
        def _new_conn(self):
            # The socket as soon as it is connected: a proxy's reply to CONNECT is read before request() is called.
            sock = super()._new_conn()
            cutter = getattr(_ACTIVE, "cutter", None)
            if cutter is not None:
                cutter.watch(sock)
            return sock

        def request(self, *args, **kwargs):  # pylint: disable=arguments-differ
            super().request(*args, **kwargs)
            cutter = getattr(_ACTIVE, "cutter", None)
            if cutter is not None:
                cutter.watch(self.sock)

    Watched.__name__ = "Watched" + connection_class.__name__
    return Watched


if HAS_REQUESTS:
    _POOLS = {
        "http": type("WatchedHTTPConnectionPool", (urllib3.HTTPConnectionPool,),
                     {"ConnectionCls": _watched(urllib3.connection.HTTPConnection)}),
        "https": type("WatchedHTTPSConnectionPool", (urllib3.HTTPSConnectionPool,),
                      {"ConnectionCls": _watched(urllib3.connection.HTTPSConnection)}),
    }

    class _Adapter(requests.adapters.HTTPAdapter):
        """requests' adapter with connections whose sockets the deadline can cut, through an HTTP proxy too."""

        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = _POOLS

        def proxy_manager_for(self, proxy, **proxy_kwargs):
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if not proxy.lower().startswith("socks"):  # a SOCKS manager needs its own connection classes
                manager.pool_classes_by_scheme = _POOLS
            return manager


def _shown(value, limit=80):
    """A value for a message, shortened (a 100,000-character host must not fill the screen)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


def origin(url):
    """(scheme, host, port) of an absolute URL: the unit credentials are bound to."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def host_text(url):
    """``host:port`` of a URL for messages (never its user name or password)."""
    try:
        scheme, host, port = origin(url)
    except ValueError:
        return "an unparseable host"
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def is_loopback(host):
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_headers(headers, option):
    """Header names and values requests and http.client would reject (or send split) fail here, naming ``option``.

    The value is never shown: it may be a credential.
    """
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise OptionError(option, f"{_shown(name, 60)} is not a valid HTTP header name (letters, digits and "
                                      "marks such as - and _, without spaces, colons or other separators)")
        if isinstance(value, bytes):  # what oauthlib's signed Authorization header is
            value = value.decode("latin-1")
        if not isinstance(value, str):
            raise OptionError(option, f"the value of header {name} must be a string, got {type(value).__name__} "
                                      "(quote it in YAML)")
        if "\r" in value or "\n" in value or "\0" in value:
            raise OptionError(option, f"the value of header {name} contains a line break or NUL character "
                                      "(a trailing newline from a vault or file lookup?); it was not sent")
        if value != value.strip(" \t"):
            raise OptionError(option, f"the value of header {name} starts or ends with whitespace; it was not sent")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise OptionError(option, f"the value of header {name} contains characters outside ISO-8859-1, "
                                      "which HTTP headers cannot carry; it was not sent") from None


def check_base_url(option, value):
    """A base URL must be absolute http(s) with a usable host; say which option is wrong before any request is made.

    The value is shown only when it carries no user name or password, and shortened.
    """
    if value in (None, ""):
        return None
    if len(value) > MAX_URL_LENGTH:
        raise OptionError(option, f"the URL is {len(value)} characters long; at most {MAX_URL_LENGTH} are accepted")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise OptionError(option, f"{_shown(value)} is not a URL that can be parsed ({exc})") from None
    if "@" in parts.netloc:
        raise OptionError(option, "the URL contains a user name or password (user:password@host); give them as "
                                  "username and password (or token) instead, never in the URL")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OptionError(option, f"{_shown(value)} is not an absolute http(s) URL (for example "
                                  "https://jira.example.com)")
    if not parts.hostname:
        raise OptionError(option, f"{_shown(value)} has no host name")
    if len(parts.hostname) > MAX_HOST_LENGTH:
        raise OptionError(option, f"the host name is {len(parts.hostname)} characters long; DNS names have at most "
                                  f"{MAX_HOST_LENGTH}")
    if parts.query or parts.fragment or value.rstrip("/").endswith(("?", "#")):
        raise OptionError(option, f"{_shown(value)} has a query string or fragment; a base URL is scheme, host, "
                                  "port and an optional path only")
    if port == 0:
        raise OptionError(option, f"{_shown(value)} has port 0")
    if HAS_REQUESTS:
        # A host requests cannot encode (stray bytes from a non-UTF-8 environment variable) would otherwise surface
        # as a traceback at the first request.
        try:
            requests.Request("GET", value).prepare()
        except requests.exceptions.RequestException as exc:
            raise OptionError(option, f"{_shown(value)} is not an absolute http(s) URL that can be used: "
                                      f"{str(exc).splitlines()[0][:200]}") from None
        except (ValueError, UnicodeError) as exc:
            raise OptionError(option, f"{_shown(value)} has a host that cannot be encoded ({str(exc)[:200]})") from None
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
            except RecursionError:
                raise ReplyProblem("the JSON reply is nested too deeply to decode") from None

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
                 redactor=None, log=None, max_response_size=DEFAULT_MAX_RESPONSE_SIZE, clock=None):
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
        self.max_response_size = max_response_size or DEFAULT_MAX_RESPONSE_SIZE
        # Warnings for the task (plain http with credentials, validate_certs=false), set by build_client.
        self.warnings = []
        self.redactor = redactor or Redactor()
        if auth is not None:
            for secret in auth.secrets():
                self.redactor.add(secret)
        self._log = log
        # Every wait the client takes goes through this clock (tests pass one that does not sleep).
        self.clock = clock or _clock.SYSTEM
        self.session = requests.Session()
        self._mount(_Adapter())
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept-Encoding"] = ACCEPT_ENCODING
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
        """An absolute URL stays as given (``check_target`` decides whether it may be called); anything else is a
        path joined to the base, never parsed as a URL (``/http://host/x`` and ``//host/x`` stay on the base)."""
        if _ABSOLUTE_URL.match(path):
            return path
        root = {"site": self.site_base, "api": lambda: self.api_url, "auth": lambda: self.auth_url}[base]()
        return root + "/" + path.lstrip("/")

    def origins(self):
        """(scheme, host, port) of the site, the gateway and the auth server: the only places credentials go."""
        return {origin(base) for base in (self.url, self.api_url, self.auth_url) if base}

    def check_target(self, url, option="path"):
        """Refuse, before anything is sent or any token is minted, a URL outside the configured bases."""
        try:
            parts = urlsplit(url)
            target = origin(url)
        except ValueError as exc:
            raise OptionError(option, f"{_shown(url)} is not a URL that can be parsed ({exc})") from None
        if "@" in parts.netloc:
            raise OptionError(option, "the URL contains a user name or password (user:password@host); "
                                      "credentials go in their own options, never in a URL")
        if target not in self.origins():
            bases = ", ".join(f"{name}={host_text(value)}" for name, value in
                              (("url", self.url), ("api_url", self.api_url), ("auth_url", self.auth_url)) if value)
            raise OptionError(option, f"the request would reach {host_text(url)}, which is none of the configured "
                                      f"hosts ({bases}); it was not sent, so no credentials reached it. Give a path "
                                      "relative to the base, or set url, api_url or auth_url to that host")

    def debug(self, message):
        if self._log:
            self._log(self.redactor.text(message))

    # -- sharing between threads ----------------------------------------------------------------------------
    def use_connections(self, count):
        """Keep up to ``count`` connections per host open, for callers that send from that many threads."""
        if count > DEFAULT_POOL_SIZE:
            self._mount(_Adapter(pool_connections=DEFAULT_POOL_SIZE, pool_maxsize=count))

    def _mount(self, adapter):
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

    def _new_retry_policy(self):
        """One logical request's retry policy, waiting on the client's clock."""
        return RetryPolicy(max_retries=self.max_retries, budget=self.retry_budget, sleep=self.clock.sleep,
                           clock=self.clock.monotonic, wall_clock=self.clock.time)

    def _pause_all(self, seconds, note=""):
        """A reply said ``Retry-After: seconds``: no thread sends before then (this one waits by its own policy)."""
        with self._lock:
            until = self.clock.monotonic() + seconds
            if until > self._pause_until:
                self._pause_until = until
                self._pause_owner = threading.get_ident()
                self._pause_note = note

    def _wait_for_pause(self, policy, method, display):
        """Wait out a pause another thread's reply asked for, within this request's retry budget."""
        while True:
            with self._lock:
                left = self._pause_until - self.clock.monotonic()
                if left <= 0 or self._pause_owner == threading.get_ident():
                    return
            if policy.elapsed + left > policy.budget:
                raise JiraError(f"gave up after {policy.retries} retr{'y' if policy.retries == 1 else 'ies'}: Jira "
                                f"asked to wait {left:.0f}s more before the next request (Retry-After on a request "
                                "sent in parallel); raise retry_budget"
                                + (f"; {self._pause_note}" if self._pause_note else ""), method=method, path=display,
                                retries=policy.retries)
            self.debug(f"{method} {display} waits {left:.2f}s (Retry-After on a parallel request)")
            self.clock.sleep(left)

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
            self.check_target(url)
        if headers:
            check_headers(headers, "headers")
        if authenticate:
            self.ensure_authenticated()
        policy = self._new_retry_policy()
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
            try:
                prepared = self.session.prepare_request(req)
            except (requests.exceptions.RequestException, ValueError, UnicodeError) as exc:
                raise OptionError("path", f"cannot build a request URL from it: {self._short(exc)}") from None
            # Read before the credentials are applied: a 401 then tells whether they were replaced meanwhile.
            generation = self._auth_generation
            if authenticate and self.auth is not None:
                prepared = self.auth.apply(prepared) or prepared
                check_headers({"Authorization": prepared.headers.get("Authorization", "")},
                              getattr(self.auth, "header_option", "auth_method"))
            self._wait_for_pause(policy, method, display)
            self._count()
            if self._log:
                self.debug(f"{method} {display} attempt {policy.retries + 1}")
            cutter = _Cutter(time.monotonic() + self.timeout)
            try:
                raw = self.session.send(prepared, timeout=self.timeout, allow_redirects=False, stream=True)
                resp = Response(raw.status_code, raw.headers, self._read_body(raw, cutter), url, method, display)
            except requests.exceptions.SSLError as exc:
                raise JiraError(
                    f"TLS verification failed ({self._short(exc)}); give ca_path with the CA bundle that signed "
                    "the server's certificate, or (only for throwaway test servers) validate_certs=false",
                    method=method, path=display,
                ) from None
            except requests.exceptions.InvalidHeader as exc:
                raise JiraError(f"a request header was refused before sending ({self._short(exc)})",
                                method=method, path=display, option="headers") from None
            except ReplyTooLarge as exc:
                raise JiraError(str(exc), method=method, path=display, retries=policy.retries) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ReplyProblem) as exc:
                if cutter.stop() and not isinstance(exc, ReplyTimeout):
                    exc = ReplyTimeout(f"the whole reply took longer than timeout={self.timeout:g}s")
                if isinstance(exc, (requests.exceptions.Timeout, ReplyTimeout)):
                    kind = "timed out"
                elif isinstance(exc, ReplyProblem):
                    kind = "unreadable reply"
                else:
                    kind = "connection failed"
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
            finally:
                cutter.stop()
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

    def _read_body(self, raw, cutter):
        """The body of ``raw`` (sent with ``stream=True``), decompressed, within max_response_size and the deadline.

        Decompressed here rather than by urllib3 so that a small gzip bomb never grows past the limit in memory;
        ``cutter`` shuts the socket at the deadline, so a server dripping bytes cannot hold the task past timeout.
        """
        limit = self.max_response_size
        coding = (raw.headers.get("Content-Encoding") or "identity").strip().lower()
        if coding in ("gzip", "x-gzip", "deflate"):
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib framing, detected
        elif coding == "identity":
            decoder = None
        else:
            raw.close()
            raise ReplyProblem(f"the reply is encoded as {coding[:40]!r}, which was not asked for")
        stream = raw.raw
        cutter.stream = stream
        body = bytearray()
        received = 0
        try:
            while True:
                chunk = stream.read1(READ_CHUNK, decode_content=False)
                if not chunk:
                    break
                received += len(chunk)
                if decoder is not None:
                    try:
                        chunk = decoder.decompress(chunk, limit - len(body) + 1)
                    except zlib.error as exc:
                        raise ReplyProblem(f"the {coding} reply body is corrupt ({exc})") from None
                if len(body) + len(chunk) > limit:
                    raise ReplyTooLarge(f"the reply is larger than max_response_size={limit} bytes "
                                        f"({limit / 1048576:g} MiB) and was not read further; raise max_response_size "
                                        "(or JIRA_MAX_RESPONSE_SIZE) if a reply that large is expected")
                body += chunk
            if cutter.stop():  # disarmed before the connection goes back to the pool
                raise ReplyTimeout(f"the whole reply took longer than timeout={self.timeout:g}s")
            if decoder is not None and received and not decoder.eof:
                raise ReplyProblem(f"the {coding} reply body ends early (truncated)")
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError, ValueError) as exc:
            raw.close()
            if cutter.cut or isinstance(exc, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
                raise ReplyTimeout(f"the whole reply took longer than timeout={self.timeout:g}s") from None
            raise ReplyProblem(f"the reply could not be read: {self._short(exc)}") from None
        except (ReplyProblem, ReplyTooLarge):
            raw.close()
            raise
        stream.release_conn()
        return bytes(body)

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
