"""The emulator's in-memory world: users, issues, credentials, the request log, faults and tunables.

One lock guards everything; feature modules keep their own data in ``state.features`` and reset with it.
"""
from __future__ import annotations

import copy
import fnmatch
import threading
import time
from dataclasses import dataclass, field

DEFAULT_USERS = [
    {"name": "admin", "password": "admin", "displayName": "Ada Admin", "emailAddress": "admin@example.com",
     "accountId": "5b10a2844c20165700ede21a", "admin": True},
    {"name": "alice", "password": "alice-password", "displayName": "Alice Developer",
     "emailAddress": "alice@example.com", "accountId": "5b10ac8d82e05b22cc7d4ef5", "admin": False},
    {"name": "bob", "password": "bob-password", "displayName": "Bob Approver", "emailAddress": "bob@example.com",
     "accountId": "5b10ac8d82e05b22cc7d4ef6", "admin": False},
]

# Personal access tokens (Data Center) and seeded bearer tokens: token -> user name.
DEFAULT_PATS = {"alice-pat-0123456789abcdef": "alice", "admin-pat-0123456789abcdef": "admin"}

DEFAULT_ISSUES = [
    {"key": "JJ-1", "summary": "Jira Junior needs a mascot", "status": "Done"},
    {"key": "JJ-2", "summary": "Jira Junior logo is not pink enough", "status": "In Progress"},
    {"key": "JJ-3", "summary": "Add a pony to the dashboard", "status": "To Do"},
    {"key": "JJ-12", "summary": "Pink logo variants", "status": "To Do"},
    {"key": "OPS-7", "summary": "Rotate the deploy keys", "status": "To Do"},
]

DEFAULT_CONFIG = {
    "cloud_id": "11111111-2222-3333-4444-555555555555",
    "site_name": "jira-junior",
}


@dataclass
class Principal:
    """Who a request runs as, and what it may do."""

    user: dict
    via: str  # basic, pat, oauth1, oauth2
    scopes: frozenset | None = None  # None: everything the user may do
    client_id: str | None = None
    extra: dict = field(default_factory=dict)

    def has_scope(self, *wanted):
        return self.scopes is None or any(s in self.scopes for s in wanted)


@dataclass
class Fault:
    id: int
    path: str
    method: str | None
    kind: str  # status, delay, latency, drop
    status: int = 503
    retry_after: str | None = None
    headers: dict = field(default_factory=dict)  # sent as given (X-RateLimit-*, RateLimit-Reason, ...)
    reset_in: float | None = None  # X-RateLimit-Reset this many seconds after the reply, in ISO 8601 UTC
    body: object = None
    delay: float = 0.0
    times: int = 1  # -1: forever
    skip: int = 0
    seen: int = 0
    fired: int = 0

    def matches(self, method, path):
        if self.method and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def as_dict(self):
        return {k: getattr(self, k) for k in ("id", "path", "method", "kind", "status", "retry_after", "headers",
                                              "reset_in", "body", "delay", "times", "skip", "seen", "fired")}


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self._reset_hooks = []
        self.features = {}
        self.reset()

    def on_reset(self, hook):
        """Feature modules register a hook that clears their data; it runs now and on every reset."""
        self._reset_hooks.append(hook)
        with self.lock:
            hook(self)

    def reset(self):
        with self.lock:
            self.users = {u["name"]: dict(u) for u in copy.deepcopy(DEFAULT_USERS)}
            self.pats = dict(DEFAULT_PATS)
            # token -> {"user": name, "scopes": [...]|None, "expires_at": epoch|None, "client_id": ...}
            self.bearer_tokens = {}
            self.issues = {i["key"]: dict(i) for i in copy.deepcopy(DEFAULT_ISSUES)}
            self.config = dict(DEFAULT_CONFIG)
            self.requests = []
            self.faults = []
            self._fault_seq = 0
            self._request_seq = 0
            for hook in self._reset_hooks:
                hook(self)

    # -- request log --------------------------------------------------------------------------------------
    def log_request(self, entry):
        with self.lock:
            self._request_seq += 1
            entry["seq"] = self._request_seq
            entry["time"] = time.time()
            self.requests.append(entry)
            return entry

    # -- faults -------------------------------------------------------------------------------------------
    def add_fault(self, spec):
        with self.lock:
            self._fault_seq += 1
            fault = Fault(id=self._fault_seq, **spec)
            self.faults.append(fault)
            return fault

    def take_fault(self, method, path):
        """The fault to apply to this request, if any; counts the match."""
        chosen = None
        with self.lock:
            # Every matching fault counts the request, so ``skip`` means "the first N requests to this path".
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                eligible = fault.seen > fault.skip and (fault.times == -1 or fault.fired < fault.times)
                if chosen is None and eligible:
                    fault.fired += 1
                    chosen = fault
        return chosen

    # -- principals ---------------------------------------------------------------------------------------
    def user_by_name(self, name):
        return self.users.get(name)
