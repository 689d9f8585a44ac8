"""A small HTTP server on loopback that plays the hostile side: another host that records what reaches it, and
replies no Jira sends (dripping, oversized, gzip bombs, corrupt or truncated bodies, bad chunk lengths).

It writes raw bytes to the socket, so it can send what a real HTTP server library would refuse to.
"""
from __future__ import annotations

import functools
import gzip
import json
import os
import socket
import threading
import time
import zlib


def _status_line(status):
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found"}
    return f"HTTP/1.1 {status} {reasons.get(status, 'Status')}\r\n".encode()


def head(status=200, headers=None, length=None):
    """A status line and headers; ``length`` sets Content-Length (None: none, the body ends at close)."""
    lines = [_status_line(status)]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}\r\n".encode())
    if length is not None:
        lines.append(f"Content-Length: {length}\r\n".encode())
    lines.append(b"Connection: close\r\n\r\n")
    return b"".join(lines)


def json_reply(payload, status=200):
    body = json.dumps(payload).encode()
    return [head(status, {"Content-Type": "application/json"}, len(body)) + body]


def drip(size=40, interval=2.0):
    """``size`` bytes of JSON, one every ``interval`` seconds (each read gets a byte before a per-read timeout)."""
    body = (b'"' + b"x" * (size - 2) + b'"')
    return [head(200, {"Content-Type": "application/json"}, size)] + [x for b in body for x in (bytes([b]), interval)]


def drip_headers(interval=2.0):
    """Status line and headers one byte every ``interval`` seconds: no single read waits long enough to time out."""
    for byte in head(200, {"Content-Type": "application/json", "X-Pad": "y" * 8}, 2) + b"{}":
        yield bytes([byte])
        yield interval


def oversized(size, chunk=1024 * 1024):
    """A JSON string reply of ``size`` bytes, made as it is sent (the server must not hold it all either)."""
    yield head(200, {"Content-Type": "application/json"}, size) + b'"'
    block = b"x" * chunk
    left = size - 2
    while left > 0:
        yield block[:min(chunk, left)]
        left -= chunk
    yield b'"'


@functools.lru_cache(maxsize=None)
def bomb_body(megabytes=200):
    """gzip of ``megabytes`` MiB of spaces (about 200 KB): decompressed whole it would be 200 MiB."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    out = [comp.compress(b'"')]
    out += [comp.compress(block) for _megabyte in range(megabytes)]
    out.append(comp.compress(b'"') + comp.flush())
    return b"".join(out)


def gzip_bomb(megabytes=200):
    body = bomb_body(megabytes)
    return [head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, len(body)), body]


def bad_gzip():
    body = b"\x1f\x8b\x08\x00this is not deflate data at all" * 4
    return [head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, len(body)), body]


def truncated_gzip():
    whole = gzip.compress(json.dumps({"name": os.urandom(3000).hex()}).encode())
    body = whole[:len(whole) // 2]
    return [head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, None), body]


def truncated():
    """Content-Length promises 1000 bytes; 20 arrive, then the connection closes."""
    return [head(200, {"Content-Type": "application/json"}, 1000), b'{"name": "alice", "x']


def bad_chunk():
    return [head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}),
            b"5\r\n{\"a\":\r\nzz-not-hex\r\n1}\r\n0\r\n\r\n"]


def deep_json(depth=100_000):
    body = b"[" * depth + b"]" * depth
    return [head(200, {"Content-Type": "application/json"}, len(body)), body]


def html(status=200):
    body = b"<html><head><title>Log in</title></head><body>Single sign-on</body></html>"
    return [head(status, {"Content-Type": "text/html;charset=UTF-8"}, len(body)), body]


class CaptureServer:
    """Loopback HTTP server; ``reply(request)`` returns the steps (bytes to send, or seconds to wait)."""

    def __init__(self, reply=None):
        self.reply = reply or (lambda request: json_reply({"captured": True}))
        self.requests = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._sock.close()

    def _serve(self):
        while not self._stop:
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                request = self._read_request(conn)
            except (OSError, ValueError):
                return
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            try:
                for step in self.reply(request):
                    if isinstance(step, (int, float)):
                        time.sleep(step)
                    else:
                        conn.sendall(step)
            except OSError:
                return  # the client gave up, as it should

    @staticmethod
    def _read_request(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        header, body = data.split(b"\r\n\r\n", 1)
        lines = header.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _sep, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return {"method": method, "path": target, "headers": headers, "body": body.decode("utf-8", "replace")}

    def seen(self, *secrets):
        """How many of ``secrets`` occur in anything that reached here (callers pass the encoded forms too)."""
        blob = json.dumps(self.requests)
        return sum(1 for s in secrets if s and s in blob)


class DrippingHandshake(CaptureServer):
    """A loopback server that plays the TLS side: each ClientHello is answered with ``reply``'s steps (bytes to
    send, or seconds to wait), as CaptureServer answers an HTTP request; ``requests`` records each hello."""

    def __init__(self, reply):
        super().__init__(reply)
        self.url = f"https://127.0.0.1:{self.port}"

    @staticmethod
    def _read_request(conn):
        hello = conn.recv(65536)
        return {"tls_record": hello[:1] == b"\x16"} if hello else None  # 0x16: a handshake record


def drip_handshake(count=10, interval=0.6):
    """The first ``count`` bytes of a 16 KiB TLS 1.2 handshake record that never completes, one every ``interval``
    seconds: no single read waits long enough to time out."""
    for byte in (b"\x16\x03\x03\x40\x00" + b"\x02" * 0x4000)[:count]:
        yield bytes([byte])
        yield interval
