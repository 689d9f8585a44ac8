# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the real rsa_keypair module in-process (patch_module_args) against files in a temp dir."""
from __future__ import annotations

import datetime
import json
import os
import stat

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.jiraops.integration.plugins.module_utils import _io, _keys

MODULE = 'rsa_keypair'
SIZE = 2048  # the smallest accepted size keeps the tests fast; the default is checked once


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _snapshot(*paths):
    """Bytes, mtime and inode of each file: equal snapshots mean nothing was rewritten."""
    out = {}
    for path in paths:
        st = os.stat(path)
        with open(path, 'rb') as f:
            out[path] = (f.read(), st.st_mtime_ns, st.st_ino, stat.S_IMODE(st.st_mode))
    return out


def _assert_no_private_material(result, key_path):
    text = json.dumps(result)
    assert 'PRIVATE KEY' not in text
    if os.path.isfile(key_path):
        with open(key_path, 'rb') as f:
            lines = f.read().decode('ascii', 'replace').strip().splitlines()
        body = ''.join(line for line in lines if not line.startswith('-----'))
        # The private key's base64 body, in chunks of 40: none may appear anywhere in the result.
        for i in range(0, len(body) - 40, 40):
            assert body[i:i + 40] not in text


@pytest.fixture
def paths(tmp_path):
    return {
        'dir': tmp_path,
        'path': str(tmp_path / 'jira_privatekey.pem'),
        'public_key_path': str(tmp_path / 'jira_privatekey.pem.pub'),
        'certificate_path': str(tmp_path / 'jira_cert.pem'),
    }


def _warnings(result):
    """Warning texts; ansible-core 2.19+ returns structured warnings, older versions plain strings."""
    return [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]


@pytest.fixture
def run(run_module, paths):
    def _run(check_mode=False, diff=False, **args):
        args.setdefault('path', paths['path'])
        if args.get('state', 'present') == 'present':
            args.setdefault('size', SIZE)
        result = run_module(MODULE, args, check_mode=check_mode, diff=diff)
        _assert_no_private_material(result, args['path'])
        return result
    return _run


def test_create_then_idempotent(run, paths):
    first = run()
    assert first['changed'] is True, first
    assert not first.failed
    with open(paths['path'], 'rb') as f:
        pem = f.read()
    assert pem.startswith(b'-----BEGIN PRIVATE KEY-----\n')
    assert _mode(paths['path']) == 0o600
    assert _mode(paths['public_key_path']) == 0o644
    key = serialization.load_pem_private_key(pem, password=None)
    assert key.key_size == SIZE
    with open(paths['public_key_path'], 'rb') as f:
        pub_pem = f.read()
    pub = serialization.load_pem_public_key(pub_pem)
    assert pub.public_numbers() == key.public_key().public_numbers()

    assert first['path'] == paths['path']
    assert first['public_key_path'] == paths['public_key_path']  # default: <path>.pub
    assert 'certificate_path' not in first
    assert first['size'] == SIZE
    assert first['public_key'] == pub_pem.decode('ascii')
    assert first['public_key_oneline'] == ''.join(pub_pem.decode('ascii').strip().splitlines()[1:-1])
    assert first['fingerprint'] == _keys.fingerprint(key)
    assert sorted(os.listdir(paths['dir'])) == ['jira_privatekey.pem', 'jira_privatekey.pem.pub']

    before = _snapshot(paths['path'], paths['public_key_path'])
    second = run()
    assert second['changed'] is False, second
    assert _warnings(second) == []
    assert second['fingerprint'] == first['fingerprint']
    assert second['public_key'] == first['public_key']
    assert _snapshot(paths['path'], paths['public_key_path']) == before


def test_default_size_is_3072(run, run_module, paths):
    result = run_module(MODULE, {'path': paths['path']})
    assert result['changed'] is True
    assert result['size'] == 3072
    with open(paths['path'], 'rb') as f:
        assert _keys.load_private_key(f.read()).key_size == 3072


def test_check_mode_writes_nothing(run, paths):
    result = run(check_mode=True)
    assert result['changed'] is True
    assert result['public_key'] is None and result['fingerprint'] is None
    assert os.listdir(paths['dir']) == []

    run()
    before = _snapshot(paths['path'], paths['public_key_path'])
    assert run(check_mode=True)['changed'] is False
    os.chmod(paths['path'], 0o644)
    os.remove(paths['public_key_path'])
    before = _snapshot(paths['path'])
    result = run(check_mode=True)
    assert result['changed'] is True
    assert result['fingerprint'] is not None  # the key is kept, so its facts are known
    assert _snapshot(paths['path']) == before
    assert not os.path.exists(paths['public_key_path'])


@pytest.mark.parametrize('size', [512, 1024, 2047])
def test_small_size_refused(run, paths, size):
    result = run(size=size)
    assert result.failed
    assert result['msg'].startswith('size: ')
    assert '2048' in result['msg']
    assert 'exception' not in result
    assert os.listdir(paths['dir']) == []


def test_tampered_public_key_regenerated_from_same_key(run, paths):
    first = run()
    key_before = _snapshot(paths['path'])
    with open(paths['public_key_path'], 'w') as f:
        f.write(first['public_key'].replace('A', 'B', 3))
    result = run()
    assert result['changed'] is True
    assert result['fingerprint'] == first['fingerprint']
    with open(paths['public_key_path']) as f:
        assert f.read() == first['public_key']
    assert _snapshot(paths['path']) == key_before


def test_public_key_of_other_key_or_garbage_regenerated(run, paths):
    first = run()
    other = _keys.generate_private_key(SIZE)
    for content in (_keys.public_key_pem(other), 'garbage\n', ''):
        with open(paths['public_key_path'], 'w') as f:
            f.write(content)
        assert run()['changed'] is True
        assert _keys.fingerprint_of_public_pem(open(paths['public_key_path']).read()) == first['fingerprint']


def test_certificate_created_idempotent_and_regenerated(run, paths):
    first = run(certificate_path=paths['certificate_path'], common_name='ci.example.com', days=10)
    assert first['changed'] is True
    assert first['certificate_path'] == paths['certificate_path']
    with open(paths['certificate_path'], 'rb') as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert cert.subject.rfc4514_string() == 'CN=ci.example.com'
    assert _keys.fingerprint(cert.public_key()) == first['fingerprint']
    assert _mode(paths['certificate_path']) == 0o644

    snap = _snapshot(paths['path'], paths['public_key_path'], paths['certificate_path'])
    again = run(certificate_path=paths['certificate_path'], common_name='ci.example.com', days=99)
    assert again['changed'] is False  # a different `days` alone does not churn a valid certificate
    assert _snapshot(paths['path'], paths['public_key_path'], paths['certificate_path']) == snap

    # A certificate of another key is replaced, the key pair is untouched.
    other = _keys.generate_private_key(SIZE)
    with open(paths['certificate_path'], 'w') as f:
        f.write(_keys.generate_self_signed_certificate(other, 'ci.example.com', 10))
    key_snap = _snapshot(paths['path'], paths['public_key_path'])
    result = run(certificate_path=paths['certificate_path'], common_name='ci.example.com')
    assert result['changed'] is True
    with open(paths['certificate_path'], 'rb') as f:
        assert _keys.certificate_matches(_keys.load_private_key(open(paths['path'], 'rb').read()), f.read(),
                                         common_name='ci.example.com')
    assert _snapshot(paths['path'], paths['public_key_path']) == key_snap

    # Another common name, or an expired certificate, is regenerated too.
    assert run(certificate_path=paths['certificate_path'], common_name='other')['changed'] is True
    key = _keys.load_private_key(open(paths['path'], 'rb').read())
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
    with open(paths['certificate_path'], 'w') as f:
        f.write(_keys.generate_self_signed_certificate(key, 'other', 1, now=past))
    assert run(certificate_path=paths['certificate_path'], common_name='other')['changed'] is True
    assert run(certificate_path=paths['certificate_path'], common_name='other')['changed'] is False


def test_wrong_private_key_mode_fixed(run, paths):
    first = run()
    os.chmod(paths['path'], 0o644)
    result = run()
    assert result['changed'] is True
    assert result['fingerprint'] == first['fingerprint']
    assert _mode(paths['path']) == 0o600
    assert run()['changed'] is False


def test_custom_mode_and_warning(run, paths):
    result = run(mode='0640')
    assert _mode(paths['path']) == 0o640
    assert any('group or others' in w for w in _warnings(result))
    assert run(mode='0640')['changed'] is False
    assert _warnings(run(mode='0600')) == []
    os.chmod(paths['path'], 0o640)
    assert run(mode='0600')['changed'] is True
    assert _mode(paths['path']) == 0o600


@pytest.mark.parametrize('mode', ['u=rw', '0999', 'rw-------', '77777', '04600', 600, -1])
def test_bad_mode_refused(run, paths, mode):
    result = run(mode=mode)
    assert result.failed
    assert result['msg'].startswith('mode: ')
    assert os.listdir(paths['dir']) == []


@pytest.mark.parametrize('mode, expected', [('600', 0o600), ('0o640', 0o640), (0o400, 0o400)])
def test_mode_spellings(run, paths, mode, expected):
    run(mode=mode)
    assert _mode(paths['path']) == expected


def test_size_mismatch_regenerates_with_warning(run, paths):
    first = run()
    result = run(size=3072)
    assert result['changed'] is True
    assert result['size'] == 3072
    assert result['fingerprint'] != first['fingerprint']
    assert any('2048 bits instead of 3072' in w for w in _warnings(result))
    assert _keys.fingerprint_of_public_pem(open(paths['public_key_path']).read()) == result['fingerprint']


def test_pkcs1_key_converted_to_pkcs8_keeping_the_key(run, paths):
    key = _keys.generate_private_key(SIZE)
    with open(paths['path'], 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    result = run()
    assert result['changed'] is True
    assert result['fingerprint'] == _keys.fingerprint(key)
    with open(paths['path'], 'rb') as f:
        assert f.read().startswith(b'-----BEGIN PRIVATE KEY-----')
    assert run()['changed'] is False


@pytest.mark.parametrize('content', [b'not a key\n', b'', b'-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'])
def test_bad_pem_fails_unless_force(run, paths, content):
    with open(paths['path'], 'wb') as f:
        f.write(content)
    result = run()
    assert result.failed
    assert result['msg'].startswith('path: ')
    assert 'force=true' in result['msg']
    assert 'Traceback' not in json.dumps(result)
    with open(paths['path'], 'rb') as f:
        assert f.read() == content
    assert not os.path.exists(paths['public_key_path'])

    forced = run(force=True)
    assert forced['changed'] is True
    with open(paths['path'], 'rb') as f:
        assert f.read().startswith(b'-----BEGIN PRIVATE KEY-----')


def test_encrypted_key_fails_with_reason(run, paths):
    key = _keys.generate_private_key(SIZE)
    with open(paths['path'], 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b'pw')))
    result = run()
    assert result.failed
    assert 'encrypted' in result['msg']


def test_force_always_regenerates(run, paths):
    first = run()
    forced = run(force=True)
    assert forced['changed'] is True
    assert forced['fingerprint'] != first['fingerprint']
    assert _keys.fingerprint_of_public_pem(open(paths['public_key_path']).read()) == forced['fingerprint']
    assert run()['changed'] is False


def test_state_absent(run, paths):
    run(certificate_path=paths['certificate_path'])
    check = run(state='absent', certificate_path=paths['certificate_path'], check_mode=True)
    assert check['changed'] is True
    assert len(os.listdir(paths['dir'])) == 3

    result = run(state='absent', certificate_path=paths['certificate_path'])
    assert result['changed'] is True
    assert os.listdir(paths['dir']) == []
    assert 'public_key' not in result

    assert run(state='absent', certificate_path=paths['certificate_path'])['changed'] is False
    assert run(state='absent', path=str(paths['dir'] / 'missing_dir' / 'key.pem'))['changed'] is False


def test_state_absent_only_public_key_left(run, paths):
    run()
    os.remove(paths['path'])
    assert run(state='absent')['changed'] is True
    assert os.listdir(paths['dir']) == []


def test_path_is_directory(run, paths):
    result = run(path=str(paths['dir']))
    assert result.failed
    assert result['msg'].startswith('path: ') and 'directory' in result['msg']
    result = run(state='absent', path=str(paths['dir']))
    assert result.failed and result['msg'].startswith('path: ')


def test_missing_parent_directory_named(run, paths):
    result = run(path=str(paths['dir'] / 'nope' / 'key.pem'))
    assert result.failed
    assert result['msg'].startswith('path: parent directory')
    result = run(public_key_path=str(paths['dir'] / 'nope' / 'key.pub'))
    assert result.failed
    assert result['msg'].startswith('public_key_path: parent directory')
    assert os.listdir(paths['dir']) == []  # the private key was not written either


def test_unwritable_directory_fails_before_writing(run, paths, monkeypatch):
    """Simulated with os.access, since the tests may run as root."""
    real_access = os.access
    cert_dir = str(paths['dir'] / 'certs')
    os.mkdir(cert_dir)
    monkeypatch.setattr(os, 'access', lambda p, m, **kw: False if p == cert_dir else real_access(p, m, **kw))
    result = run(certificate_path=os.path.join(cert_dir, 'c.pem'))
    assert result.failed
    assert result['msg'] == 'certificate_path: parent directory %s is not writable' % cert_dir
    assert os.listdir(paths['dir']) == ['certs']


@pytest.mark.skipif(os.geteuid() == 0, reason='root ignores directory permissions')
def test_unreadable_directory(run, paths):
    locked = paths['dir'] / 'locked'
    locked.mkdir()
    locked.chmod(0)
    try:
        result = run(path=str(locked / 'key.pem'))
    finally:
        locked.chmod(0o700)
    assert result.failed
    assert result['msg'].startswith('path: ')


def test_paths_must_differ(run, paths):
    result = run(public_key_path=paths['path'])
    assert result.failed
    assert result['msg'].startswith('public_key_path: must not be the same file as path')
    assert os.listdir(paths['dir']) == []


def test_certificate_option_validation(run, paths):
    result = run(certificate_path=paths['certificate_path'], days=0)
    assert result.failed and result['msg'].startswith('days: ')
    result = run(certificate_path=paths['certificate_path'], common_name='')
    assert result.failed and result['msg'].startswith('common_name: ')
    assert os.listdir(paths['dir']) == []


def test_diff_shows_facts_not_key_bytes(run, paths):
    check = run(check_mode=True, diff=True, certificate_path=paths['certificate_path'])
    assert check['diff']['before']['path'] == {'present': False}
    assert check['diff']['after']['path']['present'] is True
    assert check['diff']['after']['path']['size'] == SIZE

    first = run(diff=True, certificate_path=paths['certificate_path'])
    after = first['diff']['after']
    assert after['path'] == {'present': True, 'mode': '0600', 'format': 'pkcs8', 'valid': True, 'size': SIZE,
                             'fingerprint': first['fingerprint']}
    assert after['public_key_path'] == {'present': True, 'matches_private_key': True}
    assert after['certificate_path'] == {'present': True, 'matches_private_key': True}
    assert 'BEGIN' not in json.dumps(first['diff'])

    again = run(diff=True, certificate_path=paths['certificate_path'])
    assert again['changed'] is False
    assert again['diff']['before'] == again['diff']['after']

    gone = run(state='absent', diff=True, certificate_path=paths['certificate_path'])
    assert gone['diff']['before']['path']['fingerprint'] == first['fingerprint']
    assert gone['diff']['after'] == {name: {'present': False}
                                     for name in ('path', 'public_key_path', 'certificate_path')}


def test_missing_cryptography_reported(run, paths, monkeypatch):
    monkeypatch.setattr(_keys, 'HAS_CRYPTOGRAPHY', False)
    monkeypatch.setattr(_keys, 'CRYPTOGRAPHY_IMPORT_ERROR', 'ImportError: No module named cryptography')
    result = run()
    assert result.failed
    assert 'cryptography' in result['msg']
    assert os.listdir(paths['dir']) == []


# -- symlinks, kept modes, every option checked before writing, what was written -----------------------

@pytest.fixture
def elsewhere(tmp_path_factory):
    """A directory outside the task's, where a planted link points."""
    return tmp_path_factory.mktemp('elsewhere')


def _plant(paths, elsewhere, option):
    """A link at ``option``'s path to a file elsewhere (for ``path``: to nothing yet, a dangling link)."""
    target = elsewhere / ('victim-' + option)
    if option != 'path':
        target.write_bytes(b'someone else\'s file\n')
        os.chmod(target, 0o600)
    os.symlink(str(target), paths[option])
    return target


@pytest.mark.parametrize('option', ['path', 'public_key_path', 'certificate_path'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_symlink_never_written_through(run, paths, elsewhere, option, check_mode):
    if option != 'path':
        run(certificate_path=paths['certificate_path'])
        os.remove(paths[option])
    target = _plant(paths, elsewhere, option)
    before = sorted(os.listdir(paths['dir'])), target.read_bytes() if target.exists() else None
    result = run(certificate_path=paths['certificate_path'], check_mode=check_mode)
    assert result.failed and 'Traceback' not in json.dumps(result)
    assert result['msg'].startswith('%s: %s is a symbolic link (to %s)' % (option, paths[option], target))
    assert 'force=true' in result['msg']
    assert (sorted(os.listdir(paths['dir'])), target.read_bytes() if target.exists() else None) == before
    assert os.listdir(elsewhere) == ([target.name] if option != 'path' else [])


@pytest.mark.parametrize('option', ['path', 'public_key_path', 'certificate_path'])
def test_force_writes_through_the_symlink(run, paths, elsewhere, option):
    target = _plant(paths, elsewhere, option)
    result = run(certificate_path=paths['certificate_path'], force=True)
    assert not result.failed and result['changed'] is True
    assert os.path.islink(paths[option]) and os.path.realpath(paths[option]) == str(target)
    assert str(paths[option]) in result['written']
    if option == 'public_key_path':
        assert _keys.fingerprint_of_public_pem(target.read_text()) == result['fingerprint']
        assert _mode(target) == 0o600, 'the existing target keeps its mode'


def test_symlink_to_an_up_to_date_file_is_only_read(run, paths, elsewhere):
    run()
    real = elsewhere / 'real.pub'
    os.replace(paths['public_key_path'], real)
    os.symlink(str(real), paths['public_key_path'])
    snap = _snapshot(str(real))
    result = run()
    assert not result.failed and result['changed'] is False and result['written'] == []
    assert _snapshot(str(real)) == snap


def test_existing_public_key_and_certificate_keep_their_modes(run, paths):
    run(certificate_path=paths['certificate_path'])
    os.chmod(paths['public_key_path'], 0o600)
    os.chmod(paths['certificate_path'], 0o640)
    for name in ('public_key_path', 'certificate_path'):
        with open(paths[name], 'w') as f:
            f.write('edited\n')
    old = os.umask(0)
    try:
        result = run(certificate_path=paths['certificate_path'])
    finally:
        os.umask(old)
    assert result['changed'] is True
    assert result['written'] == [paths['public_key_path'], paths['certificate_path']]
    assert _mode(paths['public_key_path']) == 0o600
    assert _mode(paths['certificate_path']) == 0o640
    assert _keys.fingerprint_of_public_pem(open(paths['public_key_path']).read()) == result['fingerprint']


@pytest.mark.parametrize('args, option, message', [
    ({'days': 3000000}, 'days', 'the latest date X.509 can express'),
    ({'days': 10 ** 12}, 'days', 'the latest date X.509 can express'),
    ({'common_name': 'c' * 65}, 'common_name', 'is 65 characters long; X.509 (RFC 5280, ub-common-name) allows at '
                                               'most 64'),
])
@pytest.mark.parametrize('with_cert', [True, False])
@pytest.mark.parametrize('check_mode', [False, True])
def test_certificate_options_checked_before_anything_is_written(
        run, paths, args, option, message, with_cert, check_mode):
    if with_cert:
        args = dict(args, certificate_path=paths['certificate_path'])
    result = run(check_mode=check_mode, **args)
    assert result.failed and 'Traceback' not in json.dumps(result) and 'exception' not in result
    assert result['msg'].startswith(option + ': ') and message in result['msg']
    assert os.listdir(paths['dir']) == []


def test_longest_common_name_and_validity_are_accepted(run, paths):
    result = run(certificate_path=paths['certificate_path'], common_name='c' * 64, days=_keys.max_days() - 1)
    assert not result.failed
    cert = x509.load_pem_x509_certificate(open(paths['certificate_path'], 'rb').read())
    assert cert.subject.rfc4514_string() == 'CN=' + 'c' * 64
    assert _keys._not_after(cert).year == 9999


def test_written_lists_what_was_or_would_be_written(run, paths):
    planned = run(check_mode=True, certificate_path=paths['certificate_path'])
    assert planned['written'] == [paths['path'], paths['public_key_path'], paths['certificate_path']]
    assert os.listdir(paths['dir']) == []
    first = run(certificate_path=paths['certificate_path'])
    assert first['written'] == planned['written']
    assert run(certificate_path=paths['certificate_path'])['written'] == []
    os.remove(paths['public_key_path'])
    assert run(certificate_path=paths['certificate_path'])['written'] == [paths['public_key_path']]
    assert run(state='absent')['written'] == []


def test_failure_midway_reports_what_was_written(run, paths, monkeypatch):
    original = _io.write_file_atomic

    def full_disk(module, path, data, **kw):
        if path == paths['public_key_path']:
            raise OSError(28, 'No space left on device')
        return original(module, path, data, **kw)
    monkeypatch.setattr(_io, 'write_file_atomic', full_disk)
    result = run()
    assert result.failed and result['changed'] is True
    assert result['written'] == [paths['path']]
    assert result['msg'].startswith('public_key_path: cannot write %s: No space left on device'
                                    % paths['public_key_path'])
    assert 'already written: %s' % paths['path'] in result['msg']
