"""The applink module run for real (in-process main()) against the emulator over HTTP.

Server state is always read back through the emulator's control API, never from the module's own result.
"""
from __future__ import annotations

import json

import pytest
import requests

from _oauth1_support import control, create_link, independent_dance, keypair
from ansible_collections.jiraops.integration.plugins.module_utils import _keys

MUTATING = ("PUT", "POST", "DELETE")


def args(emulator, **kw):
    base = {"url": emulator.url, "username": "admin", "password": "admin", "name": "Ansible",
            "application_url": "https://ansible.example.com", "consumer_key": "jiraops",
            "public_key": keypair().public_pem}
    base.update(kw)
    return base


def server_links(emulator):
    return control(emulator.url, "/applinks")["applinks"]


def mutations(emulator):
    return [r for r in emulator.requests() if r["method"] in MUTATING]


def consumer_puts(emulator):
    return [r for r in mutations(emulator) if r["path"].endswith("/authentication/consumer")]


def add_outgoing_consumer(emulator, link_id):
    """What Jira lists too for a generic link with outgoing OAuth: an HMAC consumer without a public key."""
    requests.post(f"{emulator.url}/_emulator/applinks/{link_id}/outgoing-consumer", json={}, timeout=10)


def test_check_mode_apply_idempotence(emulator, run_module):
    spec = args(emulator)
    res = run_module("applink", spec, check_mode=True, diff=True)
    assert not res.failed and res["changed"] is True
    assert res["applink"]["id"] is None and res["consumer"]["public_key_fingerprint"] == keypair().fingerprint
    assert res["diff"]["before"] == {"applink": None, "consumer": None}
    assert server_links(emulator) == [] and mutations(emulator) == []

    res = run_module("applink", spec, diff=True)
    assert res["changed"] is True
    assert res["actions"] == ["create application link 'Ansible'", "add incoming OAuth consumer 'jiraops'"]
    [link] = server_links(emulator)
    assert res["applink"] == {"id": link["id"], "name": "Ansible", "application_url": "https://ansible.example.com",
                              "display_url": "https://ansible.example.com", "type": "generic"}
    assert link["consumer"]["key"] == "jiraops" and link["consumer"]["name"] == "Ansible"
    assert _keys.fingerprint_of_public_pem(link["consumer"]["publicKey"]) == keypair().fingerprint
    # Every mutating call carried Jira's XSRF header (the emulator refuses them otherwise, too).
    assert all(r["headers"].get("X-Atlassian-Token") == "no-check" for r in mutations(emulator))

    emulator.control("DELETE", "/requests")
    res = run_module("applink", spec, check_mode=True, diff=True)
    assert res["changed"] is False and res["diff"]["before"] == res["diff"]["after"]
    res = run_module("applink", spec)
    assert res["changed"] is False and res["actions"] == []
    assert mutations(emulator) == [] and consumer_puts(emulator) == []
    assert res["consumer"]["public_key_fingerprint"] == keypair().fingerprint
    # The consumer Jira lists already has the key: public_key is not needed to say so.
    res = run_module("applink", args(emulator, public_key=None), diff=True)
    assert not res.failed and res["changed"] is False and res["diff"]["before"] == res["diff"]["after"]
    assert mutations(emulator) == []


def test_the_incoming_rsa_consumer_is_picked_from_a_list_with_the_outgoing_one(emulator, run_module):
    link_id = create_link(emulator.url)
    add_outgoing_consumer(emulator, link_id)
    emulator.control("DELETE", "/requests")
    res = run_module("applink", args(emulator), check_mode=True, diff=True)
    assert res["changed"] is False and res["diff"]["before"]["consumer"] == {
        "key": "jiraops", "name": "Ansible", "public_key_fingerprint": keypair().fingerprint}
    res = run_module("applink", args(emulator))
    assert res["changed"] is False and res["applink"]["id"] == link_id and consumer_puts(emulator) == []
    # The guard sees that consumer too: another link may not take its key.
    res = run_module("applink", args(emulator, name="Other", application_url="https://other.example.com"))
    assert res.failed and res["option"] == "consumer_key" and "application link 'Ansible'" in res["msg"]
    assert len(server_links(emulator)) == 1 and mutations(emulator) == []


def test_other_spellings_of_the_same_key_change_nothing(emulator, run_module, tmp_path):
    run_module("applink", args(emulator))
    path = tmp_path / "pub.pem"
    path.write_text(keypair().public_pem)
    for value in (keypair().oneline, str(path)):
        res = run_module("applink", args(emulator, public_key=value))
        assert not res.failed and res["changed"] is False


def test_changing_the_public_key_updates_the_consumer_and_shows_the_diff(emulator, run_module):
    run_module("applink", args(emulator))
    access = independent_dance(emulator.url)
    [before] = server_links(emulator)
    spec = args(emulator, public_key=keypair(1).public_pem)
    res = run_module("applink", spec, check_mode=True, diff=True)
    assert res["changed"] is True
    assert server_links(emulator) == [before], "check mode must not touch the server"
    res = run_module("applink", spec, diff=True)
    assert res["changed"] is True and res["actions"] == ["update incoming OAuth consumer 'jiraops'"]
    assert res["diff"]["before"]["consumer"]["public_key_fingerprint"] == keypair().fingerprint
    assert res["diff"]["after"]["consumer"]["public_key_fingerprint"] == keypair(1).fingerprint
    assert res["diff"]["before"]["applink"] == res["diff"]["after"]["applink"]
    [after] = server_links(emulator)
    assert after["id"] == before["id"]
    assert _keys.fingerprint_of_public_pem(after["consumer"]["publicKey"]) == keypair(1).fingerprint
    # Same consumer key: the access token survives, and now only the new private key signs valid requests.
    tokens = control(emulator.url, "/oauth1/tokens")["access_tokens"]
    assert [t["token"] for t in tokens] == [access["oauth_token"]]
    assert run_module("applink", spec)["changed"] is False


def test_rename_found_by_url_and_consumer_name(emulator, run_module):
    run_module("applink", args(emulator))
    [before] = server_links(emulator)
    emulator.control("DELETE", "/requests")
    res = run_module("applink", args(emulator, name="Ansible AWX", consumer_name="AWX"), diff=True)
    assert res["changed"] is True
    assert res["actions"] == ["update application link 'Ansible'", "update incoming OAuth consumer 'jiraops'"]
    [link] = server_links(emulator)
    assert link["name"] == "Ansible AWX" and link["consumer"]["name"] == "AWX"
    # Through the v3 resource, sending the current primary so that Jira keeps it.
    [update] = [r for r in mutations(emulator) if not r["path"].endswith("/authentication/consumer")]
    assert (update["method"], update["path"]) == ("PUT", f"/rest/applinks/3.0/applinks/{before['id']}")
    assert json.loads(update["body"]) == {"name": "Ansible AWX", "rpcUrl": "https://ansible.example.com",
                                          "displayUrl": "https://ansible.example.com", "primary": True}
    assert before["primary"] is True and link["primary"] is True
    assert run_module("applink", args(emulator, name="Ansible AWX", consumer_name="AWX"))["changed"] is False


def test_consumer_key_change_replaces_the_consumer_and_revokes_its_tokens(emulator, run_module):
    run_module("applink", args(emulator))
    [link] = server_links(emulator)
    add_outgoing_consumer(emulator, link["id"])
    independent_dance(emulator.url)
    spec = args(emulator, consumer_key="jiraops-2", public_key=keypair(1).public_pem)
    emulator.control("DELETE", "/requests")
    res = run_module("applink", spec, check_mode=True, diff=True)
    assert res["changed"] is True and mutations(emulator) == []
    assert res["diff"]["before"]["consumer"]["key"] == "jiraops" and res["diff"]["after"]["consumer"]["key"] == \
        "jiraops-2"
    res = run_module("applink", spec)
    assert res["changed"] is True and res["actions"] == ["replace incoming OAuth consumer 'jiraops' by 'jiraops-2'"]
    # Incoming OAuth off first (Jira has no DELETE on the consumer), then the new consumer.
    assert [(r["method"], r["path"].rsplit("/", 2)[-2:]) for r in mutations(emulator)] == [
        ("PUT", [link["id"], "oauth"]), ("PUT", ["authentication", "consumer"])]
    status = json.loads(mutations(emulator)[0]["body"])
    assert status["incoming"]["enabled"] is False and status["outgoing"]["enabled"] is True
    assert server_links(emulator)[0]["consumer"]["key"] == "jiraops-2"
    # Nothing of the old consumer is left in Jira's store: neither the consumer nor any token.
    store = control(emulator.url, "/applinks")["consumers"]
    assert [(c["key"], c["link_id"]) for c in store] == [("jiraops-2", link["id"])]
    assert control(emulator.url, "/oauth1/tokens")["access_tokens"] == []
    assert run_module("applink", spec)["changed"] is False


def test_consumer_key_of_another_link_is_a_clear_error(emulator, run_module):
    create_link(emulator.url, name="Bamboo", app_url="https://bamboo.example.com", consumer_key="jiraops",
                public=keypair(1).oneline)
    res = run_module("applink", args(emulator), check_mode=True)
    assert res.failed and res["option"] == "consumer_key"
    assert "consumer key 'jiraops' is already used by application link 'Bamboo'" in res["msg"]
    res = run_module("applink", args(emulator))
    assert res.failed and "already used by application link 'Bamboo'" in res["msg"]
    assert [l["name"] for l in server_links(emulator)] == ["Bamboo"], "nothing may be created before the check"


def test_link_without_consumer_options_leaves_the_consumer_alone(emulator, run_module):
    run_module("applink", args(emulator))
    res = run_module("applink", {"url": emulator.url, "username": "admin", "password": "admin", "name": "Ansible"})
    assert res["changed"] is False and res["consumer"]["key"] == "jiraops"


def test_application_url_or_type_change_fails_and_says_why(emulator, run_module):
    run_module("applink", args(emulator))
    res = run_module("applink", args(emulator, application_url="https://moved.example.com"))
    assert res.failed and res["option"] == "application_url" and "cannot change the application URL" in res["msg"]
    res = run_module("applink", args(emulator, type="confluence"))
    assert res.failed and res["option"] == "type" and "cannot change the type" in res["msg"]


def test_missing_inputs_are_named(emulator, run_module):
    res = run_module("applink", args(emulator, application_url=None))
    assert res.failed and res["option"] == "application_url"
    res = run_module("applink", args(emulator, public_key=None))
    assert res.failed and res["option"] == "public_key" and "required to create" in res["msg"]
    assert server_links(emulator) == [], "a refused consumer must not leave a half-made link"
    res = run_module("applink", args(emulator, public_key=keypair().private_pem))
    assert res.failed and res["option"] == "public_key"
    assert keypair().private_pem.splitlines()[1] not in str(res)


def test_absent_with_check_mode(emulator, run_module):
    run_module("applink", args(emulator))
    independent_dance(emulator.url)
    spec = {"url": emulator.url, "username": "admin", "password": "admin", "name": "Ansible", "state": "absent"}
    res = run_module("applink", spec, check_mode=True, diff=True)
    assert res["changed"] is True and len(server_links(emulator)) == 1
    res = run_module("applink", spec, diff=True)
    assert res["changed"] is True and res["applink"] is None and res["diff"]["before"]["consumer"]["key"] == "jiraops"
    assert server_links(emulator) == [] and control(emulator.url, "/oauth1/tokens")["access_tokens"] == []
    assert run_module("applink", spec)["changed"] is False


@pytest.mark.parametrize("who,status", [({"username": "alice", "password": "alice-password"}, 403),
                                        ({"username": "admin", "password": "wrong-password-1"}, 401)])
def test_non_admin_and_bad_credentials(emulator, run_module, who, status):
    res = run_module("applink", args(emulator, **who))
    assert res.failed and res["status"] == status
    assert "wrong-password-1" not in str(res)


def test_admin_with_a_personal_access_token(emulator, run_module):
    res = run_module("applink", args(emulator, username=None, password=None, token="admin-pat-0123456789abcdef"))
    assert not res.failed and res["changed"] is True


def test_an_outgoing_consumer_alone_is_not_an_incoming_one(emulator, run_module):
    link_id = create_link(emulator.url, consumer_key=None)
    add_outgoing_consumer(emulator, link_id)
    res = run_module("applink", args(emulator, public_key=None))
    assert res.failed and res["option"] == "public_key" and "has no incoming consumer yet" in res["msg"]
    res = run_module("applink", args(emulator), diff=True)
    assert res["changed"] is True and res["diff"]["before"]["consumer"] is None
    assert res["actions"] == ["add incoming OAuth consumer 'jiraops'"]
    assert server_links(emulator)[0]["consumer"]["key"] == "jiraops"


def test_a_new_consumer_key_without_public_key_keeps_the_public_key(emulator, run_module):
    run_module("applink", args(emulator))
    res = run_module("applink", args(emulator, consumer_key="jiraops-2", public_key=None))
    assert res["changed"] is True and res["consumer"]["public_key_fingerprint"] == keypair().fingerprint
    [link] = server_links(emulator)
    assert link["consumer"]["key"] == "jiraops-2" and link["consumer"]["publicKey"] == keypair().oneline
    assert [c["key"] for c in control(emulator.url, "/applinks")["consumers"]] == ["jiraops-2"]
