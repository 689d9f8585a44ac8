"""The OAuth 2.0 token store as modules use it: one store whatever path names it, foreign or
dangling files refused, a directory others can write warned about. oauth2_token runs in-process over HTTP."""
from __future__ import annotations

import json
import os

from oauth2_support import CC, base_args, token_requests


def _warnings(result):
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def test_a_symlink_and_the_real_path_are_one_store_with_one_lock(emulator, run_module, tmp_path):
    real = str(tmp_path / "tokens.json")
    first = run_module("oauth2_token", base_args(emulator, **CC, token_cache=real))
    assert not first.failed and first["cached"] is False
    (tmp_path / "links").mkdir()
    link = str(tmp_path / "links" / "tokens.json")
    os.symlink(real, link)
    cached = run_module("oauth2_token", base_args(emulator, **CC, token_cache=link))
    assert cached["cached"] is True and cached["access_token"] == first["access_token"]
    # min_ttl past the token's lifetime: this run takes the lock and writes a new token
    renewed = run_module("oauth2_token", base_args(emulator, **CC, token_cache=link, min_ttl=7200))
    assert not renewed.failed and renewed["cached"] is False
    assert token_requests(emulator, grant_type="client_credentials")["count"] == 2
    assert os.listdir(tmp_path / "links") == ["tokens.json"] and os.path.islink(link), "no second lock, link kept"
    assert os.path.exists(real + ".lock")
    stored = json.loads(open(real, encoding="utf-8").read())["entries"]
    assert [e["access_token"] for e in stored.values()] == [renewed["access_token"]]


def test_a_directory_others_can_write_gets_one_warning(emulator, run_module, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    result = run_module("oauth2_token", base_args(emulator, **CC, token_cache=str(shared / "tokens.json")))
    assert not result.failed, result
    warnings = [w for w in _warnings(result) if "writable by other users" in w]
    assert warnings == [f"token_cache: the directory {shared} (mode 1777) is writable by other users, who could "
                        "plant a link or a file where the OAuth token store goes: keep the store in a directory "
                        "only you can write (mode 0700)"]
    assert json.loads((shared / "tokens.json").read_text())["entries"]
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    quiet = run_module("oauth2_token", base_args(emulator, **CC, token_cache=str(private / "tokens.json")))
    assert not quiet.failed and not [w for w in _warnings(quiet) if "writable by other users" in w]
