"""Helpers of the applink module that need no server: status entities, URLs, public key input forms."""
from __future__ import annotations

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils import _keys
from ansible_collections.jiraops.integration.plugins.module_utils._applink import (
    id_from_status,
    normalize_url,
    read_public_key,
)
from ansible_collections.jiraops.integration.plugins.module_utils._client import Response
from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError

LINK_ID = "0c7a4a4e-3b8e-3e4d-9d3c-7d8f2c1a9b10"
HREF = f"https://jira.test/rest/applinks/3.0/applicationlink/{LINK_ID}"


def _resp(body, ctype, headers=None):
    hdrs = {"Content-Type": ctype}
    hdrs.update(headers or {})
    return Response(201, hdrs, body, "https://jira.test/x", "PUT", "/x")


def test_id_from_jiras_json_status_entity_with_an_array_of_links():
    body = ('{"status-code": 201, "resources-created": [{"href": "%s", "rel": "applicationlink"}]}' % HREF).encode()
    assert id_from_status(_resp(body, "application/json")) == LINK_ID


def test_id_from_json_status_entity():
    body = ('{"status-code": 201, "resources-created": {"link": [{"href": "%s", "rel": "applicationlink"}]}}'
            % HREF).encode()
    assert id_from_status(_resp(body, "application/json")) == LINK_ID


def test_id_from_json_status_entity_with_a_single_link_object():
    body = ('{"status-code": 201, "resources-created": {"link": {"href": "%s/"}}}' % HREF).encode()
    assert id_from_status(_resp(body, "application/json")) == LINK_ID


def test_id_from_xml_status_entity():
    body = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><status><status-code>201</status-code>'
            f'<resources-created><link href="{HREF}" rel="applicationlink"/></resources-created></status>').encode()
    assert id_from_status(_resp(body, "application/xml")) == LINK_ID


def test_id_from_location_when_the_body_says_nothing():
    assert id_from_status(_resp(b"", "text/plain", {"Location": HREF})) == LINK_ID


def test_no_id_anywhere():
    assert id_from_status(_resp(b"<html>ok</html>", "text/html")) is None


def test_urls_compare_as_people_mean_them():
    assert normalize_url("HTTPS://Ansible.Example.com/") == normalize_url("https://ansible.example.com")
    assert normalize_url("https://a.example.com/x") != normalize_url("https://a.example.com/y")


@pytest.fixture(scope="module")
def key():
    return _keys.generate_private_key(2048)


def test_public_key_forms_are_equivalent(key, tmp_path):
    pem = _keys.public_key_pem(key)
    oneline = _keys.public_key_oneline(key)
    path = tmp_path / "pub.pem"
    path.write_text(pem)
    wanted = _keys.fingerprint(key)
    for value in (pem, oneline, str(path)):
        assert _keys.fingerprint(read_public_key(value)) == wanted


def test_private_key_as_public_key_is_refused_without_echoing_it(key):
    pem = _keys.private_key_pem(key).decode()
    with pytest.raises(OptionError) as err:
        read_public_key(pem)
    assert err.value.option == "public_key" and "private key" in str(err.value)
    assert pem.splitlines()[1] not in str(err.value)


def test_garbage_public_key_names_the_option():
    with pytest.raises(OptionError) as err:
        read_public_key("not a key at all")
    assert err.value.option == "public_key" and "PEM" in str(err.value)
