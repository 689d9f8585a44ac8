"""The Vault / OpenBao KV v2 token store against a real OpenBao dev server and the emulator.

8 ansible-playbook processes refreshing one 3LO grant at once, a refresher killed with -9 while it holds the lease,
Vault down / sealed / a wrong token / a token without permission on the path (clear errors naming the option,
nothing lost), AppRole login, and nothing of the grant on local disk.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time

import pytest
from oauth2_support import APP, HERE, base_args, chains, grant, run_playbook, token_requests
from test_oauth2_processes import finish, spawn

PLAYBOOK = os.path.join(HERE, "playbooks", "vault_refresh.yml")

pytestmark = pytest.mark.slow


def sha(value):
    return hashlib.sha256(value.encode()).hexdigest()


def vault_args(vault, **kw):
    args = {"vault_url": vault.url, "vault_token": vault.root_token}
    args.update(kw)
    return args


def user_entry(vault):
    data, _version = vault.kv(vault.location)
    return next(e for e in data["entries"].values() if e["kind"] == "user")


def assert_chain_intact(emulator, vault, rotations):
    info = chains(emulator, client_id=APP["client_id"])
    assert info["events"] == [], f"reuse detection fired: {info['events']}"
    chain = info["chains"][0]
    assert chain["revoked"] is False and chain["grace_reuses"] == 0
    assert chain["rotations"] == rotations
    assert sha(user_entry(vault)["refresh_token"]) == chain["head_sha256"], "Vault must hold the chain's head"
    assert "lease" not in vault.kv(vault.location)[0], "every lease was released"
    return chain


def refresh(run_module, emulator, vault, **kw):
    args = base_args(emulator, **APP, grant_type="refresh_token", token_cache=vault.location, min_ttl=7200)
    args.update(vault_args(vault))
    args.update(kw)
    return run_module("oauth2_token", args)


def job_env(emulator, vault, **extra):
    env = {"JIRA_URL": emulator.url, "JIRA_API_URL": emulator.url, "JIRA_AUTH_URL": emulator.url,
           "JIRA_CLOUD_ID": emulator.state.config["cloud_id"], "JIRA_CLIENT_ID": APP["client_id"],
           "JIRA_CLIENT_SECRET": APP["client_secret"], "JIRA_TOKEN_CACHE": vault.location,
           "VAULT_ADDR": vault.url, "VAULT_TOKEN": vault.root_token}
    env.update(extra)
    return env


def test_grant_lives_in_vault_and_nothing_of_it_on_local_disk(emulator, run_module, vault, tmp_path):
    done = grant(emulator, run_module, vault.location, access_ttl=30, **vault_args(vault))
    entry = user_entry(vault)
    assert entry["client_id"] == APP["client_id"] and entry["refresh_token"] and entry["chain"]
    assert done["access_token"] == entry["access_token"]
    # A job that must refresh (30 s left, min_ttl 60): module, lookup and uri, all from the environment.
    out = tmp_path / "out.json"
    role_id, secret_id = vault.approle(["secret/data/jira/tests/*"])  # and at -vvvv, the AppRole's secret id
    proc = run_playbook(PLAYBOOK, "localhost,", tmp_path, extra_vars={"out_file": str(out)}, verbosity=4,
                        env=job_env(emulator, vault, VAULT_TOKEN="", VAULT_ROLE_ID=role_id, VAULT_SECRET_ID=secret_id))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(out.read_text()) == {"user": "alice", "uri_user": "alice"}
    after = user_entry(vault)
    assert after["refresh_token"] != entry["refresh_token"], "the rotated refresh token went to Vault"
    assert_chain_intact(emulator, vault, rotations=1)
    # No lock file, no temp file, no token file: no byte of the grant anywhere under the job's directories.
    secrets = [after["refresh_token"], after["access_token"], entry["refresh_token"]]
    for root, _dirs, files in os.walk(tmp_path):
        for name in files:
            blob = open(os.path.join(root, name), "rb").read()  # noqa: SIM115
            assert not any(s.encode() in blob for s in secrets), os.path.join(root, name)
    shown = proc.stdout + proc.stderr
    assert "ESTABLISH LOCAL CONNECTION" in shown, "the run was verbose"
    assert not [s for s in secrets + [vault.root_token, secret_id, APP["client_secret"]] if s in shown]


def test_eight_ansible_playbook_processes_refresh_one_grant_once(emulator, run_module, vault, tmp_path):
    emulator.configure(oauth2_reuse_grace=0)  # any reuse of a rotated refresh token revokes the grant at once
    grant(emulator, run_module, vault.location, access_ttl=30, **vault_args(vault))
    # Slow token replies keep the lease held while the other processes arrive and wait on it.
    emulator.fault("/oauth/token", kind="delay", delay=1.5, times=-1)
    results = [None] * 8

    def job(index):
        work = tmp_path / f"job{index}"
        work.mkdir()
        results[index] = (work / "out.json", run_playbook(PLAYBOOK, "localhost,", work,
                                                          extra_vars={"out_file": str(work / "out.json")},
                                                          env=job_env(emulator, vault)))
    procs = [threading.Thread(target=job, args=(i,)) for i in range(8)]
    for thread in procs:
        thread.start()
    for thread in procs:
        thread.join()
    for out, proc in results:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert json.loads(out.read_text()) == {"user": "alice", "uri_user": "alice"}
    assert token_requests(emulator, grant_type="refresh_token")["count"] == 1, "one refresh for all 8"
    assert_chain_intact(emulator, vault, rotations=1)


def test_serialised_refreshes_through_cas_keep_the_chain(emulator, run_module, vault):
    """min_ttl beyond the lifetime: every refresher that did not wait for another refreshes, each with the
    refresh token the previous one wrote by CAS."""
    emulator.configure(oauth2_reuse_grace=0)
    grant(emulator, run_module, vault.location, access_ttl=3600, **vault_args(vault))
    emulator.fault("/oauth/token", kind="delay", delay=0.3, times=-1)
    start_at = time.time() + 1.5
    procs = [spawn(emulator, vault.location, start_at=start_at + 0.15 * i, min_ttl=7200, **vault_args(vault))
             for i in range(8)]
    results = [finish(p) for p in procs]
    assert all(r[0] == 0 for r in results), [r[2] for r in results]
    refreshes = token_requests(emulator, grant_type="refresh_token")
    assert refreshes["count"] >= 2 and all(r["status"] == 200 for r in refreshes["requests"])
    assert refreshes["count"] == sum(lines[-1]["obtained"] for _c, lines, _e in results)
    assert_chain_intact(emulator, vault, rotations=refreshes["count"])
    print(f"8 serialised refreshers through Vault: {refreshes['count']} refreshes, 0 reuses")


@pytest.mark.parametrize("grace", [60, 0])
def test_killed_mid_refresh_then_a_new_run(emulator, run_module, vault, grace):
    emulator.configure(oauth2_reuse_grace=grace)
    grant(emulator, run_module, vault.location, access_ttl=30, **vault_args(vault))
    before = user_entry(vault)
    quick = {"timeout": 2, "retry_budget": 1}  # the lease outlives timeout + retry budget + 5 s: 8 s
    code, _lines, err = finish(spawn(emulator, vault.location, kill_at="after_reply", **quick, **vault_args(vault)))
    assert code == -9, err
    data, _version = vault.kv(vault.location)
    assert " pid " in data["lease"]["holder"] and data["lease"]["expires_at"] > time.time(), "the dead one's lease"
    assert user_entry(vault) == before, "killed before the store write: Vault holds the previous tokens"
    assert data["lease"]["expires_at"] - time.time() <= 8, "the lease outlives its holder by its stale time only"
    # The 8 s pass for the lease in Vault instead of in real time (waiting out a live lease in real time is
    # test_a_live_lease_is_waited_for_and_a_timeout_says_who_holds_it's).
    _write_lease(vault, time.time() - 1, data)

    started = time.monotonic()
    code, lines, err = finish(spawn(emulator, vault.location, **quick, **vault_args(vault)))
    waited = time.monotonic() - started
    assert waited < 20, "the stale lease is taken over once it expires"
    if grace:
        assert code == 0 and lines[-1]["status"] == 200 and lines[-1]["user"] == "alice", (lines, err)
        chain = chains(emulator)["chains"][0]
        assert chain["revoked"] is False and chain["grace_reuses"] == 1
        assert sha(user_entry(vault)["refresh_token"]) == chain["head_sha256"]
        assert "lease" not in vault.kv(vault.location)[0]
    else:
        # Without a reuse interval the lost reply cannot be recovered: a clear message saying what to do.
        assert code == 1
        assert "the refresh token was refused" in lines[-1]["error"]
        assert "authorize the app again" in lines[-1]["error"]
        assert "lease" not in vault.kv(vault.location)[0], "released after the failure"


def test_killed_after_the_vault_write_loses_nothing(emulator, run_module, vault):
    emulator.configure(oauth2_reuse_grace=0)
    grant(emulator, run_module, vault.location, access_ttl=30, **vault_args(vault))
    code, lines, err = finish(spawn(emulator, vault.location, kill_at="after_store", timeout=2, retry_budget=1,
                                    **vault_args(vault)))
    assert code == -9, err
    assert sha(user_entry(vault)["refresh_token"]) == lines[-1]["refresh_token_sha256"], "stored before use"
    # The next run finds a good token in Vault and needs neither the lease nor a refresh.
    code, lines, err = finish(spawn(emulator, vault.location, **vault_args(vault)))
    assert code == 0 and lines[-1]["obtained"] == 0 and lines[-1]["user"] == "alice", (lines, err)
    chain = chains(emulator)["chains"][0]
    assert chain["revoked"] is False and chain["rotations"] == 1 and chains(emulator)["events"] == []


def _failures(vault):
    """(name, how to break it, option the error must name, words in the message)."""
    limited = vault.token_for(["secret/data/elsewhere/*"])
    return [
        ("down", {"vault_url": "http://127.0.0.1:9"}, "vault_url", "cannot reach Vault"),
        ("wrong token", {"vault_token": "s.not-a-real-token-0123456789"}, "vault_token", "Vault refused the token"),
        ("no permission", {"vault_token": limited}, "vault_token", "may not use secret/data/jira/tests/"),
        ("no mount", {"token_cache": "vault://nokv/jira/tokens"}, "token_cache", "no KV version 2"),
    ]


def test_vault_failures_name_the_option_and_lose_nothing(emulator, run_module, vault):
    grant(emulator, run_module, vault.location, access_ttl=30, **vault_args(vault))
    stored = vault.kv(vault.location)
    for name, change, option, words in _failures(vault):
        res = refresh(run_module, emulator, vault, **change)
        assert res.failed, name
        assert res["option"] == option and words in res["msg"], (name, res["msg"])
        assert "Traceback" not in json.dumps(res)
        for secret in (vault.root_token, change.get("vault_token"), user_entry(vault)["refresh_token"]):
            if secret and name != "wrong token":
                assert secret not in json.dumps(res), name
        assert vault.kv(vault.location) == stored, f"{name}: Vault unchanged"
    assert token_requests(emulator, grant_type="refresh_token")["count"] == 0, "no refresh token was spent"
    vault.seal()
    res = refresh(run_module, emulator, vault)
    assert res.failed and res["option"] == "vault_url" and "is sealed" in res["msg"], res["msg"]
    vault.unseal()
    assert token_requests(emulator, grant_type="refresh_token")["count"] == 0
    # Everything fixed: the grant carries on where it was.
    res = refresh(run_module, emulator, vault)
    assert not res.failed and res["cached"] is False, res
    assert_chain_intact(emulator, vault, rotations=1)


def test_missing_vault_options_are_named_before_anything_is_sent(emulator, run_module, vault):
    cases = [({"vault_url": None}, "vault_url"), ({"vault_token": None}, "vault_token"),
             ({"vault_token": None, "vault_role_id": "r"}, "vault_secret_id"),
             ({"token_cache": "vault://secret"}, "token_cache"), ({"vault_url": "vault.example.com"}, "vault_url")]
    for change, option in cases:
        res = refresh(run_module, emulator, vault, **change)
        assert res.failed and res["option"] == option, (change, res)
    assert emulator.requests("/oauth/token") == []


def test_approle_login(emulator, run_module, vault):
    role_id, secret_id = vault.approle(["secret/data/jira/tests/*"])
    grant(emulator, run_module, vault.location, access_ttl=30, vault_url=vault.url, vault_role_id=role_id,
          vault_secret_id=secret_id)
    res = refresh(run_module, emulator, vault, vault_token=None, vault_role_id=role_id, vault_secret_id=secret_id)
    assert not res.failed and res["cached"] is False, res
    assert secret_id not in json.dumps(res)
    assert_chain_intact(emulator, vault, rotations=1)
    res = refresh(run_module, emulator, vault, vault_token=None, vault_role_id=role_id, vault_secret_id="wrong")
    assert res.failed and res["option"] == "vault_secret_id" and "AppRole login failed" in res["msg"]


def test_oauth2_authorize_role_puts_the_grant_into_vault(emulator, vault, tmp_path):
    """playbooks/oauth2_authorize.yml, non-interactive as in AWX, with JIRA_TOKEN_CACHE=vault://...: the grant
    lands in Vault, a re-run reuses it, and no file of the grant appears anywhere under the run's directories."""
    import re  # pylint: disable=import-outside-toplevel

    from oauth2_support import REDIRECT, REPO, approve  # pylint: disable=import-outside-toplevel
    playbook = os.path.join(REPO, "playbooks", "oauth2_authorize.yml")
    env = job_env(emulator, vault, JIRA_REDIRECT_URI=REDIRECT, JIRA_URL="")
    first = run_playbook(playbook, "localhost,", tmp_path, extra_vars={"oauth2_authorize_interactive": "false"},
                         env=env)
    assert first.returncode == 2 and "No authorization code yet" in first.stdout, first.stdout[-2000:]
    url = re.search(r"Open (\S+) , approve", first.stdout).group(1)
    state = re.search(r"oauth2_authorize_state set to (\S+?)\.", first.stdout).group(1)
    second = run_playbook(playbook, "localhost,", tmp_path, env=env, extra_vars={
        "oauth2_authorize_code": approve(url), "oauth2_authorize_state": state})
    assert second.returncode == 0, second.stdout[-3000:]
    entry = user_entry(vault)
    assert entry["granted_at"] and entry["refresh_token"]
    again = run_playbook(playbook, "localhost,", tmp_path, env=env)
    assert again.returncode == 0 and "Open this URL" not in again.stdout, again.stdout[-3000:]
    assert token_requests(emulator, grant_type="authorization_code")["count"] == 1, "the re-run reused the grant"
    assert not [n for _r, _d, files in os.walk(tmp_path) for n in files if "token" in n or n.endswith(".pending")]


def _store(vault, **kw):
    from ansible_collections.jiraops.integration.plugins.module_utils._token_store_vault import (  # pylint: disable=import-outside-toplevel
        VaultTokenStore,
    )
    return VaultTokenStore(vault.location, {"vault_url": vault.url, "vault_token": vault.root_token, "timeout": 2,
                                            "retry_budget": 1}, **kw)


def _write_lease(vault, expires_at, data=None):
    """A lease another holder has (or, with ``data``, the lease in ``data`` moved to ``expires_at``)."""
    mount, _sep, path = vault.location[len("vault://"):].partition("/")
    if data is None:
        data = {"version": 1, "entries": {}, "lease": {"owner": "someone-else", "holder": "node-b pid 42"}}
    data = dict(data, lease=dict(data["lease"], expires_at=expires_at))
    vault.api("POST", f"/v1/{mount}/data/{path}", json={"data": data})


def test_a_live_lease_is_waited_for_and_a_timeout_says_who_holds_it(vault):
    from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError  # pylint: disable=import-outside-toplevel
    _write_lease(vault, time.time() + 60)
    before = vault.kv(vault.location)
    started = time.monotonic()
    with pytest.raises(OptionError) as info:
        with _store(vault, lock_timeout=0.5).locked():
            pass
    assert 0.5 <= time.monotonic() - started < 5
    assert info.value.option == "token_cache" and "node-b pid 42 holds it for a token refresh" in str(info.value)
    assert vault.kv(vault.location) == before, "the other holder's lease is left alone"


def test_an_expired_lease_is_taken_over_by_cas(vault):
    _write_lease(vault, time.time() - 1)
    store = _store(vault)
    with store.locked() as tx:
        data, _version = vault.kv(vault.location)
        assert data["lease"]["owner"] == tx.owner, "taken over"
        tx.put("k", {"kind": "client_credentials", "access_token": "planted"})
    data, version = vault.kv(vault.location)
    assert data == {"version": 1, "entries": {"k": {"kind": "client_credentials", "access_token": "planted"}}}
    assert version == 4, "write with the old lease, take-over, put, release: each one CAS write"
