"""Reliability rows for ``git_info``: directories git cannot read and refs it must not take; nothing is written."""
from __future__ import annotations

import os
import subprocess

from reliability_support import BadInput


def _git(ctx, *args):
    subprocess.run(["git", "-C", ctx.path("repo"), *args], check=True, capture_output=True)


def _plain(ctx):
    os.mkdir(ctx.path("repo"))


def _empty(ctx):
    _plain(ctx)
    _git(ctx, "init", "-q")


def _one_commit(ctx):
    _empty(ctx)
    _git(ctx, "-c", "user.email=a@example.com", "-c", "user.name=A", "commit", "-q", "--allow-empty", "-m", "JJ-1")


def _gi(**kw):
    args = {"path": "{tmp}/repo"}
    args.update(kw)
    return args


BAD_INPUT = [
    BadInput("path missing", "git_info", _gi(), "path", "does not exist"),
    BadInput("path not a checkout", "git_info", _gi(), "path", "is not a git checkout", setup=_plain),
    BadInput("checkout without commits", "git_info", _gi(), "path", "has no commits yet", setup=_empty),
    BadInput("path is a file", "git_info", _gi(), "path", "is not a directory", setup=lambda ctx: ctx.write("repo", b"x")),
    BadInput("since reads as an option", "git_info", _gi(since="--output={tmp}/leak"), "since",
             "would be read as an option", setup=_one_commit),
    BadInput("since missing, required", "git_info", _gi(since="no-such-tag", require_since=True), "since",
             "no commit of this checkout has that name", setup=_one_commit),
    BadInput("commit_count zero", "git_info", _gi(commit_count=0), "commit_count", "1 or more", setup=_one_commit),
    BadInput("commit_count not a number", "git_info", _gi(commit_count="ten"), "commit_count", "", setup=_one_commit),
]
