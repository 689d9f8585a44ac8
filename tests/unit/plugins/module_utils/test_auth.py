from __future__ import annotations

import base64

import pytest
import requests

from ansible_collections.jiraops.integration.plugins.module_utils._auth import BasicAuth, BearerAuth, NoAuth, select_auth
from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError


def params(**kw):
    base = {"auth_method": "auto", "username": None, "password": None, "token": None}
    base.update(kw)
    return base


def test_auto_picks_none_without_credentials():
    assert isinstance(select_auth(params()), NoAuth)


def test_auto_picks_basic():
    method = select_auth(params(username="alice", password="pw12"))
    assert isinstance(method, BasicAuth)
    req = method.apply(requests.Request("GET", "http://x/").prepare())
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:pw12").decode()


def test_auto_picks_bearer():
    method = select_auth(params(token="tok-123456"))
    assert isinstance(method, BearerAuth)
    req = method.apply(requests.Request("GET", "http://x/").prepare())
    assert req.headers["Authorization"] == "Bearer tok-123456"
    assert method.secrets() == ["tok-123456"]


def test_auto_refuses_ambiguous_input_and_says_why():
    with pytest.raises(OptionError) as err:
        select_auth(params(username="alice", password="pw12", token="tok-123456"))
    msg = str(err.value)
    assert "basic (username, password)" in msg and "bearer (token)" in msg
    assert "pw12" not in msg and "tok-123456" not in msg


def test_incomplete_basic_names_the_missing_option():
    with pytest.raises(OptionError) as err:
        select_auth(params(username="alice"))
    assert err.value.option == "password"
    assert "JIRA_PASSWORD" in str(err.value)


def test_explicit_method_must_exist():
    with pytest.raises(OptionError) as err:
        select_auth(params(auth_method="kerberos"))
    assert "kerberos" in str(err.value) and err.value.option == "auth_method"


def test_explicit_none_ignores_credentials():
    assert isinstance(select_auth(params(auth_method="none", token="t-123456")), NoAuth)
