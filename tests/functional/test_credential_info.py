"""credential_info against the emulator and a real OpenBao: grants in the file and Vault stores, an OAuth 1.0a token
store written by the oauth1_token module, Data Center PATs as Jira lists them; warn_days / fail_days; no secret."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone

import pytest
from _oauth1_support import approve, create_link, keypair
from oauth2_support import APP, CC, REPO, base_args, grant, run_playbook

DAY = 86400


def iso_days(item, limit):
    """Days from now to a limit of a reported item."""
    at = datetime.strptime(item["limits"][limit], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return (at.timestamp() - time.time()) / DAY


def age_file_store(path, days):
    """The grant was last refreshed ``days`` ago and authorized ``days`` + 200 days ago."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    for entry in data["entries"].values():
        if entry["kind"] == "user":
            entry["obtained_at"] -= days * DAY
            entry["granted_at"] -= (days + 200) * DAY
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


def no_secret(res, *secrets):
    text = json.dumps(res)
    for secret in secrets:
        assert secret and secret not in text


def test_file_store_grant_limits_warn_and_fail(emulator, run_module, tmp_path):
    cache = str(tmp_path / "tokens.json")
    done = grant(emulator, run_module, cache, access_ttl=3600)
    run_module("oauth2_token", base_args(emulator, **CC, token_cache=cache))  # a 2LO entry too
    res = run_module("credential_info", {"token_cache": cache})
    assert not res.failed and res["changed"] is False, res
    kinds = {i["kind"]: i for i in res["credentials"]}
    user = kinds["oauth2_user_grant"]
    assert user["limited_by"] == "refresh_token_inactivity" and 89.9 < user["days_left"] <= 90
    assert 364.9 < iso_days(user, "refresh_token_absolute") <= 365
    assert user["status"] == "ok" and user["client_id"] == APP["client_id"] and user["source"] == cache
    assert 3500 < user["access_token_expires_in"] <= 3600
    assert kinds["oauth2_client_credentials"]["days_left"] is None and "requested" in kinds[
        "oauth2_client_credentials"]["note"]
    assert res["summary"] == {"ok": 2, "warn": 0, "fail": 0, "expired": 0}
    entry = next(e for e in json.load(open(cache, encoding="utf-8"))["entries"].values() if e["kind"] == "user")
    no_secret(res, done["refresh_token"], entry["access_token"], APP["client_secret"])

    age_file_store(cache, 70)  # 20 days of inactivity left, the absolute limit further off
    res = run_module("credential_info", {"token_cache": cache, "warn_days": 30})
    assert not res.failed and res["summary"]["warn"] == 1
    warned = json.dumps(res["warnings"])
    assert "refresh_token_inactivity" in warned and APP["client_id"] in warned, res
    res = run_module("credential_info", {"token_cache": cache, "warn_days": 30, "fail_days": 21})
    assert res.failed and res["msg"].startswith("credentials end soon: oauth2_user_grant"), res["msg"]
    assert res["credentials"][0]["status"] == "fail" and res["summary"]["fail"] == 1
    age_file_store(cache, 30)
    res = run_module("credential_info", {"token_cache": cache})
    assert res.failed and res["credentials"][0]["status"] == "expired"
    no_secret(res, done["refresh_token"], APP["client_secret"])


def test_vault_store_grant(emulator, run_module, vault):
    store = {"vault_url": vault.url, "vault_token": vault.root_token}
    done = grant(emulator, run_module, vault.location, access_ttl=3600, **store)
    res = run_module("credential_info", {"token_cache": vault.location, "fail_days": 14, **store})
    assert not res.failed, res
    [item] = res["credentials"]
    assert item["kind"] == "oauth2_user_grant" and item["source"] == vault.location and item["status"] == "ok"
    assert 89.9 < item["days_left"] <= 90
    no_secret(res, done["refresh_token"], done["access_token"], vault.root_token)
    res = run_module("credential_info", {"token_cache": vault.location, "vault_url": vault.url,
                                         "vault_token": "s.wrong-token-000000"})
    assert res.failed and res["option"] == "vault_token", res


def test_oauth1_access_token_age(emulator, run_module, tmp_path):
    create_link(emulator.url)
    store = str(tmp_path / "oauth1.json")
    spec = {"url": emulator.url, "consumer_key": "jiraops", "private_key_path": keypair().write(tmp_path),
            "token_store": store}
    first = run_module("oauth1_token", spec)
    second = run_module("oauth1_token", dict(spec, verifier=approve(emulator.url, first["request_token"])["verifier"]))
    assert second["source"] == "jira"
    res = run_module("credential_info", {"oauth1_token_stores": [store]})
    assert not res.failed, res
    [item] = res["credentials"]
    assert item["kind"] == "oauth1_access_token" and item["name"] == "jiraops" and item["age_days"] < 0.01
    assert 5 * 365 - 0.1 < item["days_left"] <= 5 * 365  # Jira's oauth_expires_in: 5 years
    no_secret(res, second["access_token"], second["access_token_secret"])
    res = run_module("credential_info", {"oauth1_token_stores": [str(tmp_path / "missing.json")]})
    assert res.failed and res["option"] == "oauth1_token_stores"


def test_datacenter_pats_as_jira_lists_them(emulator, run_module):
    pat = "ci-pat-" + os.urandom(8).hex()
    emulator.control("POST", "/pats", json={"token": pat, "user": "alice", "name": "ci-reporting",
                                            "expires_in_days": 10, "created_days_ago": 80})
    args = {"url": emulator.url, "token": pat, "pat_names": ["ci-reporting", "alice seed token"], "warn_days": 30}
    res = run_module("credential_info", args)
    assert not res.failed, res
    first, second = res["credentials"]
    assert first["name"] == "ci-reporting" and first["status"] == "warn" and 9.9 < first["days_left"] <= 10
    assert 79.9 < first["age_days"] < 80.1 and second["status"] == "ok"
    assert emulator.requests("/rest/pat/latest/tokens")[0]["status"] == 200
    assert res["summary"]["warn"] == 1 and "ci-reporting" in json.dumps(res["warnings"])
    no_secret(res, pat)
    res = run_module("credential_info", dict(args, fail_days=14))
    assert res.failed and "personal_access_token ci-reporting" in res["msg"]
    res = run_module("credential_info", dict(args, pat_names=["nope"]))
    assert res.failed and res["option"] == "pat_names" and "ci-reporting" in res["msg"]


@pytest.mark.parametrize("args, option", [({}, "token_cache"), ({"warn_days": -1, "token_cache": "/x"}, "warn_days"),
                                          ({"token_cache": "/nonexistent/t.json"}, "token_cache")])
def test_bad_input_names_the_option(run_module, args, option):
    res = run_module("credential_info", args)
    assert res.failed and res["option"] == option and "Traceback" not in json.dumps(res)


def test_audit_playbook_over_an_inventory(emulator, run_module, vault, tmp_path):
    cache = str(tmp_path / "tokens.json")
    store = {"vault_url": vault.url, "vault_token": vault.root_token}
    grant(emulator, run_module, cache, access_ttl=3600)
    grant(emulator, run_module, vault.location, access_ttl=3600, **store)
    age_file_store(cache, 80)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"jira_credentials": {"hosts": {
        "ci-file": {"jira_token_cache": cache},
        "ci-vault": {"jira_token_cache": vault.location, "jira_vault_url": vault.url,
                     "jira_vault_token": vault.root_token},
    }, "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "jira_fail_days": 14}}}))
    proc = run_playbook(os.path.join(REPO, "playbooks", "credential_audit.yml"), inventory, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out  # ci-file's grant has 10 days left: below fail_days
    assert "ci-file" in out and "credentials end soon: oauth2_user_grant" in out
    assert "ci-vault" in out and "1 ok, 0 warn, 0 fail, 0 expired" in out
    assert vault.root_token not in out
