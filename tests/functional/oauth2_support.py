"""Helpers for the OAuth 2.0 tests: play the user at the consent screen, read the emulator's OAuth state."""
from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

CC = {"client_id": "emu-2lo-client-0001", "client_secret": "emu-2lo-secret-0001-do-not-share"}
APP = {"client_id": "emu-3lo-app-0001", "client_secret": "emu-3lo-secret-0001-do-not-share"}
REDIRECT = "https://ci.example.com/oauth/callback"
SCOPES = ["read:jira-work", "write:jira-work", "read:jira-user", "offline_access"]


def base_args(emulator, **kw):
    args = {"url": emulator.url, "api_url": emulator.url, "auth_url": emulator.url, "retry_budget": 20}
    args.update(kw)
    return args


def approve(authorize_url, user="alice", password=None, decision="accept"):
    """Do what a user does in the browser: open the URL, log in, press Accept; return the redirect URL."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    parts = urlsplit(authorize_url)
    form = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if password is None:
        password = "admin" if user == "admin" else f"{user}-password"
    form.update(username=user, password=password, decision=decision)
    resp = requests.post(f"{parts.scheme}://{parts.netloc}{parts.path}", data=form, allow_redirects=False,
                         timeout=10)
    assert resp.status_code == 302, resp.text
    return resp.headers["Location"]


def token_requests(emulator, **filters):
    return emulator.control("GET", "/oauth2/token-requests", params=filters)


def chains(emulator, **filters):
    return emulator.control("GET", "/oauth2/chains", params=filters)


def grant(emulator, run_module, cache, access_ttl, **store_args):
    """A user's grant in the store whose access token lives ``access_ttl`` seconds; later tokens live 1 hour.

    ``store_args`` are the store's own options (the vault_* options of a ``vault://`` store)."""
    emulator.configure(oauth2_access_ttl=access_ttl)
    start = run_module("oauth2_token", base_args(emulator, **APP, grant_type="authorization_code",
                                                 redirect_uri=REDIRECT, scopes=SCOPES))
    done = run_module("oauth2_token", base_args(emulator, **APP, token_cache=cache, grant_type="authorization_code",
                                                redirect_uri=REDIRECT, code=approve(start["authorize_url"]),
                                                state=start["state"], **store_args))
    assert not done.failed, done
    emulator.configure(oauth2_access_ttl=3600)
    return done


def collections_root():
    """The ansible_collections root conftest made (a symlink to the worktree) or a CI copy."""
    if os.environ.get("JIRAOPS_COLLECTIONS_ROOT"):
        return os.environ["JIRAOPS_COLLECTIONS_ROOT"]
    parts = REPO.split(os.sep)
    if len(parts) >= 3 and parts[-3] == "ansible_collections":
        return os.sep.join(parts[:-3])
    return os.path.join(REPO, ".build", "pytest")


def child_env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([collections_root(), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def run_playbook(playbook, inventory, tmp_path, extra_vars=None, verbosity=0, forks=10, env=None, timeout=300):
    """ansible-playbook in a subprocess against this checkout; returns CompletedProcess (text)."""
    bindir = os.path.dirname(sys.executable)
    cmd = [os.path.join(bindir, "ansible-playbook"), "-i", str(inventory), "-f", str(forks), str(playbook)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    for key, value in (extra_vars or {}).items():
        cmd += ["-e", f"{key}={value}"]
    environ = child_env(
        ANSIBLE_COLLECTIONS_PATH=collections_root(),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_PIPELINING="1",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    environ.pop("JIRAOPS_COLLECTIONS_ROOT", None)
    environ.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=environ, timeout=timeout, check=False)


def datacenter_exchange(emulator, run_module, client_id, client_secret, user="bob", **kw):
    """A Data Center incoming-link client's token the way it really gets one: PKCE authorization code, as ``user``."""
    dc = base_args(emulator, provider="datacenter", client_id=client_id, client_secret=client_secret, **kw)
    start = run_module("oauth2_token", dict(dc, grant_type="authorization_code", redirect_uri=REDIRECT,
                                            scopes=["WRITE"]))
    assert not start.failed, start
    return run_module("oauth2_token", dict(dc, grant_type="authorization_code", redirect_uri=REDIRECT,
                                           code=approve(start["authorize_url"], user=user), state=start["state"],
                                           code_verifier=start["code_verifier"]))
