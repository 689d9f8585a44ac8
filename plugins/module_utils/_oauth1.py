# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OAuth 1.0a token dance against Jira Server / Data Center, and the file that keeps its tokens.

1. request token: ``POST /plugins/servlet/oauth/request-token`` signed by the consumer (callback ``oob``);
2. the user approves at ``/plugins/servlet/oauth/authorize?oauth_token=...`` and gets a verification code;
3. access token: ``POST /plugins/servlet/oauth/access-token`` signed with the request token and the verifier.

Replies are form-encoded; failures carry ``oauth_problem``, which the auth method turns into advice.
"""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlencode

from ansible.module_utils.common.warnings import warn as _ansible_warn

from ansible_collections.jiraops.integration.plugins.module_utils._auth_oauth1 import OAuth1Auth
from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError, OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._io import write_file_atomic
from ansible_collections.jiraops.integration.plugins.module_utils._token_store import (
    read_store_file,
    resolve_store_path,
)

REQUEST_TOKEN_PATH = "/plugins/servlet/oauth/request-token"
AUTHORIZE_PATH = "/plugins/servlet/oauth/authorize"
ACCESS_TOKEN_PATH = "/plugins/servlet/oauth/access-token"
FORM_HEADERS = {"Accept": "application/x-www-form-urlencoded, text/plain, */*"}
STORE_VERSION = 1


def _form(resp):
    """The decoded form-encoded reply of a token endpoint."""
    try:
        return dict(parse_qsl(resp.text.strip(), keep_blank_values=True, strict_parsing=True))
    except ValueError:
        return {}


def _tokens(resp):
    form = _form(resp)
    if not form.get("oauth_token") or "oauth_token_secret" not in form:
        raise JiraError("the reply is not an OAuth token (no oauth_token/oauth_token_secret): check that url is the "
                        "Jira base URL (the one the servlet paths start from)", status=resp.status,
                        method=resp.method, path=resp.path)
    return form


def fetch_request_token(client_for, params, callback="oob"):
    """Step 1. ``client_for(auth)`` builds the JiraClient; returns request_token, its secret and authorize_url."""
    client = client_for(OAuth1Auth.for_stage(params, "request", callback=callback))
    form = _tokens(client.post(REQUEST_TOKEN_PATH, headers=FORM_HEADERS))
    return {
        "request_token": form["oauth_token"],
        "request_token_secret": form["oauth_token_secret"],
        "authorize_url": authorize_url(client, form["oauth_token"]),
    }


def authorize_url(client, request_token):
    return client.url_for(AUTHORIZE_PATH) + "?" + urlencode({"oauth_token": request_token})


def fetch_access_token(client_for, params, request_token, verifier):
    """Step 3: exchange an approved request token and its verifier for an access token."""
    client = client_for(OAuth1Auth.for_stage(params, "access", token=request_token, verifier=verifier))
    form = _tokens(client.post(ACCESS_TOKEN_PATH, headers=FORM_HEADERS))
    result = {"access_token": form["oauth_token"], "access_token_secret": form["oauth_token_secret"]}
    try:
        result["expires_in"] = int(form["oauth_expires_in"])
    except (KeyError, ValueError):
        result["expires_in"] = None
    return result


class TokenStore:
    """One JSON file (0600, replaced atomically) holding one consumer's tokens, like the tutorial's
    config.properties but without the private key, which stays in its own file."""

    option = "token_store"

    def __init__(self, path, url, consumer_key, warn=None):
        self.path = resolve_store_path(path, self.option, warn or _ansible_warn)
        self.url = (url or "").rstrip("/")
        self.consumer_key = consumer_key

    def load(self):
        """The stored tokens ({} when the file does not exist); refuses files others can read, or foreign ones."""
        raw = read_store_file(self.path, self.option, f"only its owner may read it. Run chmod 600 {self.path} (and "
                                                      "check who read it)")
        if raw is None:
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise OptionError(self.option, f"{self.path} is not valid JSON, so it is not a token store written by "
                                           "this collection; move it away or point token_store elsewhere") from None
        if not isinstance(data, dict) or data.get("version") != STORE_VERSION:
            raise OptionError(self.option, f"{self.path} is not a version {STORE_VERSION} OAuth 1.0a token store of "
                                           "this collection; move it away or point token_store elsewhere")
        for key, mine in (("consumer_key", self.consumer_key), ("url", self.url)):
            if data.get(key) and mine and data[key] != mine:
                raise OptionError(self.option, f"{self.path} holds tokens of {key} {data[key]!r}, not {mine!r}; "
                                               "use one token store per consumer and Jira site")
        return data

    def save(self, module, data):
        content = {"version": STORE_VERSION, "url": self.url, "consumer_key": self.consumer_key}
        content.update({k: v for k, v in data.items() if k not in content})
        content["updated"] = int(time.time())
        payload = (json.dumps(content, indent=2, sort_keys=True) + "\n").encode("utf-8")
        try:
            write_file_atomic(module, self.path, payload, mode=0o600, follow_symlinks=False)
        except OSError as exc:
            raise OptionError(self.option, f"cannot write {self.path}: {exc.strerror}") from None
