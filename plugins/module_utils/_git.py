# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a git checkout for the report roles in one module process: five git commands, argv lists, no shell."""
from __future__ import annotations

import os
import re

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError

# https://user:token@host/... -> https://host/...: the userinfo of a clone URL is a credential.
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)([^@/]*)@", re.IGNORECASE)

SHALLOW_WHY = (
    "it is a shallow clone, which has only the newest commits. Fetch the history (GitHub Actions: actions/checkout "
    "with fetch-depth 0; GitLab: GIT_DEPTH 0; Azure Pipelines: fetchDepth 0; Jenkins: no shallow clone; CircleCI, "
    "Bitbucket: git fetch --unshallow)"
)
UNKNOWN_WHY = "no commit of this checkout has that name (history rewritten, or another repository)"


class GitError(OptionError):
    """A checkout git cannot read; ``reason`` says which case, ``git_said`` git's own first line."""

    def __init__(self, option, message, reason, git_said="", **facts):
        super().__init__(option, message)
        self.reason = reason
        self.git_said = git_said
        self.facts = facts

    def details(self):
        out = super().details()
        out.update(self.facts, reason=self.reason, git_said=self.git_said)
        return out


def strip_credentials(url):
    """The URL without the user and password a clone URL may carry; scp-like C(git@host:path) is kept as is."""
    return _USERINFO.sub(r"\1", url)


def url_credentials(url):
    """The secret in a URL's userinfo (to mask), or '': the password, or a user part long enough to be a token
    (C(https://<token>@host)); a plain user name (C(git)) is no secret, and masking it would garble all output."""
    match = _USERINFO.match(url)
    if not match:
        return ""
    user, colon, password = match.group(2).partition(":")
    return password if colon else (user if len(user) >= 8 else "")


class Checkout:
    """Runs git in one directory through ``run`` (``AnsibleModule.run_command``-like: argv -> rc, out, err)."""

    def __init__(self, run, git, path):
        self._run = run
        self._git = git
        self.path = path

    def git(self, *args):
        return self._run([self._git, "-C", self.path, *args])

    def head(self):
        """HEAD, its branch ('' when detached), the top directory and the shallow flag, or a GitError saying why not."""
        rc, out, err = self.git("rev-parse", "HEAD", "--abbrev-ref", "HEAD", "--show-toplevel",
                                "--is-shallow-repository")
        lines = out.splitlines()
        if rc != 0 or len(lines) < 4:
            said = (err.strip() or out.strip()).split("\n")[0]
            if not os.path.exists(self.path):
                reason, what = "missing", "does not exist"
            elif not os.path.isdir(self.path):
                reason, what = "not_a_directory", "is not a directory"
            elif "not a git repository" in said:
                reason, what = "not_a_checkout", "is not a git checkout"
            elif "unknown revision" in said:
                reason, what = "no_commits", "has no commits yet"
            else:
                reason, what = "unreadable", "cannot be read with git"
            raise GitError("path", f"{self.path} {what} (git said: {said})", reason, said)
        return {"commit": lines[0], "branch": "" if lines[1] == "HEAD" else lines[1], "repo_root": lines[2],
                "shallow": lines[3] == "true"}

    def resolve(self, ref):
        """The commit id ``ref`` names, or ''."""
        rc, out, _err = self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return out.strip() if rc == 0 else ""

    def messages(self, since_commit, count):
        """The commit messages (body included, a blank line after each) since a commit, else of the last ``count``."""
        span = [f"{since_commit}..HEAD"] if since_commit else ["-n", str(count)]
        rc, out, err = self.git("log", "--format=%B%n", *span)
        if rc != 0:
            raise GitError("path", f"{self.path}: git log failed (git said: {err.strip()})", "unreadable",
                           err.strip())
        return out.rstrip("\r\n")

    def subject(self):
        return self.git("log", "-1", "--format=%s")[1].rstrip("\r\n")

    def origin_url(self):
        """remote.origin.url as configured (credentials included), or '' when there is none."""
        rc, out, _err = self.git("config", "--get", "remote.origin.url")
        return out.strip() if rc == 0 else ""


def read(checkout, since="", require_since=False, count=20, mask=None):
    """Everything the report roles read from a checkout; ``since`` missing is explained, or an error on request.

    ``mask`` is called with the credential of the origin URL, if any, so that no output can show it.
    """
    if since and since.startswith("-"):
        raise GitError("since", f"must be a commit or a ref, not {since!r} (it would be read as an option)",
                       "bad_since")
    if count < 1:
        raise GitError("commit_count", f"must be 1 or more, not {count}", "bad_count")
    facts = checkout.head()
    since_commit = checkout.resolve(since) if since else ""
    problem = ""
    if since and not since_commit:
        why = SHALLOW_WHY if facts["shallow"] else UNKNOWN_WHY
        problem = f"{since} is not in {facts['repo_root']}: {why}"
        if require_since:
            raise GitError("since", f"since={problem}; or set require_since false to read the last {count} commits "
                           "instead", "since_missing", since_problem=problem)
    origin = checkout.origin_url()
    secret = url_credentials(origin)
    if secret and mask:
        mask(secret)
    facts.update(since_commit=since_commit, since_problem=problem, messages=checkout.messages(since_commit, count),
                 subject=checkout.subject(), remote_url=strip_credentials(origin))
    return facts
