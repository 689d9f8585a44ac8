"""Reliability rows for ``rsa_keypair``: malformed key files and options; existing files must stay untouched."""
from __future__ import annotations

import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from reliability_support import BadInput

_CACHE = {}


def _rsa(bits):
    if bits not in _CACHE:
        _CACHE[bits] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _CACHE[bits]


def _pem(key, fmt=serialization.PrivateFormat.PKCS8, enc=None):
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc or serialization.NoEncryption())


def _key_file(data_func):
    def setup(ctx):
        ctx.write("key.pem", data_func(), 0o600)
    return setup


def _garbage():
    return b"just some notes, not a key\n"


def _binary():
    return bytes(range(255, -1, -1)) * 8


def _ec():
    return _pem(ec.generate_private_key(ec.SECP256R1()))


def _ed25519():
    return _pem(ed25519.Ed25519PrivateKey.generate())


def _encrypted():
    return _pem(_rsa(2048), enc=serialization.BestAvailableEncryption(b"passphrase-123"))


def _openssh():
    return _pem(_rsa(2048), fmt=serialization.PrivateFormat.OpenSSH)


def _public_only():
    public = _rsa(2048).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _truncated():
    return _pem(_rsa(2048))[:400] + b"\n-----END PRIVATE KEY-----\n"


def _fifo(ctx):
    os.mkfifo(ctx.path("key.pem"))


def _dir(ctx):
    os.mkdir(ctx.path("key.pem"))


def _pub_dir(ctx):
    os.mkdir(ctx.path("pub"))


def _file_as_parent(ctx):
    ctx.write("notadir", b"x")


def _readonly_dir(ctx):
    os.mkdir(ctx.path("ro"), 0o555)


def _planted_link(option_file, existing):
    """A link in the task's directory to a file under {tmp}/elsewhere (absent when not ``existing``)."""
    def setup(ctx):
        os.mkdir(ctx.path("elsewhere"))
        target = ctx.path("elsewhere", "victim")
        if existing:
            ctx.write("elsewhere/victim", b"someone else's file\n", 0o600)
        os.symlink(target, ctx.path(option_file))
    return setup


def _kp(**kw):
    args = {"path": "{tmp}/key.pem"}
    args.update(kw)
    return args


BAD_INPUT = [
    BadInput("size 1024 bits", "rsa_keypair", _kp(size=1024), "size", "too small"),
    BadInput("size 512 bits over an existing key", "rsa_keypair", _kp(size=512), "size", "too small",
             setup=_key_file(lambda: _pem(_rsa(2048)))),
    BadInput("size too large", "rsa_keypair", _kp(size=65536), "size", "too large"),
    BadInput("size not a number", "rsa_keypair", _kp(size="big"), "size", ""),
    BadInput("existing file is not PEM", "rsa_keypair", _kp(size=2048), "path", "not a usable RSA private key",
             setup=_key_file(_garbage)),
    BadInput("existing file is binary (not UTF-8)", "rsa_keypair", _kp(size=2048), "path", "not a usable RSA",
             setup=_key_file(_binary)),
    BadInput("existing EC key (wrong key type)", "rsa_keypair", _kp(size=2048), "path", "EC key",
             setup=_key_file(_ec)),
    BadInput("existing Ed25519 key (wrong key type)", "rsa_keypair", _kp(size=2048), "path", "Ed25519",
             setup=_key_file(_ed25519)),
    BadInput("existing encrypted key", "rsa_keypair", _kp(size=2048), "path", "encrypted",
             setup=_key_file(_encrypted)),
    BadInput("existing OpenSSH-format key", "rsa_keypair", _kp(size=2048), "path", "OpenSSH",
             setup=_key_file(_openssh)),
    BadInput("public key where the private key goes", "rsa_keypair", _kp(size=2048), "path", "PUBLIC KEY",
             setup=_key_file(_public_only)),
    BadInput("truncated PEM", "rsa_keypair", _kp(size=2048), "path", "could not be parsed",
             setup=_key_file(_truncated)),
    BadInput("path is a FIFO", "rsa_keypair", _kp(), "path", "not a regular file", setup=_fifo),
    BadInput("path is a directory", "rsa_keypair", _kp(), "path", "is a directory", setup=_dir),
    BadInput("parent directory missing", "rsa_keypair", _kp(path="{tmp}/missing/key.pem"), "path",
             "does not exist"),
    BadInput("parent is a file", "rsa_keypair", _kp(path="{tmp}/notadir/key.pem"), "path", "does not exist",
             setup=_file_as_parent),
    BadInput("parent directory read-only", "rsa_keypair", _kp(path="{tmp}/ro/key.pem", size=2048), "path",
             "not writable", setup=_readonly_dir, needs_non_root=True),
    BadInput("public_key_path is a directory", "rsa_keypair", _kp(public_key_path="{tmp}/pub"),
             "public_key_path", "is a directory", setup=_pub_dir),
    BadInput("public_key_path same file as path", "rsa_keypair", _kp(public_key_path="{tmp}/key.pem"),
             "public_key_path", "same file"),
    BadInput("symbolic mode", "rsa_keypair", _kp(mode="u+rw"), "mode", "octal"),
    BadInput("mode out of range", "rsa_keypair", _kp(mode="0999"), "mode", "octal"),
    BadInput("unknown state", "rsa_keypair", _kp(state="gone"), "state", "gone"),
    BadInput("missing required path", "rsa_keypair", {"size": 2048}, "path", "required"),
    BadInput("certificate days zero", "rsa_keypair", _kp(certificate_path="{tmp}/cert.pem", days=0), "days",
             "at least 1"),
    BadInput("certificate days 3000000 (past 9999-12-31)", "rsa_keypair",
             _kp(certificate_path="{tmp}/cert.pem", days=3000000), "days", "latest date X.509 can express"),
    BadInput("certificate days 10**12", "rsa_keypair", _kp(certificate_path="{tmp}/cert.pem", days=10 ** 12), "days",
             "latest date X.509 can express"),
    BadInput("days 3000000 without certificate_path", "rsa_keypair", _kp(days=3000000), "days",
             "latest date X.509 can express"),
    BadInput("common_name of 65 characters", "rsa_keypair",
             _kp(certificate_path="{tmp}/cert.pem", common_name="c" * 65), "common_name",
             "at most 64"),
    BadInput("path is a dangling symlink", "rsa_keypair", _kp(size=2048), "path", "symbolic link",
             setup=_planted_link("key.pem", existing=False)),
    BadInput("public_key_path is a symlink to another file", "rsa_keypair",
             _kp(size=2048, public_key_path="{tmp}/key.pub"), "public_key_path", "symbolic link",
             setup=_planted_link("key.pub", existing=True)),
    BadInput("certificate_path is a symlink to another file", "rsa_keypair",
             _kp(size=2048, certificate_path="{tmp}/cert.pem"), "certificate_path", "symbolic link",
             setup=_planted_link("cert.pem", existing=True)),
    BadInput("certificate empty common_name", "rsa_keypair", _kp(certificate_path="{tmp}/cert.pem", common_name=""),
             "common_name", "empty"),
]
