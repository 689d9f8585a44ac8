"""Rotating refresh tokens across processes: 8 concurrent refreshers, and processes killed mid-refresh.

Each refresher is a separate Python process running the collection's real auth code (build_client + the
refresh_token method + the token store) against the emulator over HTTP. Afterwards the emulator says whether
its reuse detection fired, and the store must hold the head of the chain.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
from oauth2_support import APP, HERE, chains, child_env, grant, token_requests

REFRESHER = os.path.join(HERE, "oauth2_refresher.py")

pytestmark = pytest.mark.slow


def sha(value):
    return hashlib.sha256(value.encode()).hexdigest()


def store_entry(cache):
    with open(cache, encoding="utf-8") as handle:
        return next(e for e in json.load(handle)["entries"].values() if e["kind"] == "user")


def config(emulator, cache, **kw):
    cfg = {"url": emulator.url, "cloud_id": emulator.state.config["cloud_id"], "token_cache": cache, **APP}
    cfg.update(kw)
    return json.dumps(cfg)


def spawn(emulator, cache, **kw):
    return subprocess.Popen([sys.executable, REFRESHER, config(emulator, cache, **kw)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=child_env())


def finish(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    return proc.returncode, lines, err


def outputs(results):
    return [lines for _code, lines, _err in results]


def assert_chain_intact(emulator, cache):
    info = chains(emulator, client_id=APP["client_id"])
    assert info["events"] == [], f"reuse detection fired: {info['events']}"
    chain = info["chains"][0]
    assert chain["revoked"] is False
    assert sha(store_entry(cache)["refresh_token"]) == chain["head_sha256"], "the store must hold the chain's head"
    return chain


@pytest.mark.parametrize("through", ["one path", "a symlink and the real path"])
def test_eight_concurrent_refreshers_make_one_refresh(emulator, run_module, tmp_path, through):
    cache = str(tmp_path / "tokens.json")
    emulator.configure(oauth2_reuse_grace=0)  # any reuse of a rotated refresh token revokes the grant at once
    grant(emulator, run_module, cache, access_ttl=30)  # within min_ttl (60 s): the next use must refresh
    names = [cache]
    if through != "one path":
        # Half the processes name the store through a link in another directory: still one file, so one lock.
        (tmp_path / "links").mkdir()
        names.append(str(tmp_path / "links" / "tokens.json"))
        os.symlink(cache, names[1])
    emulator.fault("/oauth/token", kind="delay", delay=0.5, times=-1)  # keep the lock held while others arrive
    start_at = time.time() + 1.5
    procs = [spawn(emulator, names[i % len(names)], start_at=start_at) for i in range(8)]
    results = [finish(p) for p in procs]
    for code, lines, err in results:
        assert code == 0, err
        assert lines[-1]["status"] == 200 and lines[-1]["user"] == "alice"
    assert len({out[-1]["access_token_sha256"] for out in outputs(results)}) == 1, "all share one new token"
    assert sum(out[-1]["obtained"] for out in outputs(results)) == 1
    assert token_requests(emulator, grant_type="refresh_token")["count"] == 1
    chain = assert_chain_intact(emulator, cache)
    assert chain["rotations"] == 1
    if through != "one path":
        assert os.path.islink(names[1]) and not os.path.exists(names[1] + ".lock"), "one lock, beside the real file"


def test_overlapping_refreshes_are_serialised(emulator, run_module, tmp_path):
    cache = str(tmp_path / "tokens.json")
    emulator.configure(oauth2_reuse_grace=0)
    grant(emulator, run_module, cache, access_ttl=3600)
    # min_ttl beyond the token lifetime: a process refreshes unless the token was obtained while it waited for the
    # lock. Starting 0.15 s apart while each refresh takes 0.3 s, several processes refresh, one after another
    # under the lock, each with the refresh token the previous one stored.
    emulator.fault("/oauth/token", kind="delay", delay=0.3, times=-1)
    start_at = time.time() + 1.5
    procs = [spawn(emulator, cache, start_at=start_at + 0.15 * i, min_ttl=7200) for i in range(8)]
    results = [finish(p) for p in procs]
    assert all(r[0] == 0 for r in results), [r[2] for r in results]
    refreshes = token_requests(emulator, grant_type="refresh_token")
    assert refreshes["count"] >= 2 and all(r["status"] == 200 for r in refreshes["requests"])
    chain = assert_chain_intact(emulator, cache)
    assert chain["rotations"] == refreshes["count"] == sum(out[-1]["obtained"] for out in outputs(results))


@pytest.mark.parametrize("kill_at, grace", [("after_reply", 60), ("mid_write", 60), ("after_store", 0)])
def test_killed_refresher_loses_nothing(emulator, run_module, tmp_path, kill_at, grace):
    cache = str(tmp_path / "tokens.json")
    emulator.configure(oauth2_reuse_grace=grace)
    grant(emulator, run_module, cache, access_ttl=30)
    before = store_entry(cache)
    cloud_path = f"/ex/jira/{emulator.state.config['cloud_id']}/rest/api/3/myself"

    code, lines, err = finish(spawn(emulator, cache, kill_at=kill_at))
    assert code == -9, f"the refresher must have been killed: {err}"
    assert token_requests(emulator, grant_type="refresh_token")["count"] == 1, "it got a rotated refresh token"
    assert emulator.requests(cloud_path) == [], "killed before the new access token was used"
    head = chains(emulator)["chains"][0]["head_sha256"]
    after = store_entry(cache)
    if kill_at == "after_store":
        # persisted before use: the store already holds the rotated refresh token and the new access token
        assert sha(after["refresh_token"]) == head == lines[-1]["refresh_token_sha256"]
        assert after["access_token"] != before["access_token"]
    else:
        # killed before the rename: the store is the previous, complete file
        assert after == before and sha(after["refresh_token"]) != head
        assert json.loads(open(cache, encoding="utf-8").read())
    stale = lines[-1].get("temp") if kill_at == "mid_write" else None
    if stale:
        assert os.path.exists(stale) and os.stat(stale).st_mode & 0o077 == 0, "left behind, 0600"

    # The next runs carry on: three more rotations, each token used through the gateway.
    for _round in range(3):
        code, lines, err = finish(spawn(emulator, cache, min_ttl=7200))
        assert code == 0 and lines[-1]["status"] == 200, (lines, err)
    chain = assert_chain_intact(emulator, cache)
    assert chain["rotations"] == 4
    if stale:
        assert not os.path.exists(stale), "the next write under the lock removed the killed writer's temp file"
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    # after_reply / mid_write: the server's reuse interval accepted the previous refresh token once
    assert chain["grace_reuses"] == (0 if kill_at == "after_store" else 1)


def test_crash_before_the_store_without_a_reuse_interval_ends_the_grant_clearly(emulator, run_module, tmp_path):
    """The limit of what a client can do: the reply was lost with the process, so only the server's reuse
    interval saves the chain. Without one the next refresh is a reuse and the user must authorize again."""
    cache = str(tmp_path / "tokens.json")
    emulator.configure(oauth2_reuse_grace=0)
    grant(emulator, run_module, cache, access_ttl=30)
    code = finish(spawn(emulator, cache, kill_at="after_reply"))[0]
    assert code == -9
    code, lines = finish(spawn(emulator, cache))[:2]
    assert code == 1
    assert "the refresh token was refused" in lines[-1]["error"]
    assert "a rotated refresh token was reused" in lines[-1]["error"]
    assert chains(emulator)["chains"][0]["revoked"] is True
