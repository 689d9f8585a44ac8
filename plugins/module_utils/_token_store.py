# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OAuth 2.0 token store: one JSON file (0600) of access and refresh tokens, shared by every task and fork.

Reads need no lock: the file is only ever replaced whole (temp file + rename), so a reader sees the old or the
new content. Every change happens under an exclusive ``fcntl.flock`` on a sidecar ``<file>.lock`` (never
deleted, so two processes can never hold locks on different inodes); whoever waits for the lock re-reads the
file once it has it, so a token another process just obtained is used instead of being requested again.

The store is named by its real path: a symlink to it and the file itself share one lock. A dangling symlink, a
link to something other than a regular file, and a store, link or lock owned by another user are refused (they
let someone else choose where tokens go or read them); a directory others can write gets a warning.
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

from ansible.module_utils.common.warnings import warn as _ansible_warn

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError
from ansible_collections.jiraops.integration.plugins.module_utils._io import (
    read_regular_file,
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


def _check_owner(option, path, st, what="it"):
    if st.st_uid != os.geteuid():
        raise OptionError(option, f"{path} is owned by uid {st.st_uid}, not by the user running this task (uid "
                                  f"{os.geteuid()}); {what} would let that user read or redirect the OAuth tokens, "
                                  "so it is not used: point the option at a store of your own")


def _check_regular(option, path, st):
    if stat.S_ISDIR(st.st_mode):
        raise OptionError(option, f"{path} is a directory; give the path of a file")
    if not stat.S_ISREG(st.st_mode):
        raise OptionError(option, f"{path} is not a regular file")
    if st.st_nlink > 1:
        # Each write replaces the file by rename: another name would keep stale tokens and take its own lock.
        raise OptionError(option, f"{path} has {st.st_nlink} hard links; a token store must have one name (use a "
                                  "symbolic link to share it)")


def resolve_store_path(path, option=OPTION, warn=None):
    """The real path of a token file, so that every name of one file shares one lock; refuses what is not ours.

    A symlink is followed only to an existing regular file the user owns: a dangling one could make the first
    write create a file wherever it points.
    """
    given = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(os.path.dirname(given)):
        raise OptionError(option, f"the directory {os.path.dirname(given)} does not exist; create it (mode 0700) "
                                  "first")
    try:
        st = os.lstat(given)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OptionError(option, f"cannot read {given}: {exc.strerror}") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        _check_owner(option, given, st, "a symbolic link someone else made")
        real = os.path.realpath(given)
        try:
            target = os.stat(real)
        except OSError:
            raise OptionError(option, f"{given} is a symbolic link to {os.readlink(given)}, which does not exist; a "
                                      "dangling link is never followed (the first write would create a file "
                                      "wherever it points): give the real path of the store") from None
        if not stat.S_ISREG(target.st_mode):
            raise OptionError(option, f"{given} is a symbolic link to {real}, which is not a regular file")
        _check_owner(option, real, target, "a token store someone else owns")
    else:
        real = os.path.join(os.path.realpath(os.path.dirname(given)), os.path.basename(given))
        if st is not None:
            _check_regular(option, given, st)
            _check_owner(option, given, st, "a token store someone else owns")
    for directory in dict.fromkeys((os.path.dirname(given), os.path.dirname(real))):
        mode = os.stat(directory).st_mode
        if mode & 0o022 and warn is not None:
            warn(f"{option}: the directory {directory} (mode {stat.S_IMODE(mode):04o}) is writable by other users, "
                 "who could plant a link or a file where the OAuth token store goes: keep the store in a directory "
                 "only you can write (mode 0700)")
    return real


def read_store_file(path, option, advice):
    """The bytes of the token file at the resolved ``path`` (None when absent), refused unless it is a regular file
    of the user's, readable by them only (``advice`` says how to fix a loose mode). Never follows a link that
    appeared after the path was resolved."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OptionError(option, f"cannot read {path}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise OptionError(option, f"{path} became a symbolic link after the task started; it is not followed")
    _check_regular(option, path, st)
    _check_owner(option, path, st, "a token store someone else owns")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise OptionError(option, f"{path} has mode {mode:04o} but holds OAuth tokens; {advice}")
    return read_regular_file(path, option, missing_ok=True, follow_symlinks=False)


class TokenStore:
    """A token file plus its lock; ``option`` names the option the path came from in every error."""

    def __init__(self, path, module=None, lock_timeout=120.0, option=OPTION, warn=None):
        self.option = option
        self.module = module
        if warn is None:
            warn = module.warn if module is not None else _ansible_warn
        self.path = resolve_store_path(path, option, warn)
        self.lock_path = self.path + ".lock"
        self.lock_timeout = lock_timeout

    # -- reading --------------------------------------------------------------------------------------------
    def read(self):
        """The whole store as a dict; an absent file is an empty store."""
        raw = read_store_file(self.path, self.option, "it must be readable by its owner only (run: chmod 600 "
                                                      f"{self.path})")
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
            write_file_atomic(self.module, self.path, blob, mode=0o600, follow_symlinks=False)
        except OSError as exc:
            raise OptionError(self.option, f"cannot write {self.path}: {exc.strerror}") from None

    @contextlib.contextmanager
    def locked(self):
        """Hold the store's lock; yields a Transaction that reads fresh data and writes through at once."""
        fd = self._open_lock()
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

    def _open_lock(self):
        """The lock file, never through a symlink (a planted one would create or lock a file elsewhere)."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.lock_path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OptionError(self.option, f"the lock file {self.lock_path} is a symbolic link; a lock is never "
                                               "taken through a link: remove it") from None
            raise OptionError(self.option, f"cannot open the lock file {self.lock_path}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            _check_regular(self.option, self.lock_path, st)
            _check_owner(self.option, self.lock_path, st, "a lock someone else owns")
        except OptionError:
            os.close(fd)
            raise
        return fd


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
