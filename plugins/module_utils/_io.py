# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small file helpers for secrets on disk (key files, token stores).

Generic on purpose: nothing here knows about RSA or Jira.  The one rule they enforce is that secret bytes
are never visible, not even for a moment, with a mode looser than 0600 or under a half-written name.
"""
from __future__ import annotations

import errno
import os
import stat

from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError

_TMP_PREFIX = '.ansible_jiraops_'
# Keys, CA bundles and token stores are kilobytes; a few MB leaves room for big CA bundles and stores.
MAX_READ_SIZE = 4 * 1024 * 1024


def _real(path):
    """Follow symlinks so that writing ``path`` updates the link target instead of replacing the link."""
    return os.path.realpath(os.path.expanduser(path))


def read_file(path):
    """Return the content of ``path`` as bytes, or None if it does not exist.

    Other errors (permission denied, ``path`` is a directory) propagate: the caller knows which option the
    path came from and can name it in its error message.
    """
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return None


def read_regular_file(path, option, limit=MAX_READ_SIZE, missing_ok=False, follow_symlinks=True):
    """The bytes of the regular file ``path``, or None when absent and ``missing_ok``.

    Every problem is an OptionError naming ``option``. The file is opened non-blocking, so a FIFO is refused
    instead of waiting for a writer, and checked on the open descriptor (no race with a swap), so a device such
    as ``/dev/zero`` is refused instead of being read until memory runs out; at most ``limit`` bytes are read.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0) | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(os.path.expanduser(path), flags)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise OptionError(option, '%s does not exist' % path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise OptionError(option, '%s is a symbolic link, which is not followed here' % path) from None
        raise OptionError(option, 'cannot read %s: %s' % (path, exc.strerror or exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise OptionError(option, '%s is a directory, expected a file' % path)
        if not stat.S_ISREG(st.st_mode):
            raise OptionError(option, '%s is not a regular file (a FIFO, socket or device cannot be read as one)'
                              % path)
        if st.st_size > limit:
            raise OptionError(option, '%s is %d bytes, more than the %d bytes a file read here may have'
                              % (path, st.st_size, limit))
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew while being read
                raise OptionError(option, '%s is more than the %d bytes a file read here may have' % (path, limit))
        return b''.join(chunks)
    except OSError as exc:
        raise OptionError(option, 'cannot read %s: %s' % (path, exc.strerror or exc)) from None
    finally:
        os.close(fd)


def file_mode(path):
    """Permission bits of ``path`` (following symlinks), or None if it does not exist."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


def ensure_mode(path, mode):
    """chmod ``path`` to ``mode`` if it differs; return True when the mode was changed."""
    current = file_mode(path)
    if current is None or current == mode:
        return False
    os.chmod(path, mode)
    return True


def remove_file(path):
    """Delete ``path`` if it exists; return True when something was removed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def _fsync_dir(directory):
    """Persist the rename itself; best effort because some filesystems refuse fsync on directories."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _apply_selinux_context(module, tmp_path, dest):
    """Give the temp file the context ``dest`` has (or would get), like AnsibleModule.atomic_move does."""
    if module is None or not module.selinux_enabled():
        return
    if os.path.exists(dest):
        context = module.selinux_context(dest)
    else:
        context = module.selinux_default_context(dest)
    module.set_context_if_different(tmp_path, context, False)


def remove_stale_temp_files(path):
    """Remove temp files that ``write_file_atomic`` left beside ``path`` when its process was killed mid-write.

    Only safe while holding a lock that every writer of ``path`` takes (the token stores do): then no temp file of
    ``path`` can belong to a write in progress. Returns the names removed.
    """
    dest = _real(path)
    directory = os.path.dirname(dest) or '.'
    prefix = '%s%s.' % (_TMP_PREFIX, os.path.basename(dest))
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        middle = name[len(prefix):-len('.tmp')] if name.startswith(prefix) and name.endswith('.tmp') else ''
        if len(middle) == 12 and all(c in '0123456789abcdef' for c in middle):
            try:
                os.unlink(os.path.join(directory, name))
                removed.append(name)
            except OSError:
                pass
    return removed


def write_file_atomic(module, path, data, mode=0o600, follow_symlinks=True):
    """Atomically replace ``path`` with ``data`` and leave it with permission bits ``mode``.

    The temp file lives in the destination directory (so the rename is atomic), is created with
    ``O_CREAT | O_EXCL`` and mode 0600 (so no other user can open it while it is being written), is fsynced,
    gets its final mode with ``fchmod`` (not subject to the umask), then is renamed over ``path``.  Readers
    therefore see either the old file or the complete new one, never a partial write.  On any error the temp
    file is removed and the exception propagates.

    With ``follow_symlinks=False`` a symlink at ``path`` is replaced by the file instead of having its target
    written, so a link that appears after the caller checked ``path`` cannot redirect the write.

    ``module`` (an AnsibleModule, or None) is only used to carry over the SELinux context.
    ``AnsibleModule.atomic_move`` is deliberately not used: it copies the *old* file's mode onto the new
    content before the rename, which would briefly expose a new secret with whatever looser mode the old
    file had.
    """
    if not isinstance(data, bytes):
        raise TypeError('data must be bytes, got %s' % type(data).__name__)
    if follow_symlinks:
        dest = _real(path)
    else:
        absolute = os.path.abspath(os.path.expanduser(path))
        dest = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
    directory = os.path.dirname(dest) or '.'
    base = os.path.basename(dest)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_CLOEXEC', 0) | getattr(os, 'O_NOFOLLOW', 0)

    tmp_path = None
    fd = None
    for _attempt in range(100):
        candidate = os.path.join(directory, '%s%s.%s.tmp' % (_TMP_PREFIX, base, os.urandom(6).hex()))
        try:
            fd = os.open(candidate, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue
            raise
        tmp_path = candidate
        break
    else:  # pragma: no cover - 100 random collisions in a row
        raise FileExistsError(errno.EEXIST, 'could not create a unique temporary file', directory)

    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        _apply_selinux_context(module, tmp_path, dest)
        os.replace(tmp_path, dest)
        tmp_path = None
    finally:
        # Also runs on SystemExit (a module failure raised by the SELinux helpers): never leave a temp file behind.
        if tmp_path is not None:
            try:
                os.unlink(tmp_path)
            except OSError:
                pass
    _fsync_dir(directory)
