# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import datetime
import hashlib
import textwrap

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.jiraops.integration.plugins.module_utils import _keys
from ansible_collections.jiraops.integration.plugins.module_utils._keys import KeyMaterialError


@pytest.fixture(scope='module')
def key():
    return _keys.generate_private_key(2048)


@pytest.fixture(scope='module')
def other_key():
    return _keys.generate_private_key(2048)


def _pkcs1(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def test_cryptography_available():
    assert _keys.HAS_CRYPTOGRAPHY is True
    assert _keys.CRYPTOGRAPHY_IMPORT_ERROR is None


def test_error_is_a_value_error():
    assert issubclass(KeyMaterialError, ValueError)


@pytest.mark.parametrize('size', [512, 1024, 2047])
def test_small_sizes_refused_with_reason(size):
    with pytest.raises(KeyMaterialError) as exc:
        _keys.generate_private_key(size)
    assert '2048' in str(exc.value)
    assert 'NIST' in str(exc.value)


@pytest.mark.parametrize('size', [16385, '2048', True, None])
def test_other_bad_sizes_refused(size):
    with pytest.raises(KeyMaterialError):
        _keys.check_key_size(size)


def test_generate_and_pkcs8_roundtrip(key):
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537
    pem = _keys.private_key_pem(key)
    assert isinstance(pem, bytes)
    assert pem.startswith(b'-----BEGIN PRIVATE KEY-----\n')
    assert _keys.private_key_format(pem) == 'pkcs8'
    loaded = _keys.load_private_key(pem)
    assert loaded.private_numbers() == key.private_numbers()
    assert _keys.load_private_key(pem.decode('ascii')).key_size == 2048


def test_load_pkcs1(key):
    pem = _pkcs1(key)
    assert _keys.private_key_format(pem) == 'pkcs1'
    assert _keys.fingerprint(_keys.load_private_key(pem)) == _keys.fingerprint(key)


@pytest.mark.parametrize('data, fragment', [
    (b'', 'not a PEM private key'),
    (b'hello world', 'not a PEM private key'),
    (b'-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n', 'could not be parsed'),
    (b'-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n', 'OpenSSH'),
    (b'-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'found "CERTIFICATE"'),
])
def test_load_private_key_bad_input(data, fragment):
    with pytest.raises(KeyMaterialError) as exc:
        _keys.load_private_key(data)
    assert fragment in str(exc.value)
    assert 'PRIVATE KEY' not in str(exc.value)


def test_load_private_key_public_key_given(key):
    with pytest.raises(KeyMaterialError, match='found "PUBLIC KEY"'):
        _keys.load_private_key(_keys.public_key_pem(key))


def test_load_private_key_encrypted_pkcs8(key):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(b'secret'))
    with pytest.raises(KeyMaterialError, match='encrypted'):
        _keys.load_private_key(pem)


def test_load_private_key_encrypted_pkcs1(key):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.BestAvailableEncryption(b'secret'))
    assert b'Proc-Type: 4,ENCRYPTED' in pem
    with pytest.raises(KeyMaterialError, match='encrypted'):
        _keys.load_private_key(pem)


def test_load_private_key_not_rsa():
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(KeyMaterialError, match='EC key.*RSA'):
        _keys.load_private_key(ec_pem)


def test_error_messages_never_contain_key_bytes(key):
    pem = _keys.private_key_pem(key)
    broken = pem.replace(b'MII', b'XXX', 1)
    with pytest.raises(KeyMaterialError) as exc:
        _keys.load_private_key(broken)
    body = b''.join(pem.splitlines()[1:-1]).decode('ascii')
    assert body[10:40] not in str(exc.value)
    assert 'PRIVATE KEY' not in str(exc.value)


def test_public_key_pem_and_oneline(key):
    pem = _keys.public_key_pem(key)
    assert pem.startswith('-----BEGIN PUBLIC KEY-----\n')
    assert pem.endswith('-----END PUBLIC KEY-----\n')
    assert _keys.public_key_pem(key.public_key()) == pem
    oneline = _keys.public_key_oneline(key)
    assert '\n' not in oneline and '-----' not in oneline
    assert oneline == ''.join(pem.strip().splitlines()[1:-1])
    assert _keys.public_key_oneline(pem) == oneline


def test_fingerprint_is_sha256_of_spki_der_with_colons(key):
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256(der).hexdigest()
    fp = _keys.fingerprint(key)
    assert fp.replace(':', '') == digest
    assert len(fp) == 32 * 3 - 1
    assert fp == fp.lower()
    assert _keys.fingerprint(key.public_key()) == fp
    assert _keys.fingerprint_of_public_pem(_keys.public_key_pem(key)) == fp


def test_normalize_public_key_accepts_all_spellings(key):
    pem = _keys.public_key_pem(key)
    oneline = _keys.public_key_oneline(key)
    pkcs1_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.PKCS1).decode('ascii')
    wrapped = '\n'.join(textwrap.wrap(oneline, 64))
    for spelling in (pem, pem.encode('ascii'), pem.replace('\n', '\r\n'), '  %s  \n' % pem, oneline,
                     ' %s\n' % oneline, wrapped, pkcs1_pem):
        assert _keys.normalize_public_key(spelling) == pem


def test_pkcs1_der_body_accepted(key):
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert _keys.normalize_public_key(base64.b64encode(der)) == _keys.public_key_pem(key)


@pytest.mark.parametrize('value, fragment', [
    ('', 'empty'),
    ('not base64 at all!', 'neither PEM nor'),
    (base64.b64encode(b'garbage').decode(), 'could not be parsed'),
    ('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'found "CERTIFICATE"'),
    ('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'could not be parsed'),
])
def test_normalize_public_key_bad_input(value, fragment):
    with pytest.raises(KeyMaterialError) as exc:
        _keys.normalize_public_key(value)
    assert fragment in str(exc.value)


def test_normalize_public_key_refuses_private_key(key):
    with pytest.raises(KeyMaterialError, match='private key was given'):
        _keys.normalize_public_key(_keys.private_key_pem(key))
    with pytest.raises(KeyMaterialError, match='private key was given'):
        _keys.normalize_public_key(_pkcs1(key))


def test_normalize_public_key_refuses_non_rsa():
    pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyMaterialError, match='EC key'):
        _keys.normalize_public_key(pub)


def test_normalize_public_key_rejects_non_text():
    with pytest.raises(KeyMaterialError):
        _keys.normalize_public_key(12345)


def test_public_key_matches(key, other_key):
    assert _keys.public_key_matches(key, _keys.public_key_pem(key)) is True
    assert _keys.public_key_matches(key, _keys.public_key_oneline(key)) is True
    assert _keys.public_key_matches(key, _keys.public_key_pem(other_key)) is False
    assert _keys.public_key_matches(key, b'garbage') is False
    assert _keys.public_key_matches(key, None) is False


def test_self_signed_certificate(key):
    pem = _keys.generate_self_signed_certificate(key, 'ci.example.com', 30)
    cert = x509.load_pem_x509_certificate(pem.encode('ascii'))
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == 'CN=ci.example.com'
    assert _keys.fingerprint(cert.public_key()) == _keys.fingerprint(key)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    if hasattr(cert, 'not_valid_after_utc'):  # cryptography >= 42
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    else:
        lifetime = cert.not_valid_after - cert.not_valid_before
    assert lifetime == datetime.timedelta(days=30)
    assert _keys.certificate_matches(key, pem, common_name='ci.example.com')
    facts = _keys.certificate_facts(cert)
    assert facts['common_name'] == 'ci.example.com'
    assert facts['public_key_fingerprint'] == _keys.fingerprint(key)


@pytest.mark.parametrize('cn, days', [('', 1), ('x', 0), ('x', -3), ('x', '5')])
def test_certificate_bad_parameters(key, cn, days):
    with pytest.raises(KeyMaterialError):
        _keys.generate_self_signed_certificate(key, cn, days)


def test_certificate_problems(key, other_key):
    good = _keys.generate_self_signed_certificate(key, 'jiraops', 10)
    assert _keys.certificate_problem(key, good, common_name='jiraops') is None
    assert _keys.certificate_problem(key, good) is None
    assert _keys.certificate_problem(key, None) == 'missing'
    assert 'not a PEM certificate' in _keys.certificate_problem(key, b'junk')
    assert 'different key' in _keys.certificate_problem(
        key, _keys.generate_self_signed_certificate(other_key, 'jiraops', 10))
    assert 'common name' in _keys.certificate_problem(key, good, common_name='other')
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=11)
    assert 'expired' in _keys.certificate_problem(key, good, now=later)
    assert _keys.certificate_matches(key, good, now=later) is False


def test_certificate_for_key_but_signed_by_another_is_refused(key, other_key):
    """A certificate carrying our public key but issued by someone else is not our self-signed certificate."""
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, 'jiraops')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(other_key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    assert 'not self-signed' in _keys.certificate_problem(key, pem)


def test_import_guard_reports_missing_cryptography(monkeypatch):
    """Without cryptography the module_util still imports and says so, like community.crypto."""
    import builtins
    import importlib
    import sys

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == 'cryptography' or name.startswith('cryptography.'):
            raise ImportError('No module named %r' % name)
        return real_import(name, *args, **kwargs)

    module_name = _keys.__name__
    package = sys.modules[module_name.rpartition('.')[0]]
    # Re-importing rebinds the package attribute too: have monkeypatch restore both, or later tests get the stub.
    monkeypatch.setattr(package, '_keys', _keys)
    monkeypatch.delitem(sys.modules, module_name)
    monkeypatch.setattr(builtins, '__import__', fake_import)
    fresh = importlib.import_module(module_name)
    monkeypatch.setattr(builtins, '__import__', real_import)
    assert fresh is not _keys
    assert fresh.HAS_CRYPTOGRAPHY is False
    assert 'cryptography' in fresh.CRYPTOGRAPHY_IMPORT_ERROR


def test_import_guard_test_restored_the_real_module():
    import sys

    from ansible_collections.jiraops.integration.plugins.module_utils import _keys as again
    assert again is _keys is sys.modules[_keys.__name__]
    assert again.HAS_CRYPTOGRAPHY is True


def test_generated_keys_are_distinct(key, other_key):
    assert isinstance(key, rsa.RSAPrivateKey)
    assert _keys.fingerprint(key) != _keys.fingerprint(other_key)


# -- certificate inputs that X.509 cannot hold are KeyMaterialError, not a crash -------------------------

@pytest.mark.parametrize('days', [3000000, 10 ** 12])
def test_validity_past_the_last_x509_date_is_refused(days):
    key = _keys.generate_private_key(2048)
    with pytest.raises(_keys.KeyMaterialError) as err:
        _keys.generate_self_signed_certificate(key, 'jiraops', days)
    assert 'the latest date X.509 can express' in str(err.value)


def test_common_name_over_64_characters_is_refused():
    key = _keys.generate_private_key(2048)
    with pytest.raises(_keys.KeyMaterialError) as err:
        _keys.generate_self_signed_certificate(key, 'c' * 65, 365)
    assert str(err.value) == ('the certificate common name is 65 characters long; X.509 (RFC 5280, ub-common-name) '
                              'allows at most 64')
