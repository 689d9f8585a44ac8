# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Auth methods as small classes; ``auth_method: auto`` picks the one whose options were given.

Each method names the options it uses, checks them without touching the network (``validate``), may do a
one-off network step before the first call (``authenticate``, e.g. fetching an OAuth 2.0 token), and
signs each prepared request (``apply``).
"""
from __future__ import annotations

import base64

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError


class AuthMethod:
    name = ""
    # Options that select this method under auth_method=auto when any of them is set.
    trigger_options = ()
    # Options that must be set when this method is used.
    required_options = ()
    # Options whose values are secrets (masked everywhere).
    secret_options = ()
    # For error messages: a short human phrase.
    description = ""
    # The option named when the Authorization header this method builds cannot be sent (a newline in a token).
    header_option = "auth_method"

    def __init__(self, params):
        self.params = params

    @classmethod
    def given(cls, params):
        return [o for o in cls.trigger_options if params.get(o) not in (None, "")]

    def validate(self):
        missing = [o for o in self.required_options if self.params.get(o) in (None, "")]
        if missing:
            raise OptionError(
                missing[0],
                f"auth_method={self.name} needs {', '.join(missing)} "
                f"(or the environment variable{'s' if len(missing) > 1 else ''} "
                f"{', '.join('JIRA_' + m.upper() for m in missing)})",
            )

    def authenticate(self, client):
        """One-off network step before the first authenticated request; nothing by default."""

    def apply(self, request):
        """Add credentials to a ``requests.PreparedRequest``."""
        return request

    def on_unauthorized(self, client):
        """Called once on HTTP 401; return True when a retry with fresh credentials makes sense."""
        return False

    def secrets(self):
        return [self.params.get(o) for o in self.secret_options if self.params.get(o)]


class NoAuth(AuthMethod):
    name = "none"
    description = "anonymous"


class BasicAuth(AuthMethod):
    name = "basic"
    trigger_options = ("username", "password")
    required_options = ("username", "password")
    secret_options = ("password",)
    description = "basic auth (username + password or Atlassian API token)"

    header_option = "password"

    def _pair(self):
        return f"{self.params['username']}:{self.params['password']}"

    def apply(self, request):
        request.headers["Authorization"] = "Basic " + base64.b64encode(self._pair().encode("utf-8")).decode("ascii")
        return request

    def secrets(self):
        """The password, and the base64 ``user:password`` a server may echo from the Authorization header."""
        out = super().secrets()
        if self.params.get("username") and self.params.get("password"):
            out.append(base64.b64encode(self._pair().encode("utf-8")).decode("ascii"))
        return out


class BearerAuth(AuthMethod):
    name = "bearer"
    trigger_options = ("token",)
    required_options = ("token",)
    secret_options = ("token",)
    description = "bearer token (Data Center personal access token or OAuth 2.0 access token)"
    header_option = "token"

    def apply(self, request):
        request.headers["Authorization"] = "Bearer " + self.params["token"]
        return request


# Order matters for nothing but error messages; the OAuth methods add themselves with register().
AUTH_METHODS = {cls.name: cls for cls in (NoAuth, BasicAuth, BearerAuth)}


def register(cls):
    AUTH_METHODS[cls.name] = cls
    return cls


def select_auth(params):
    """Return the AuthMethod instance for ``params``, explaining any ambiguity."""
    name = params.get("auth_method") or "auto"
    if name != "auto":
        if name not in AUTH_METHODS:
            choices = ", ".join(["auto"] + sorted(AUTH_METHODS))
            raise OptionError("auth_method", f"unknown method {name!r}; choose one of {choices}")
        method = AUTH_METHODS[name](params)
        method.validate()
        return method
    given = [(cls, cls.given(params)) for cls in AUTH_METHODS.values()]
    given = [(cls, opts) for cls, opts in given if opts]
    # A method whose triggers are a strict superset of another's wins (e.g. a refresh token also sets client_id).
    candidates = [
        (cls, opts) for cls, opts in given
        if not any(set(opts) < set(other) for other_cls, other in given if other_cls is not cls)
    ]
    if not candidates:
        return NoAuth(params)
    if len(candidates) > 1:
        found = "; ".join(f"{cls.name} ({', '.join(opts)})" for cls, opts in candidates)
        raise OptionError(
            "auth_method",
            f"auth_method=auto cannot choose: options for more than one method were given: {found}. "
            f"Set auth_method to one of {', '.join(cls.name for cls, dummy in candidates)} or remove the others",
        )
    method = candidates[0][0](params)
    method.validate()
    return method
