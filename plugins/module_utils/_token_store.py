# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OAuth 2.0 token store: one JSON file (0600) of access and refresh tokens, shared by every task and fork.

Reads need no lock: the file is only ever replaced whole (temp file + rename), so a reader sees the old or the
new content. Every change happens under an exclusive ``fcntl.flock`` on a sidecar ``<file>.lock`` (never
deleted, so two processes can never hold locks on different inodes); whoever waits for the lock re-reads the
file once it has it, so a token another process just obtained is used instead of being requested again.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import time

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._io import (
    read_file,
    remove_stale_temp_files,
    write_file_atomic,
)

FORMAT_VERSION = 1
OPTION = "token_cache"


def fingerprint(value):
    """A stable, non-reversible name for a secret (used to recognise refresh tokens of one chain)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def store_key(provider, kind, client_id, token_url):
    """Entries are per provider, grant kind (client credentials or a user's grant), client id and token URL (site)."""
    return f"{provider}:{kind}:{client_id}@{token_url}"


class TokenStore:
    """A token file plus its lock; ``option`` names the option the path came from in every error."""

    def __init__(self, path, module=None, lock_timeout=120.0, option=OPTION):
        self.option = option
        self.path = os.path.abspath(os.path.expanduser(path))
        self.lock_path = self.path + ".lock"
        self.module = module
        self.lock_timeout = lock_timeout
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise OptionError(option, f"the directory {directory} does not exist; create it (mode 0700) first")
        if os.path.isdir(self.path):
            raise OptionError(option, f"{self.path} is a directory; give the path of a file")

    # -- reading --------------------------------------------------------------------------------------------
    def read(self):
        """The whole store as a dict; an absent file is an empty store."""
        try:
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
        except FileNotFoundError:
            return {"version": FORMAT_VERSION, "entries": {}}
        except OSError as exc:
            raise OptionError(self.option, f"cannot read {self.path}: {exc.strerror}") from None
        if mode & 0o077:
            raise OptionError(
                self.option,
                f"{self.path} has mode {mode:04o} but holds OAuth tokens; it must be readable by its owner only "
                f"(run: chmod 600 {self.path})",
            )
        try:
            raw = read_file(self.path)
        except OSError as exc:
            raise OptionError(self.option, f"cannot read {self.path}: {exc.strerror}") from None
        if raw is None:
            return {"version": FORMAT_VERSION, "entries": {}}
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise OptionError(
                self.option,
                f"{self.path} is not a token store (invalid JSON: {str(exc)[:80]}); move it away to start a new one",
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
            raise OptionError(self.option, f"{self.path} is not a token store (no 'entries' object)")
        if data.get("version") != FORMAT_VERSION:
            raise OptionError(self.option, f"{self.path} has store format version {data.get('version')!r}; "
                                           f"this collection reads version {FORMAT_VERSION}")
        return data

    def get(self, key):
        entry = self.read()["entries"].get(key)
        return dict(entry) if isinstance(entry, dict) else None

    # -- writing under the lock --------------------------------------------------------------------------------
    def _write(self, data):
        blob = json.dumps(data, indent=2, sort_keys=True).encode("utf-8") + b"\n"
        try:
            # Every writer holds the lock, so a temp file of this store is what a killed writer left (0600).
            remove_stale_temp_files(self.path)
            write_file_atomic(self.module, self.path, blob, mode=0o600)
        except OSError as exc:
            raise OptionError(self.option, f"cannot write {self.path}: {exc.strerror}") from None

    @contextlib.contextmanager
    def locked(self):
        """Hold the store's lock; yields a Transaction that reads fresh data and writes through at once."""
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise OptionError(self.option, f"cannot open the lock file {self.lock_path}: {exc.strerror}") from None
        try:
            deadline = time.monotonic() + self.lock_timeout
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise OptionError(self.option, f"cannot lock {self.lock_path}: {exc.strerror}") from None
                    if time.monotonic() >= deadline:
                        raise OptionError(
                            self.option,
                            f"timed out after {self.lock_timeout:.0f}s waiting for the lock {self.lock_path} "
                            "held by another process",
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
            try:
                yield Transaction(self)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class Transaction:
    """The store as seen while holding its lock."""

    def __init__(self, store):
        self.store = store
        self.data = store.read()

    def get(self, key):
        entry = self.data["entries"].get(key)
        return dict(entry) if isinstance(entry, dict) else None

    def put(self, key, entry):
        """Replace one entry and write the file now (atomically, 0600), before the caller uses the token."""
        self.data["entries"][key] = entry
        self.data["version"] = FORMAT_VERSION
        self.store._write(self.data)

    def delete(self, key):
        if self.data["entries"].pop(key, None) is not None:
            self.store._write(self.data)
