# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OAuth 2.0 auth methods: ``client_credentials`` (2LO) and ``refresh_token`` (a user's 3LO or Data Center grant).

Both get their access token through a TokenSource, so with ``token_cache`` every task and fork shares one token
per credential and a rotated refresh token is stored before it is used. Cloud tokens are only accepted through
the API gateway, so site paths go to ``{api_url}/ex/jira/{cloud_id}``; Data Center tokens go to ``url``.
"""
from __future__ import annotations

from ansible_collections.jiraops.integration.plugins.module_utils._auth import AuthMethod, register
from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._oauth2 import (
    KIND_CLIENT,
    KIND_USER,
    PROVIDERS,
    TokenEndpoint,
    TokenSource,
)
from ansible_collections.jiraops.integration.plugins.module_utils._token_store_vault import open_token_store


class _OAuth2Method(AuthMethod):
    kind = None
    secret_options = ("client_secret", "refresh_token")

    def __init__(self, params):
        super().__init__(params)
        self._source = None
        self._token = None
        self.token = None  # the Token in use, for callers that want its facts (the token lookup)
        self.obtained = False

    @property
    def provider(self):
        return self.params.get("provider") or "cloud"

    @property
    def uses_gateway(self):
        return self.provider == "cloud"

    def validate(self):
        super().validate()
        if self.provider not in PROVIDERS:
            raise OptionError("provider", f"must be one of {', '.join(PROVIDERS)}, got {self.provider!r}")
        min_ttl = self.params.get("min_ttl")
        if min_ttl is not None and min_ttl < 0:
            raise OptionError("min_ttl", "must be 0 or more seconds")

    def source(self, client):
        if self._source is None:
            store = open_token_store(self.params)
            for secret in getattr(store, "secrets", list)():
                client.redactor.add(secret)
            endpoint = TokenEndpoint(client, self.provider, self.params.get("client_id"),
                                     self.params.get("client_secret"), self.params.get("audience"))
            min_ttl = self.params.get("min_ttl")
            self._source = TokenSource(endpoint, self.kind, store=store, min_ttl=60 if min_ttl is None else min_ttl,
                                       refresh_token=self.params.get("refresh_token"),
                                       warn=lambda msg: client.debug("warning: " + msg))
        return self._source

    def authenticate(self, client):
        self.token, self.obtained = self.source(client).get()
        self._token = self.token.access_token

    def apply(self, request):
        request.headers["Authorization"] = "Bearer " + self._token
        return request

    def on_unauthorized(self, client):
        """The server refused the token (revoked or expired early): get another one, once."""
        token, obtained = self.source(client).get(reject=self._token)
        if token.access_token == self._token:
            return False
        self.token, self._token = token, token.access_token
        self.obtained = self.obtained or obtained
        return True


@register
class ClientCredentialsAuth(_OAuth2Method):
    name = "client_credentials"
    kind = KIND_CLIENT
    trigger_options = ("client_id", "client_secret")
    required_options = ("client_id", "client_secret")
    description = "OAuth 2.0 client credentials (2LO: Jira Cloud OAuth credentials or a Data Center service account)"


@register
class RefreshTokenAuth(_OAuth2Method):
    name = "refresh_token"
    kind = KIND_USER
    trigger_options = ("client_id", "client_secret", "refresh_token")
    required_options = ("client_id", "client_secret")
    description = "OAuth 2.0 refresh token (a user's 3LO or Data Center grant, rotated through token_cache)"

    @classmethod
    def given(cls, params):
        # Chosen by auto only when a refresh token is given; then it also claims client_id and client_secret.
        if params.get("refresh_token") in (None, ""):
            return []
        return super().given(params)

    def validate(self):
        super().validate()
        if not self.params.get("refresh_token") and not self.params.get("token_cache"):
            raise OptionError(
                "refresh_token",
                "auth_method=refresh_token needs refresh_token (JIRA_REFRESH_TOKEN) or a token_cache "
                "(JIRA_TOKEN_CACHE) that holds the user's grant",
            )
