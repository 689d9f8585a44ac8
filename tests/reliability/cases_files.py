"""Reliability rows for user-given files: ``private_key_path`` and ``ca_path`` are read only when they
are small regular files (a FIFO must not block, ``/dev/zero`` must not exhaust memory); the token stores
(``token_cache``, ``token_store``) refuse dangling links, lock links and files owned by another user."""
from __future__ import annotations

import os

import pytest
from cases_api import _api
from cases_oauth import _cc, _key, _o1

from reliability_support import BadInput

OTHER_UID = 65534  # the suite runs as root here: chown gives a file to another user


def _fifo(name):
    def setup(ctx):
        os.mkfifo(ctx.path(name))
    return setup


def _link(name, target):
    """A link at ``name`` to ``target`` (``{tmp}`` expanded): a device, or a file under {tmp}/elsewhere."""
    def setup(ctx):
        os.makedirs(ctx.path("elsewhere"), exist_ok=True)
        os.symlink(target.replace("{tmp}", ctx.tmp), ctx.path(name))
    return setup


def _huge(name):
    def setup(ctx):
        with open(ctx.path(name), "wb") as handle:
            handle.truncate(5 * 1024 * 1024)  # sparse, past the 4 MB read limit
    return setup


def _owned_by_other(name, data):
    def setup(ctx):
        if os.geteuid() != 0:
            pytest.skip("only root can give a file to another user")
        ctx.write(name, data, 0o600)
        os.chown(ctx.path(name), OTHER_UID, -1)
    return setup


def _both(*setups):
    def setup(ctx):
        for step in setups:
            step(ctx)
    return setup


STORE = '{"version": 1, "entries": {}}\n'
_CA = _api(ca_path="{tmp}/ca.pem")
_TOKENS = _cc(token_cache="{tmp}/tokens.json")
_O1_STORE = _o1(token_store="{tmp}/store.json")
# The first step of the authorization code flow keeping its state and PKCE verifier in the store (the role's run 1).
_PENDING = _cc(grant_type="authorization_code", provider="datacenter", redirect_uri="https://ci.example.com/cb",
               scopes=["WRITE"], keep_pending=True, token_cache="{tmp}/tokens.json")

BAD_INPUT = [
    BadInput("ca_path is a FIFO", "api", _CA, "ca_path", "not a regular file", setup=_fifo("ca.pem")),
    BadInput("ca_path links to /dev/zero", "api", _CA, "ca_path", "not a regular file",
             setup=_link("ca.pem", "/dev/zero")),
    BadInput("ca_path larger than 4 MB", "api", _CA, "ca_path", "more than the", setup=_huge("ca.pem")),
    BadInput("private_key_path is a FIFO", "oauth1_token", _o1(), "private_key_path", "not a regular file",
             setup=_fifo("key.pem")),
    BadInput("private_key_path links to /dev/zero", "oauth1_token", _o1(), "private_key_path", "not a regular file",
             setup=_link("key.pem", "/dev/zero")),
    BadInput("private_key_path larger than 4 MB", "oauth1_token", _o1(), "private_key_path", "more than the",
             setup=_huge("key.pem")),
    BadInput("private_key_path is a FIFO (api, oauth1 auth)", "api",
             _api(username=None, password=None, consumer_key="jiraops", private_key_path="{tmp}/key.pem",
                  access_token="tok"), "private_key_path", "not a regular file", setup=_fifo("key.pem")),
    BadInput("token_cache is a dangling symlink", "oauth2_token", _TOKENS, "token_cache",
             "dangling link is never followed", setup=_link("tokens.json", "{tmp}/elsewhere/planted.json")),
    BadInput("token_cache links to a FIFO", "oauth2_token", _TOKENS, "token_cache", "not a regular file",
             setup=_both(_fifo("fifo"), _link("tokens.json", "{tmp}/fifo"))),
    BadInput("token_cache owned by another user", "oauth2_token", _TOKENS, "token_cache", "owned by uid 65534",
             setup=_owned_by_other("tokens.json", STORE)),
    BadInput("token_cache lock is a symlink", "oauth2_token", _TOKENS, "token_cache", "lock file .* symbolic link",
             setup=_link("tokens.json.lock", "{tmp}/elsewhere/lock")),
    BadInput("token_cache lock owned by another user", "oauth2_token", _TOKENS, "token_cache", "owned by uid 65534",
             setup=_owned_by_other("tokens.json.lock", "")),
    BadInput("keep_pending: token_cache is a dangling symlink", "oauth2_token", _PENDING, "token_cache",
             "dangling link is never followed", setup=_link("tokens.json", "{tmp}/elsewhere/planted.json")),
    BadInput("keep_pending: token_cache owned by another user", "oauth2_token", _PENDING, "token_cache",
             "owned by uid 65534", setup=_owned_by_other("tokens.json", STORE)),
    BadInput("keep_pending: token_cache lock is a symlink", "oauth2_token", _PENDING, "token_cache",
             "lock file .* symbolic link", setup=_link("tokens.json.lock", "{tmp}/elsewhere/lock")),
    BadInput("keep_pending without token_cache", "oauth2_token", dict(_PENDING, token_cache=None), "keep_pending",
             "needs token_cache"),
    BadInput("token_store is a dangling symlink", "oauth1_token", _O1_STORE, "token_store",
             "dangling link is never followed",
             setup=_both(_key, _link("store.json", "{tmp}/elsewhere/planted.json"))),
    BadInput("token_store owned by another user", "oauth1_token", _O1_STORE, "token_store", "owned by uid 65534",
             setup=_both(_key, _owned_by_other("store.json", "{}"))),
]
