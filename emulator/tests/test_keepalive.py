"""HTTP/1.1 persistent connections, as Jira's front ends keep them: counted from the server's side (``peer``)."""
from __future__ import annotations

import datetime
import ipaddress
import socket
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jira_emulator import EmulatorServer

ALICE = ("alice", "alice-password")
IDLE = 0.3  # the idle timeout of the servers these tests start themselves


def _peers(emu, path="/rest/api/2/myself"):
    return [entry["peer"] for entry in emu.requests(path)]


def _raw(url):
    host, port = url.rsplit("//", 1)[1].split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _read_reply(sock_file):
    """One reply off a connection that may carry more (Content-Length framed, as the emulator's replies are)."""
    status = int(sock_file.readline().split()[1])
    headers = {}
    while (line := sock_file.readline()) not in (b"\r\n", b""):
        name, dummy, value = line.decode("latin-1").partition(":")
        headers[name.strip()] = value.strip()
    return status, headers, sock_file.read(int(headers.get("Content-Length", 0)))


def test_requests_on_one_session_share_one_connection(emulator):
    with requests.Session() as session:
        session.auth = ALICE
        replies = [session.post(emulator.url + "/rest/api/2/myself", json={}) for _i in range(3)]
        replies.append(session.get(emulator.url + "/rest/api/2/myself"))
    assert [r.status_code for r in replies] == [405, 405, 405, 200]
    peers = _peers(emulator)
    assert len(peers) == 4 and len(set(peers)) == 1, f"four requests, one connection: {peers}"
    assert all("Connection" not in r.headers for r in replies), [dict(r.headers) for r in replies]


def test_a_session_counts_one_connect(emulator, monkeypatch):
    """The client's view agrees: one TCP connect for several requests, control API included."""
    connects = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda sock, addr: connects.append(addr) or real_connect(sock, addr))
    with requests.Session() as session:
        for _i in range(3):
            assert session.get(emulator.url + "/rest/api/2/myself", auth=ALICE).status_code == 200
            assert session.get(emulator.url + "/_emulator/health").json() == {"ok": True}
    assert len(connects) == 1, connects


def test_a_clients_connection_close_is_honoured(emulator):
    with requests.Session() as session:
        first = session.get(emulator.url + "/rest/api/2/myself", auth=ALICE, headers={"Connection": "close"})
        second = session.get(emulator.url + "/rest/api/2/myself", auth=ALICE)
    assert first.headers["Connection"] == "close" and "Connection" not in second.headers
    assert len(set(_peers(emulator))) == 2, "the closed connection is not used again"
    sock = _raw(emulator.url)
    with sock, sock.makefile("rb") as sock_file:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, dummy = _read_reply(sock_file)
        assert status == 200 and headers["Connection"] == "close"
        assert sock.recv(1) == b"", "the server closes the connection after the reply"


def test_an_unread_body_is_consumed_before_the_next_request_is_parsed(emulator):
    """A reply that ignores the body (405 on a GET-only route) leaves it unread; the next request still parses."""
    body = b'{"pad": "' + b"x" * 70000 + b'"}'
    sock = _raw(emulator.url)
    with sock, sock.makefile("rb") as sock_file:
        sock.sendall(b"POST /_emulator/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                     + b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n"
                     + b"POST /rest/api/2/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + b"Authorization: Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=\r\n"
                     + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                     + b"GET /rest/api/2/myself HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=\r\n\r\n")
        statuses = [_read_reply(sock_file)[0] for _i in range(4)]
    assert statuses[:2] == [405, 200] and statuses[3] == 200, statuses
    search, myself = emulator.requests("/rest/api/2/search")[0], emulator.requests("/rest/api/2/myself")[0]
    assert search["body"].encode() == body and search["peer"] == myself["peer"]


def test_a_chunked_body_the_reply_ignores_is_consumed_too(emulator):
    """A chunked body has no length to skip by: the emulator reads every body, so the next request parses."""
    sock = _raw(emulator.url)
    with sock, sock.makefile("rb") as sock_file:
        sock.sendall(b"POST /_emulator/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n8\r\n{\"body\":\r\n5\r\n\"xy\"}\r\n0\r\n\r\n")
        assert _read_reply(sock_file)[0] == 405
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, dummy, body = _read_reply(sock_file)
    assert status == 200 and body == b'{"ok":true}\n'


def test_a_dropped_reply_closes_only_its_connection(emulator):
    emulator.fault("/rest/api/2/myself", kind="drop", times=1, skip=1)
    with requests.Session() as session:
        session.auth = ALICE
        assert session.get(emulator.url + "/rest/api/2/myself").status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(emulator.url + "/rest/api/2/myself")
        assert session.get(emulator.url + "/rest/api/2/myself").status_code == 200
    first, dropped, after = _peers(emulator)
    assert first == dropped != after, "the drop ended the kept-alive connection; the next request opened another"


@pytest.fixture(scope="module")
def short_idle():
    with EmulatorServer(idle_timeout=IDLE) as server:
        yield server


def test_an_idle_connection_is_closed_after_the_idle_timeout(short_idle):
    sock = _raw(short_idle.url)
    with sock, sock.makefile("rb") as sock_file:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, dummy = _read_reply(sock_file)
        assert status == 200 and "Connection" not in headers
        idle_from = time.monotonic()
        assert sock.recv(1) == b"", "the server closes an idle connection"
        idle = time.monotonic() - idle_from
    assert IDLE * 0.8 <= idle < IDLE + 2, f"closed after {idle:.2f} s idle, the timeout being {IDLE} s"


def test_a_connection_in_use_stays_open_past_the_idle_timeout(short_idle):
    """The timeout counts idle time, not the connection's age."""
    with requests.Session() as session:
        started = time.monotonic()
        while time.monotonic() - started < IDLE * 2:
            assert session.get(short_idle.url + "/rest/api/2/myself", auth=ALICE).status_code == 200
            time.sleep(IDLE / 6)
    peers = {entry["peer"] for entry in short_idle.state.requests if entry["path"] == "/rest/api/2/myself"}
    short_idle.state.reset()
    assert len(peers) == 1, peers


def _cert(subject, key, issuer, issuer_key, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _tls_files(directory):
    """A test CA (the client's trust) and a server certificate for 127.0.0.1 that it signed."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keep-alive test CA")])
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    leaf = _cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), key, ca_name, ca_key, ca=False)
    paths = {name: str(directory / f"{name}.pem") for name in ("ca", "cert", "key")}
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return paths


def test_https_keeps_connections_alive_too(tmp_path):
    tls = _tls_files(tmp_path)
    with EmulatorServer(ssl_context=(tls["cert"], tls["key"]), idle_timeout=IDLE) as server, \
            requests.Session() as session:
        assert server.url.startswith("https://")
        session.trust_env = False  # else REQUESTS_CA_BUNDLE, where set, wins over session.verify
        session.verify = tls["ca"]
        replies = [session.get(server.url + "/rest/api/2/myself", auth=ALICE) for _i in range(3)]
        assert [r.json()["name"] for r in replies] == ["alice"] * 3
        assert all("Connection" not in r.headers for r in replies)
        peers = [e["peer"] for e in server.state.requests]
        assert len(peers) == 3 and len(set(peers)) == 1, peers
        time.sleep(IDLE * 2.5)  # idle past the timeout: the next request finds the connection closed
        assert session.get(server.url + "/rest/api/2/myself", auth=ALICE).status_code == 200
        assert len({e["peer"] for e in server.state.requests}) == 2
