# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import stat
import time

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils import _io
from ansible_collections.jiraops.integration.plugins.module_utils._errors import OptionError


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _leftovers(directory):
    return [name for name in os.listdir(directory) if name.startswith(_io._TMP_PREFIX)]


def test_read_file_missing_returns_none(tmp_path):
    assert _io.read_file(str(tmp_path / 'nope')) is None


def test_read_file_returns_bytes(tmp_path):
    target = tmp_path / 'f'
    target.write_bytes(b'\x00abc\n')
    assert _io.read_file(str(target)) == b'\x00abc\n'


def test_read_file_directory_raises(tmp_path):
    with pytest.raises(IsADirectoryError):
        _io.read_file(str(tmp_path))


def test_write_creates_file_with_default_mode_0600(tmp_path):
    target = tmp_path / 'secret'
    _io.write_file_atomic(None, str(target), b'data')
    assert target.read_bytes() == b'data'
    assert _mode(target) == 0o600
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize('mode', [0o644, 0o400, 0o640])
def test_write_applies_requested_mode_regardless_of_umask(tmp_path, mode):
    target = tmp_path / 'f'
    old = os.umask(0o077)
    try:
        _io.write_file_atomic(None, str(target), b'x', mode=mode)
    finally:
        os.umask(old)
    assert _mode(target) == mode


def test_write_replaces_and_tightens_existing_file(tmp_path):
    target = tmp_path / 'f'
    target.write_bytes(b'old')
    os.chmod(target, 0o644)
    _io.write_file_atomic(None, str(target), b'new')
    assert target.read_bytes() == b'new'
    assert _mode(target) == 0o600


def test_temp_file_is_created_0600_before_any_byte_is_written(tmp_path, monkeypatch):
    """The secret must never sit in a file others could open, even while being written."""
    seen = []
    real_write = os.write

    def spying_write(fd, data):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(_io.os, 'write', spying_write)
    old = os.umask(0)  # a permissive umask must not loosen the temp file
    try:
        _io.write_file_atomic(None, str(tmp_path / 'f'), b'secret', mode=0o644)
    finally:
        os.umask(old)
    assert seen and all(m == 0o600 for m in seen)


def test_no_temp_file_left_when_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / 'f'
    target.write_bytes(b'old')

    def broken_replace(src, dst):
        raise OSError(5, 'simulated I/O error')

    monkeypatch.setattr(_io.os, 'replace', broken_replace)
    with pytest.raises(OSError):
        _io.write_file_atomic(None, str(target), b'new')
    assert target.read_bytes() == b'old'
    assert _leftovers(tmp_path) == []


def test_no_temp_file_left_when_write_fails(tmp_path, monkeypatch):
    def broken_write(fd, data):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(_io.os, 'write', broken_write)
    with pytest.raises(OSError):
        _io.write_file_atomic(None, str(tmp_path / 'f'), b'new')
    assert os.listdir(tmp_path) == []


def test_no_temp_file_left_on_system_exit(tmp_path):
    """fail_json (SystemExit) from the SELinux helpers must not leave the temp file behind either."""

    class ExitingModule:
        def selinux_enabled(self):
            return True

        def selinux_default_context(self, path):
            return [None, None, None, None]

        def set_context_if_different(self, path, context, changed):
            raise SystemExit(1)

    with pytest.raises(SystemExit):
        _io.write_file_atomic(ExitingModule(), str(tmp_path / 'f'), b'new')
    assert os.listdir(tmp_path) == []


def test_missing_directory_raises_without_leftovers(tmp_path):
    with pytest.raises(FileNotFoundError):
        _io.write_file_atomic(None, str(tmp_path / 'missing' / 'f'), b'x')


def test_write_follows_symlink(tmp_path):
    real = tmp_path / 'real'
    real.write_bytes(b'old')
    link = tmp_path / 'link'
    link.symlink_to(real)
    _io.write_file_atomic(None, str(link), b'new')
    assert link.is_symlink()
    assert real.read_bytes() == b'new'


def test_write_rejects_text(tmp_path):
    with pytest.raises(TypeError):
        _io.write_file_atomic(None, str(tmp_path / 'f'), 'text')
    assert os.listdir(tmp_path) == []


def test_ensure_mode(tmp_path):
    target = tmp_path / 'f'
    target.write_bytes(b'x')
    os.chmod(target, 0o644)
    assert _io.ensure_mode(str(target), 0o600) is True
    assert _mode(target) == 0o600
    assert _io.ensure_mode(str(target), 0o600) is False
    assert _io.ensure_mode(str(tmp_path / 'missing'), 0o600) is False


def test_file_mode_and_remove(tmp_path):
    target = tmp_path / 'f'
    assert _io.file_mode(str(target)) is None
    assert _io.remove_file(str(target)) is False
    target.write_bytes(b'x')
    os.chmod(target, 0o640)
    assert _io.file_mode(str(target)) == 0o640
    assert _io.remove_file(str(target)) is True
    assert not target.exists()


# -- read_regular_file: user-given paths are read only when they are small regular files ---------------------------


def test_read_regular_file_returns_bytes_and_follows_links(tmp_path):
    target = tmp_path / 'f'
    target.write_bytes(b'\x00abc\n')
    (tmp_path / 'link').symlink_to(target)
    assert _io.read_regular_file(str(tmp_path / 'link'), 'ca_path') == b'\x00abc\n'


def test_read_regular_file_missing(tmp_path):
    with pytest.raises(OptionError) as err:
        _io.read_regular_file(str(tmp_path / 'nope'), 'ca_path')
    assert str(err.value) == 'ca_path: %s does not exist' % (tmp_path / 'nope')
    assert _io.read_regular_file(str(tmp_path / 'nope'), 'ca_path', missing_ok=True) is None


def test_read_regular_file_fifo_does_not_block(tmp_path):
    fifo = tmp_path / 'fifo'
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(OptionError) as err:
        _io.read_regular_file(str(fifo), 'private_key_path')
    assert time.monotonic() - started < 1
    assert err.value.option == 'private_key_path' and 'is not a regular file' in str(err.value)


@pytest.mark.parametrize('device', ['/dev/zero', '/dev/urandom'])
def test_read_regular_file_refuses_devices(tmp_path, device):
    (tmp_path / 'key.pem').symlink_to(device)
    with pytest.raises(OptionError) as err:
        _io.read_regular_file(str(tmp_path / 'key.pem'), 'private_key_path')
    assert 'is not a regular file' in str(err.value)


def test_read_regular_file_refuses_directories(tmp_path):
    with pytest.raises(OptionError) as err:
        _io.read_regular_file(str(tmp_path), 'ca_path')
    assert 'is a directory' in str(err.value)


def test_read_regular_file_size_limit(tmp_path):
    big = tmp_path / 'big'
    with open(big, 'wb') as f:
        f.truncate(_io.MAX_READ_SIZE + 1)  # sparse: no real gigabytes needed
    with pytest.raises(OptionError) as err:
        _io.read_regular_file(str(big), 'ca_path')
    assert 'is %d bytes, more than the %d bytes' % (_io.MAX_READ_SIZE + 1, _io.MAX_READ_SIZE) in str(err.value)
    small = tmp_path / 'small'
    small.write_bytes(b'x' * 10)
    assert _io.read_regular_file(str(small), 'ca_path', limit=10) == b'x' * 10
    with pytest.raises(OptionError):
        _io.read_regular_file(str(small), 'ca_path', limit=9)


def test_read_regular_file_without_following_links(tmp_path):
    (tmp_path / 'real').write_bytes(b'data')
    (tmp_path / 'link').symlink_to(tmp_path / 'real')
    with pytest.raises(OptionError) as err:
        _io.read_regular_file(str(tmp_path / 'link'), 'token_cache', follow_symlinks=False)
    assert 'is a symbolic link, which is not followed here' in str(err.value)


def test_write_without_following_links_replaces_the_link(tmp_path):
    victim = tmp_path / 'victim'
    victim.write_bytes(b'keep me')
    link = tmp_path / 'link'
    link.symlink_to(victim)
    _io.write_file_atomic(None, str(link), b'new', follow_symlinks=False)
    assert not link.is_symlink() and link.read_bytes() == b'new'
    assert victim.read_bytes() == b'keep me'
    assert _leftovers(tmp_path) == []
