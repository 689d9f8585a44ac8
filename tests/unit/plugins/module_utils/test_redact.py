from __future__ import annotations

from ansible_collections.jiraops.integration.plugins.module_utils._redact import MASK, Redactor, redact


def test_known_secrets_are_masked_everywhere():
    r = Redactor(["s3cr3t-value"])
    data = {"a": ["x s3cr3t-value y"], "b": {"c": "s3cr3t-value"}}
    assert r.data(data) == {"a": [f"x {MASK} y"], "b": {"c": MASK}}


def test_secret_headers_masked_by_name():
    r = Redactor()
    out = r.headers({"Authorization": "Basic abc", "Set-Cookie": "JSESSIONID=1", "Content-Type": "text/plain"})
    assert out == {"Authorization": MASK, "Set-Cookie": MASK, "Content-Type": "text/plain"}


def test_secret_keys_masked_in_bodies():
    out = redact({"access_token": "abc", "refresh_token": "def", "expires_in": 900, "scope": "read"})
    assert out == {"access_token": MASK, "refresh_token": MASK, "expires_in": 900, "scope": "read"}


def test_authorization_values_in_free_text():
    assert Redactor().text("sent Authorization: Bearer eyJabc.def") == f"sent Authorization: Bearer {MASK}"


def test_short_values_are_not_treated_as_secrets():
    assert Redactor(["ab"]).text("abc") == "abc"


def test_oauth1_header_in_text():
    text = 'header OAuth oauth_consumer_key="jira", oauth_signature="abc%3D"'
    assert Redactor().text(text) == f"header OAuth {MASK}"


def test_plain_words_after_scheme_names_are_kept():
    text = "check the credentials (username/password, token, or OAuth settings); Basic auth failed"
    assert Redactor().text(text) == text


def test_secrets_are_masked_in_their_escaped_and_encoded_forms():
    import json  # pylint: disable=import-outside-toplevel
    from urllib.parse import quote, quote_plus  # pylint: disable=import-outside-toplevel

    secret = 'a"b\\c/d+e&f=g h\u00fc'
    r = Redactor([secret])
    for form in (json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret),
                 quote(secret, safe=""), quote_plus(secret), quote(secret, safe="").lower()):
        assert r.text(f"echo: {form} end") == f"echo: {MASK} end", form


def test_basic_auth_secrets_include_the_encoded_pair():
    import base64  # pylint: disable=import-outside-toplevel

    from ansible_collections.jiraops.integration.plugins.module_utils._auth import BasicAuth  # pylint: disable=import-outside-toplevel

    auth = BasicAuth({"username": "alice", "password": "pw-0123"})
    pair = base64.b64encode(b"alice:pw-0123").decode()
    assert Redactor(auth.secrets()).text(f"got {pair}") == f"got {MASK}"
