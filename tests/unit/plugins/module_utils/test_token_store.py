"""The token store on its own: 0600 atomic writes, the lock, and clear errors for bad files."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._token_store import TokenStore, store_key


def test_absent_store_is_empty_and_first_write_is_0600(tmp_path):
    store = TokenStore(str(tmp_path / "t.json"))
    assert store.read() == {"version": 1, "entries": {}}
    old = os.umask(0o000)
    try:
        with store.locked() as tx:
            tx.put("k", {"access_token": "a"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.lock_path).st_mode) == 0o600
    assert store.get("k") == {"access_token": "a"}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_entries_are_kept_apart(tmp_path):
    store = TokenStore(str(tmp_path / "t.json"))
    a = store_key("cloud", "client_credentials", "id1", "https://api.atlassian.com/oauth/token")
    b = store_key("datacenter", "user", "id1", "https://jira.example.com/rest/oauth2/latest/token")
    with store.locked() as tx:
        tx.put(a, {"access_token": "A"})
        tx.put(b, {"access_token": "B"})
    assert store.get(a)["access_token"] == "A" and store.get(b)["access_token"] == "B"
    with store.locked() as tx:
        tx.delete(a)
    assert store.get(a) is None and store.get(b) is not None


@pytest.mark.parametrize("content, message", [
    ("{nope", "is not a token store (invalid JSON"),
    ("[]", "is not a token store (no 'entries' object)"),
    ('{"version": 7, "entries": {}}', "has store format version 7"),
])
def test_bad_files_are_refused_naming_the_option(tmp_path, content, message):
    path = tmp_path / "t.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(OptionError) as err:
        TokenStore(str(path)).read()
    assert err.value.option == "token_cache" and message in str(err.value)


def test_loose_mode_is_refused(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"version": 1, "entries": {}}')
    path.chmod(0o640)
    with pytest.raises(OptionError) as err:
        TokenStore(str(path)).read()
    assert "has mode 0640" in str(err.value) and f"chmod 600 {path}" in str(err.value)


def test_missing_directory_and_directory_path(tmp_path):
    with pytest.raises(OptionError) as err:
        TokenStore(str(tmp_path / "nope" / "t.json"))
    assert "does not exist" in str(err.value)
    with pytest.raises(OptionError) as err:
        TokenStore(str(tmp_path))
    assert "is a directory" in str(err.value)


HOLD = """
import sys, time
from ansible_collections.jiraops.integration.plugins.module_utils._token_store import TokenStore
with TokenStore(sys.argv[1]).locked():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_lock(path, seconds):
    """Another process holding the store's lock; returns once it has it."""
    import ansible_collections.jiraops.integration as pkg  # pylint: disable=import-outside-toplevel
    root = os.path.dirname(os.path.dirname(os.path.dirname(list(pkg.__path__)[0])))
    env = dict(os.environ, PYTHONPATH=root)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, path, str(seconds)], stdout=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_excludes_other_processes_and_times_out_clearly(tmp_path):
    path = str(tmp_path / "t.json")
    holder = _hold_lock(path, 1.0)
    try:
        store = TokenStore(path, lock_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(OptionError) as err:
            with store.locked():
                pass
        assert 0.3 <= time.monotonic() - started < 1.0
        assert "waiting for the lock" in str(err.value) and "held by another process" in str(err.value)
        patient = TokenStore(path, lock_timeout=10)
        started = time.monotonic()
        with patient.locked():
            waited = time.monotonic() - started
        assert waited > 0.3, "the second process must wait until the first releases the lock"
    finally:
        holder.wait(10)


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    path = str(tmp_path / "t.json")
    holder = _hold_lock(path, 60)
    holder.kill()
    holder.wait(10)
    with TokenStore(path, lock_timeout=2).locked() as tx:
        tx.put("k", {"v": 1})
    assert json.loads(open(path, encoding="utf-8").read())["entries"]["k"] == {"v": 1}
