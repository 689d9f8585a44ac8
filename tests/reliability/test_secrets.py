"""Secrets: every playbook scenario re-run with ansible-playbook -vvvv, and all of its output scanned.

The secrets to look for are those planted by the scenario plus everything the emulator saw or issued during the run:
passwords and tokens from Authorization headers, secret-named fields of request bodies and of every feature's state
(client secrets, refresh tokens, token secrets, verifiers, ...), and the body of every private key file the run
wrote. Each is searched as is, base64-encoded and URL-encoded. The count must be 0.
"""
from __future__ import annotations

import base64
import glob
import json
import os
import re
import sys
import uuid
from urllib.parse import parse_qsl, quote, quote_plus

import pytest
from jira_emulator import EmulatorServer

from reliability_support import REPORT, REPO, SecretScenario, load_cases, module_exists

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

MIN_SECRET = 8  # shorter values (e.g. the emulator's "admin" password) would match innocent text
SECRET_KEY_RE = re.compile(r"(?i)(password|secret|token|verifier|private_key|privatekey|refresh|code_verifier)$")
NOT_SECRET_KEYS = {"token_type", "token_endpoint", "oauth_token_url"}
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]*PRIVATE KEY)-----(.*?)-----END \1-----", re.S)
PEM_IN_OUTPUT = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\\n|\s)+[A-Za-z0-9+/]{40,}")
PRIVATE_DER = re.compile(r"MII[A-Za-z0-9+/]{3}IB(?:ADAN|AAKC)")
TARGETS_DIR = os.path.join(REPO, "tests", "integration", "targets")


# ---------------------------------------------------------------------------------------------------------------
# Collecting what counts as a secret
# ---------------------------------------------------------------------------------------------------------------

def _walk(value, out, key=None, visited=None):
    # Feature state holds objects that point back at each other (oauthlib endpoints and their validator).
    visited = set() if visited is None else visited
    if isinstance(value, (dict, list, tuple, set, frozenset)) or hasattr(value, "__dict__"):
        if id(value) in visited:
            return
        visited.add(id(value))
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(v, out, str(k), visited)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _walk(v, out, key, visited)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        _walk(vars(value), out, key, visited)
    elif isinstance(value, str) and key and key not in NOT_SECRET_KEYS and SECRET_KEY_RE.search(key):
        out.add(value)
    if isinstance(value, (str, bytes)):
        data = value.encode() if isinstance(value, str) else value
        for match in PEM_BLOCK.finditer(data):
            out.update(line.decode() for line in match.group(2).split() if len(line) >= MIN_SECRET)


def _from_request(entry, out):
    header = entry["headers"].get("Authorization", "")
    scheme, dummy, cred = header.partition(" ")
    if scheme.lower() == "basic":
        out.add(cred.strip())
        try:
            out.add(base64.b64decode(cred).decode("utf-8").split(":", 1)[1])
        except (ValueError, IndexError):
            pass
    elif scheme.lower() == "bearer":
        out.add(cred.strip())
    elif scheme.lower() == "oauth":
        for k, v in re.findall(r'(oauth_\w+)="([^"]*)"', cred):
            if k in ("oauth_token", "oauth_verifier"):
                out.add(v)
    body = entry.get("body") or ""
    try:
        _walk(json.loads(body), out)
    except ValueError:
        _walk(dict(parse_qsl(body)), out)


def harvest(state, out):
    """Everything secret the emulator knows about right now."""
    with state.lock:
        for user in state.users.values():
            out.add(user.get("password") or "")
        out.update(state.pats)
        out.update(state.bearer_tokens)
        for entry in state.requests:
            _from_request(entry, out)
        _walk(state.features, out)
        # OAuth 1.0a request tokens are public by design: the authorize URL the user must open carries one.
        out.difference_update((state.features.get("oauth1") or {}).get("request_tokens", {}))


def _variants(secret):
    raw = secret.encode("utf-8")
    return {secret, base64.b64encode(raw).decode(), quote(secret, safe=""), quote_plus(secret)}


def scan(text, secrets):
    """{secret: count} of every secret (in any variant) found in ``text``; PEM private key markers count too."""
    found = {}
    for secret in secrets:
        n = sum(text.count(v) for v in _variants(secret) if len(v) >= MIN_SECRET)
        if n:
            found[secret] = n
    # Private key material wherever it came from: a PEM block with its body (raw or JSON-escaped), or the base64
    # DER start of an unencrypted PKCS#8 / PKCS#1 RSA key. A lone header line (a test printing what a file starts
    # with) is not a key.
    blocks = len(PEM_IN_OUTPUT.findall(text)) + len(PRIVATE_DER.findall(text))
    if blocks:
        found["private key material"] = blocks
    return found


# ---------------------------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------------------------

def _target_scenarios():
    out = []
    for path in sorted(glob.glob(os.path.join(TARGETS_DIR, "*", ""))):
        name = os.path.basename(os.path.dirname(path))
        aliases = open(os.path.join(path, "aliases"), encoding="utf-8").read() if os.path.exists(
            os.path.join(path, "aliases")) else ""
        if name.startswith("setup_") or re.search(r"^(disabled|unsupported|hidden)", aliases, re.M):
            continue
        out.append(SecretScenario(f"integration target {name}", playbook=_target_playbook(name)))
    return out


def _target_playbook(name):
    def build(ctx):
        if os.path.exists(os.path.join(TARGETS_DIR, name, "runme.sh")):
            pytest.skip("runme.sh targets are scanned by their own runme.sh")
        play = os.path.join(ctx["tmp"], "play.yml")
        with open(play, "w", encoding="utf-8") as handle:
            handle.write(
                "- name: Integration target re-run for the secrets scan\n  hosts: localhost\n  gather_facts: false\n"
                f"  vars:\n    jira_emulator_url: {ctx['url']}\n"
                f"  tasks:\n    - name: Run the target\n      ansible.builtin.include_role:\n        name: {name}\n")
        return play, [], {"ANSIBLE_ROLES_PATH": TARGETS_DIR}, []
    return build


SCENARIOS = load_cases("SECRET_SCENARIOS") + _target_scenarios()


@pytest.fixture(scope="module")
def server():
    srv = EmulatorServer().start()
    yield srv
    srv.stop()


def test_scenarios_cover_the_demo_and_every_target():
    ids = [s.id for s in SCENARIOS]
    assert "demo playbook" in ids
    assert any(i.startswith("integration target ") for i in ids)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_no_secret_in_vvvv_output(scenario, server, tmp_path):
    missing = [m for m in scenario.requires_modules if not module_exists(m)]
    if missing:
        pytest.fail(f"scenario needs module {', '.join(missing)}, not in plugins/modules (renamed or removed?)")
    state = server.state
    state.reset()
    seen = set()
    original_reset = state.reset

    def harvesting_reset():
        harvest(state, seen)
        original_reset()

    state.reset = harvesting_reset
    ctx = {"tmp": str(tmp_path), "url": server.url, "state": state, "token": uuid.uuid4().hex[:16]}
    try:
        playbook, extra, env, planted = scenario.playbook(ctx)
        home = str(tmp_path / "home")
        os.makedirs(home)
        log_path = str(tmp_path / "ansible.log")
        inventory = ansible_run.localhost_inventory(str(tmp_path / "inventory.yml"))
        env = ansible_run.base_env(home, dict(env, ANSIBLE_LOG_PATH=log_path))
        proc = ansible_run.run([ansible_run.tool("ansible-playbook"), "-vvvv", "-i", inventory, playbook] + extra,
                               env=env, cwd=str(tmp_path))
    finally:
        state.reset = original_reset
    harvest(state, seen)
    for path in glob.glob(os.path.join(str(tmp_path), "**", "*"), recursive=True):
        if os.path.isfile(path) and path != log_path and os.path.getsize(path) < 1_000_000:
            with open(path, "rb") as handle:
                _walk(handle.read(), seen)
    secrets = {s for s in seen | set(planted) if isinstance(s, str) and len(s) >= MIN_SECRET}
    output = proc.stdout + "\n" + proc.stderr
    if os.path.exists(log_path):
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            output += "\n" + handle.read()
    recap = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    leaks = scan(output, secrets)
    REPORT.add("secrets", scenario=scenario.id, tasks=recap.group(1) if recap else "?", bytes=len(output.encode()),
               secrets=len(secrets), leaks=sum(leaks.values()))
    assert proc.returncode == 0 and recap and recap.group(3) == "0", (proc.stdout[-3000:] + proc.stderr[-3000:])
    assert set(planted) <= secrets, "a planted secret was too short to be scanned for"
    assert len(output) > 10_000, "suspiciously little -vvvv output"
    assert not leaks, "secrets in the output: " + ", ".join(f"{s[:4]}...({n}x)" for s, n in leaks.items())


def test_the_scanner_finds_what_it_should():
    """A scan that cannot find anything proves nothing: plain, base64, URL-encoded secrets and key bodies are found."""
    secret = "s3cr3t-value/with+chars"
    pem = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    seen = set()
    _walk({"client_secret": secret, "token_type": "Bearer", "note": pem.decode()}, seen)
    assert secret in seen and "Bearer" not in seen and "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" in seen
    _from_request({"headers": {"Authorization": "Basic " + base64.b64encode(b"bob:bob-password").decode()},
                   "body": "grant_type=refresh_token&refresh_token=rt-0123456789"}, seen)
    assert {"bob-password", "rt-0123456789"} <= seen
    text = "\n".join([f"plain {secret}", "b64 " + base64.b64encode(secret.encode()).decode(),
                      "url " + quote(secret, safe=""), "-----BEGIN PRIVATE KEY-----  (a header alone is fine)",
                      '"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC"'])
    found = scan(text, {secret})
    assert found[secret] == 3 and found["private key material"] == 2  # the JSON-escaped block, its DER start
    assert scan("MIIEpAIBAAKCAQEAx...", set()) == {"private key material": 1}
    assert scan("nothing to see here", {secret, "bob-password"}) == {}
