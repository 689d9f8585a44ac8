# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RSA key material for Jira OAuth 1.0a application links, built on ``cryptography``.

Jira signs nothing itself: the consumer (this collection) signs requests with an RSA private key and Jira
verifies them with the public key pasted into the application link.  These helpers generate, load, compare
and fingerprint that key material.  They never log or return private key bytes, and every failure is a
:class:`KeyMaterialError` whose message can be shown to a user as is.

Fingerprints are the SHA-256 digest of the DER SubjectPublicKeyInfo as lowercase hex pairs separated by
colons, the same string ``openssl pkey -pubin -outform DER | openssl dgst -sha256 -c`` prints, so they can
be checked against the files with stock tools.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re
import traceback

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

MIN_KEY_SIZE = 2048
# Generating larger keys takes minutes and no Jira deployment needs them; the cap keeps a typo from hanging a play.
MAX_KEY_SIZE = 16384
DEFAULT_KEY_SIZE = 3072
PUBLIC_EXPONENT = 65537

# RFC 5280: ub-common-name is 64 characters, and 9999-12-31 23:59:59 UTC is the latest time X.509 can express.
MAX_COMMON_NAME_LENGTH = 64
_LAST_X509_TIME = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)

_PEM_BEGIN = re.compile(rb'-----BEGIN ([A-Z0-9 ]+)-----')


class KeyMaterialError(ValueError):
    """Key material is unusable; the message says why and never contains key bytes (nor PEM private key labels,
    so that results can be scanned for leaked private keys)."""


def _to_bytes(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode('utf-8')
    raise KeyMaterialError('expected PEM text, got %s' % type(value).__name__)


def _pem_labels(data):
    return [m.group(1).decode('ascii') for m in _PEM_BEGIN.finditer(data)]


def _key_kind(key):
    """Human name of a key type for error messages."""
    for kind, classes in (
        ('RSA', (rsa.RSAPrivateKey, rsa.RSAPublicKey)),
        ('EC', (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)),
        ('DSA', (dsa.DSAPrivateKey, dsa.DSAPublicKey)),
        ('Ed25519', (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)),
        ('Ed448', (ed448.Ed448PrivateKey, ed448.Ed448PublicKey)),
    ):
        if isinstance(key, classes):
            return kind
    return type(key).__name__


def check_key_size(size):
    """Raise unless ``size`` is an RSA modulus length this collection is willing to generate."""
    if not isinstance(size, int) or isinstance(size, bool):
        raise KeyMaterialError('size must be an integer number of bits, got %r' % (size,))
    if size < MIN_KEY_SIZE:
        raise KeyMaterialError(
            'an RSA key of %d bits is too small: at least %d bits are required. NIST SP 800-131A disallows '
            'shorter RSA keys for signatures (OAuth 1.0a RSA-SHA1 signs every request with this key), and Jira '
            'application links accept keys of 2048 bits and more.' % (size, MIN_KEY_SIZE))
    if size > MAX_KEY_SIZE:
        raise KeyMaterialError('an RSA key of %d bits is too large: at most %d bits are supported (generation would '
                               'take far too long, and Jira does not need it).' % (size, MAX_KEY_SIZE))


def generate_private_key(size=DEFAULT_KEY_SIZE):
    """A fresh RSA private key of ``size`` bits with the usual public exponent 65537."""
    check_key_size(size)
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=size)


def private_key_pem(private_key):
    """Unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``), as bytes: it is only meant for a 0600 file."""
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def private_key_format(data):
    """``'pkcs8'``, ``'pkcs1'`` or None, from the PEM label only: tells whether a valid key needs rewriting."""
    labels = _pem_labels(_to_bytes(data))
    if not labels:
        return None
    return {'PRIVATE KEY': 'pkcs8', 'RSA PRIVATE KEY': 'pkcs1'}.get(labels[0])


def load_private_key(data):
    """Parse an unencrypted RSA private key from PKCS#8 or PKCS#1 PEM.

    Distinguishes the usual mistakes (not PEM, encrypted, OpenSSH format, public key or certificate instead of a
    private key, non-RSA key) so that the user learns what is wrong with the file instead of "could not deserialize".
    """
    data = _to_bytes(data)
    labels = _pem_labels(data)
    if not labels:
        raise KeyMaterialError('not a PEM private key (no PEM "-----BEGIN" line found)')
    label = labels[0]
    if label == 'ENCRYPTED PRIVATE KEY' or b'Proc-Type: 4,ENCRYPTED' in data:
        raise KeyMaterialError('the private key is encrypted with a passphrase; passphrase-protected keys are not '
                               'supported, provide an unencrypted PKCS#8 key')
    if label == 'OPENSSH PRIVATE KEY':
        raise KeyMaterialError('the private key is in OpenSSH format; convert it to PKCS#8 '
                               '(ssh-keygen -p -m PKCS8 -f FILE) or let the module generate a new one')
    if 'PRIVATE KEY' not in label:
        raise KeyMaterialError('expected a PEM private key but found "%s"' % label)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyMaterialError('the private key is encrypted with a passphrase; passphrase-protected keys are not '
                               'supported, provide an unencrypted PKCS#8 key') from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyMaterialError('the PEM private key could not be parsed (%s)' % _short_reason(exc)) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyMaterialError('the private key is a %s key, but Jira OAuth 1.0a needs an RSA key' % _key_kind(key))
    return key


def _short_reason(exc):
    """First line of a cryptography error: the long OpenSSL error stacks do not help users."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _public(key):
    return key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key


def public_key_der(key):
    """DER SubjectPublicKeyInfo of a private or public RSA key."""
    return _public(key).public_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def public_key_pem(key):
    """PEM SubjectPublicKeyInfo (``-----BEGIN PUBLIC KEY-----``) of a private or public RSA key, as text."""
    return _public(key).public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode('ascii')


def public_key_oneline(key):
    """The PEM body on a single line without header/footer: what Jira's application link form expects.

    Accepts a key object or anything :func:`load_public_key` accepts.
    """
    if isinstance(key, (str, bytes)):
        key = load_public_key(key)
    return base64.b64encode(public_key_der(key)).decode('ascii')


def fingerprint(key):
    """SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex with colons (``openssl dgst -sha256 -c`` style)."""
    digest = hashlib.sha256(public_key_der(key)).hexdigest()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def load_public_key(value):
    """Parse an RSA public key given as PEM (SubjectPublicKeyInfo or PKCS#1) or as a bare base64 body.

    The base64 form may be wrapped over several lines, as copied from a PEM file or from Jira's form.  A private key
    is refused explicitly: pasting one where a public key belongs is the mistake that matters most.
    """
    data = _to_bytes(value).strip()
    if not data:
        raise KeyMaterialError('the public key is empty')
    labels = _pem_labels(data)
    if labels:
        label = labels[0]
        if 'PRIVATE KEY' in label:
            raise KeyMaterialError('a private key was given where a public key is expected; pass the public key')
        if label not in ('PUBLIC KEY', 'RSA PUBLIC KEY'):
            raise KeyMaterialError('expected a PEM public key but found "%s"' % label)
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyMaterialError('the "%s" PEM block could not be parsed as a public key (%s)'
                                   % (label, _short_reason(exc))) from None
    else:
        if b'PRIVATE KEY' in data:
            raise KeyMaterialError('a private key was given where a public key is expected; pass the public key')
        body = b''.join(data.split())
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise KeyMaterialError('the public key is neither PEM nor a base64 SubjectPublicKeyInfo body') from None
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyMaterialError('the base64 public key body could not be parsed (%s)' % _short_reason(exc)) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyMaterialError('the public key is a %s key, but Jira OAuth 1.0a needs an RSA key' % _key_kind(key))
    return key


def normalize_public_key(value):
    """Canonical PEM SubjectPublicKeyInfo text for a public key given as PEM or base64 body.

    Two spellings of the same key normalize to the same string, so callers can compare keys by string equality.
    """
    return public_key_pem(load_public_key(value))


def fingerprint_of_public_pem(pem):
    """Fingerprint (see :func:`fingerprint`) of a public key given in any form :func:`load_public_key` accepts."""
    return fingerprint(load_public_key(pem))


def _same_public_key(a, b):
    return public_key_der(a) == public_key_der(b)


def public_key_matches(private_key, data):
    """True if ``data`` is a readable public key belonging to ``private_key``; garbage simply does not match."""
    if data is None:
        return False
    try:
        return _same_public_key(private_key, load_public_key(data))
    except KeyMaterialError:
        return False


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)  # cryptography >= 42
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def check_common_name(common_name):
    """Raise unless ``common_name`` fits an X.509 subject common name, so no key is written before a failure."""
    if not isinstance(common_name, str) or not common_name:
        raise KeyMaterialError('must not be empty')
    if len(common_name) > MAX_COMMON_NAME_LENGTH:
        raise KeyMaterialError('is %d characters long; X.509 (RFC 5280, ub-common-name) allows at most %d'
                               % (len(common_name), MAX_COMMON_NAME_LENGTH))


def max_days(now=None):
    """The longest validity, in days from ``now``, that still ends by the last time X.509 can express."""
    return (_LAST_X509_TIME - (now or _utcnow())).days


def check_days(days, now=None):
    """Raise unless a certificate valid ``days`` days from ``now`` can be expressed in X.509."""
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise KeyMaterialError('must be at least 1, got %r' % (days,))
    limit = max_days(now)
    if days > limit:
        raise KeyMaterialError('%d days would end the certificate after %s, the latest date X.509 can express; '
                               'at most %d days from now' % (days, _LAST_X509_TIME.date().isoformat(), limit))


def generate_self_signed_certificate(private_key, common_name, days, now=None):
    """A self-signed X.509 certificate (PEM text) for ``private_key``, valid ``days`` days from now.

    Some OAuth 1.0a consumers load the signing key through a certificate; Jira itself only needs the public key.
    """
    now = now or _utcnow()
    try:
        check_common_name(common_name)
    except KeyMaterialError as exc:
        raise KeyMaterialError('the certificate common name %s' % exc) from None
    try:
        check_days(days, now)
    except KeyMaterialError as exc:
        raise KeyMaterialError('the certificate validity %s' % exc) from None
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    public = private_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
    )
    cert = builder.sign(private_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


def load_certificate(data):
    """Parse a PEM X.509 certificate."""
    data = _to_bytes(data)
    labels = _pem_labels(data)
    if not labels or labels[0] != 'CERTIFICATE':
        raise KeyMaterialError('not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line found)')
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise KeyMaterialError('the certificate could not be parsed (%s)' % _short_reason(exc)) from None


def _common_name(cert):
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return attrs[0].value if attrs else None


def certificate_facts(cert):
    """What can be shown about a certificate without any secret: CN, expiry, key fingerprint."""
    cert_key = cert.public_key()
    return {
        'common_name': _common_name(cert),
        'not_after': _not_after(cert).isoformat(),
        'public_key_fingerprint': fingerprint(cert_key) if isinstance(cert_key, rsa.RSAPublicKey) else None,
    }


def certificate_problem(private_key, data, common_name=None, now=None):
    """Why the certificate in ``data`` is not a valid self-signed certificate for ``private_key``, or None if it is.

    Checked: parses, carries the key's public key, is signed by the key, has subject CN ``common_name`` (when given)
    and has not expired.  The validity length is deliberately not compared (like community.crypto's default
    ``ignore_timestamps``), so changing ``days`` does not churn a certificate that is still valid.
    """
    if data is None:
        return 'missing'
    try:
        cert = load_certificate(data)
    except KeyMaterialError as exc:
        return str(exc)
    cert_key = cert.public_key()
    if not isinstance(cert_key, rsa.RSAPublicKey) or not _same_public_key(private_key, cert_key):
        return 'the certificate is for a different key'
    try:
        private_key.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                                        cert.signature_hash_algorithm)
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        return 'the certificate is not self-signed by the key'
    if common_name is not None and _common_name(cert) != common_name:
        return 'the certificate common name is %r, not %r' % (_common_name(cert), common_name)
    if _not_after(cert) <= (now or _utcnow()):
        return 'the certificate expired on %s' % _not_after(cert).isoformat()
    return None


def certificate_matches(private_key, data, common_name=None, now=None):
    """Boolean form of :func:`certificate_problem`."""
    return certificate_problem(private_key, data, common_name=common_name, now=now) is None
