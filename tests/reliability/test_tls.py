"""TLS: validate_certs is on by default; against an HTTPS emulator with a CA made here, ca_path (or JIRA_CA_PATH)
makes the call work and its absence fails with a message that says what to do."""
from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jira_emulator import EmulatorServer

from reliability_support import REPORT, has_traceback, run_module


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(ca_key, ca_cert):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            # Python 3.13+ verifies strictly (VERIFY_X509_STRICT): key identifiers are required.
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def https(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert = _ca("jiraops test CA")
    key, cert = _leaf(ca_key, ca_cert)
    other_ca = _ca("some other CA")[1]
    (d / "ca.pem").write_bytes(_pem_cert(ca_cert))
    (d / "other-ca.pem").write_bytes(_pem_cert(other_ca))
    (d / "server.pem").write_bytes(_pem_cert(cert))
    (d / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    server = EmulatorServer(ssl_context=(str(d / "server.pem"), str(d / "server.key"))).start()
    yield {"url": server.url, "dir": d, "server": server}
    server.stop()


def _short(msg):
    """The message up to the TLS library's detail, which varies between OpenSSL versions."""
    head, dummy, rest = msg.partition(" (")
    return head + ("; " + rest.split("); ", 1)[1] if "); " in rest else "")


def _args(url, **kw):
    args = {"url": url, "path": "/rest/api/2/myself", "username": "alice", "password": "alice-password",
            "max_retries": 0, "timeout": 5}
    args.update(kw)
    return args


def test_validate_certs_defaults_to_true():
    from ansible_collections.jiraops.integration.plugins.module_utils._options import connection_argspec
    assert connection_argspec()["validate_certs"]["default"] is True


CASES = [
    # id, extra args, env, expected ("ok" or a message fragment)
    ("no ca_path (default validate_certs)", {}, {}, "TLS verification failed"),
    ("ca_path = the test CA", {"ca_path": "{dir}/ca.pem"}, {}, "ok"),
    ("JIRA_CA_PATH = the test CA", {}, {"JIRA_CA_PATH": "{dir}/ca.pem"}, "ok"),
    ("ca_path = another CA", {"ca_path": "{dir}/other-ca.pem"}, {}, "TLS verification failed"),
    ("host name not in the certificate", {"ca_path": "{dir}/ca.pem", "url": "{localhost}"}, {},
     "TLS verification failed"),
    ("validate_certs=false", {"validate_certs": False}, {}, "ok"),
]


@pytest.mark.parametrize("case, extra, env, expected", CASES, ids=[c[0] for c in CASES])
def test_tls(https, case, extra, env, expected):
    localhost = https["url"].replace("127.0.0.1", "localhost")

    def fill(value):
        if isinstance(value, str):
            return value.replace("{dir}", str(https["dir"])).replace("{localhost}", localhost)
        return value

    args = _args(https["url"])
    args.update({k: fill(v) for k, v in extra.items()})
    outcome = run_module("api", args, env={k: fill(v) for k, v in env.items()})
    result = "ok" if outcome.ok else "failed"
    REPORT.add("tls", case=case, expected="ok" if expected == "ok" else "fails clearly", result=result,
               msg=_short(outcome.msg) if outcome.failed else f"signed in as {outcome.result['json']['name']}")
    assert not has_traceback(outcome), outcome.traceback or outcome.result
    if expected == "ok":
        assert outcome.ok, outcome.msg
        assert outcome.result["json"]["name"] == "alice"
    else:
        assert outcome.failed
        assert expected in outcome.msg and "ca_path" in outcome.msg, outcome.msg
        assert "alice-password" not in outcome.msg
