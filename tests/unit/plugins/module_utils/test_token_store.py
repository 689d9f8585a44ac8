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


# -- one lock per real file, links and foreign files refused, shared directories warned about -----------

OTHER_UID = 65534  # nobody: tests run as root here, so chown gives a file to "another user"


def _store_file(path, mode=0o600):
    path.write_text('{"version": 1, "entries": {}}\n')
    path.chmod(mode)
    return path


def test_a_symlink_and_the_real_path_share_one_lock(tmp_path):
    real = _store_file(tmp_path / "real.json")
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "tokens.json"
    link.symlink_to(real)
    via_link = TokenStore(str(link))
    assert via_link.path == str(real) and via_link.lock_path == str(real) + ".lock"
    holder = _hold_lock(str(link), 1.0)
    try:
        with pytest.raises(OptionError) as err:
            with TokenStore(str(real), lock_timeout=0.3).locked():
                pass
        assert "held by another process" in str(err.value)
    finally:
        holder.wait(10)
    with via_link.locked() as tx:
        tx.put("k", {"access_token": "a"})
    assert link.is_symlink() and TokenStore(str(real)).get("k") == {"access_token": "a"}
    assert not (tmp_path / "links" / "tokens.json.lock").exists()


def test_a_dangling_symlink_is_never_followed(tmp_path, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    link = tmp_path / "tokens.json"
    link.symlink_to(elsewhere / "planted.json")
    with pytest.raises(OptionError) as err:
        TokenStore(str(link))
    assert err.value.option == "token_cache"
    assert "is a symbolic link to" in str(err.value) and "dangling link is never followed" in str(err.value)
    assert os.listdir(elsewhere) == [] and sorted(os.listdir(tmp_path)) == ["tokens.json"]


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_symlink_to_something_else_than_a_file_is_refused(tmp_path, kind):
    target = tmp_path / "target"
    if kind == "directory":
        target.mkdir()
    else:
        os.mkfifo(target)
    (tmp_path / "tokens.json").symlink_to(target)
    with pytest.raises(OptionError) as err:
        TokenStore(str(tmp_path / "tokens.json"))
    assert "which is not a regular file" in str(err.value)


def test_a_lock_symlink_is_refused_and_creates_nothing(tmp_path, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    store = TokenStore(str(tmp_path / "t.json"))
    os.symlink(str(elsewhere / "created-by-the-lock"), store.lock_path)
    with pytest.raises(OptionError) as err:
        with store.locked():
            pass
    assert err.value.option == "token_cache" and "the lock file" in str(err.value) and "symbolic link" in str(
        err.value)
    assert os.listdir(elsewhere) == []


@pytest.mark.parametrize("what", ["store", "lock", "link target", "link"])
def test_files_owned_by_another_user_are_refused(tmp_path, what):
    real = _store_file(tmp_path / "t.json")
    path = str(real)
    if what == "store":
        os.chown(real, OTHER_UID, -1)
    elif what == "lock":
        lock = tmp_path / "t.json.lock"
        lock.write_text("")
        os.chown(lock, OTHER_UID, -1)
    else:
        path = str(tmp_path / "link.json")
        os.symlink(str(real), path)
        if what == "link target":
            os.chown(real, OTHER_UID, -1)
        else:
            os.lchown(path, OTHER_UID, -1)
    with pytest.raises(OptionError) as err:
        with TokenStore(path).locked() as tx:
            tx.put("k", {"access_token": "a"})
    assert err.value.option == "token_cache"
    assert f"is owned by uid {OTHER_UID}, not by the user running this task" in str(err.value)
    assert json.loads(real.read_text())["entries"] == {}


def test_a_store_owned_by_another_user_is_not_read(tmp_path):
    real = _store_file(tmp_path / "t.json")
    store = TokenStore(str(real))
    os.chown(real, OTHER_UID, -1)
    with pytest.raises(OptionError) as err:
        store.read()
    assert f"owned by uid {OTHER_UID}" in str(err.value)


def test_a_link_planted_after_the_store_was_opened_is_not_followed(tmp_path, tmp_path_factory):
    victim = tmp_path_factory.mktemp("elsewhere") / "victim.json"
    _store_file(victim)
    store = TokenStore(str(tmp_path / "t.json"))
    os.symlink(str(victim), store.path)
    with pytest.raises(OptionError) as err:
        with store.locked():
            pass
    assert "became a symbolic link" in str(err.value)
    assert json.loads(victim.read_text())["entries"] == {}


@pytest.mark.parametrize("mode, warned", [(0o777, True), (0o1777, True), (0o770, True), (0o700, False)])
def test_a_directory_others_can_write_is_warned_about(tmp_path, mode, warned):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    warnings = []
    store = TokenStore(str(shared / "t.json"), warn=warnings.append)
    with store.locked() as tx:
        tx.put("k", {"access_token": "a"})
    assert store.get("k") == {"access_token": "a"}
    if warned:
        assert len(warnings) == 1 and warnings[0].startswith(f"token_cache: the directory {shared} (mode {mode:04o})")
        assert "writable by other users" in warnings[0]
    else:
        assert warnings == []


def test_a_store_with_a_second_hard_link_is_refused(tmp_path):
    real = _store_file(tmp_path / "t.json")
    os.link(real, tmp_path / "other-name.json")
    for path in (real, tmp_path / "other-name.json"):
        with pytest.raises(OptionError) as err:
            TokenStore(str(path))
        assert f"{path} has 2 hard links; a token store must have one name" in str(err.value)
