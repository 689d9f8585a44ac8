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
