"""Secrets: the playbook scenarios of cases_*.py run with ansible-playbook -vvvv, and all of their output scanned.

The secrets to look for are those planted by the scenario plus everything the emulator saw or issued during the run
and the body of every private key file the run wrote (``secret_scan.py`` says what counts). The count must be 0.
The integration targets are not re-run here: their one run in ``scripts/test.sh`` is at -vvvv through
``secret_scan.py``, and its "secret scan" stage fails on a leak or on a target missing from that run's output.
"""
from __future__ import annotations

import base64
import glob
import json
import os
import re
import sys
import uuid
from urllib.parse import quote

import pytest
from jira_emulator import EmulatorServer

from reliability_support import REPORT, REPO, load_cases, module_exists
from secret_scan import (MIN_OUTPUT, MIN_SECRET, _from_request, _walk, check_result, expected_targets, harvesting,
                         scan, scan_run, target_sections)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_run  # noqa: E402  pylint: disable=wrong-import-position

TARGETS_DIR = os.path.join(REPO, "tests", "integration", "targets")
SCENARIOS = load_cases("SECRET_SCENARIOS")


@pytest.fixture(scope="module")
def server():
    srv = EmulatorServer().start()
    yield srv
    srv.stop()


def test_scenarios_cover_the_demo_and_the_integration_run_covers_every_target():
    """The demo is scanned here; every target in the integration stage's one -vvvv run, which the scan stage checks."""
    assert "demo playbook" in [s.id for s in SCENARIOS]
    assert expected_targets(TARGETS_DIR)
    with open(os.path.join(REPO, "scripts", "test.sh"), encoding="utf-8") as handle:
        script = handle.read()
    assert re.search(r"secret_scan\.py\" run .*ansible-test integration .*-vvvv", script, re.S)
    assert re.search(r"secret_scan\.py\" check ", script)
    assert '--targets "$COLLECTION_DIR/tests/integration/targets"' in script


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_no_secret_in_vvvv_output(scenario, server, tmp_path):
    missing = [m for m in scenario.requires_modules if not module_exists(m)]
    if missing:
        pytest.fail(f"scenario needs module {', '.join(missing)}, not in plugins/modules (renamed or removed?)")
    state = server.state
    state.reset()
    seen = set()
    ctx = {"tmp": str(tmp_path), "url": server.url, "state": state, "token": uuid.uuid4().hex[:16]}
    with harvesting(state, seen):
        playbook, extra, env, planted = scenario.playbook(ctx)
        home = str(tmp_path / "home")
        os.makedirs(home)
        log_path = str(tmp_path / "ansible.log")
        inventory = ansible_run.localhost_inventory(str(tmp_path / "inventory.yml"))
        env = ansible_run.base_env(home, dict(env, ANSIBLE_LOG_PATH=log_path))
        proc = ansible_run.run([ansible_run.tool("ansible-playbook"), "-vvvv", "-i", inventory, playbook] + extra,
                               env=env, cwd=str(tmp_path))
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
    assert len(output) > MIN_OUTPUT, "suspiciously little -vvvv output"
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


def _run_log(*parts):
    return "".join(f"Running {name} integration test role\n{body}\n" for name, body in parts)


def test_the_integration_run_is_scanned_per_target():
    """A leak is charged to the target whose output holds it; thin or absent output fails, never passes quietly."""
    secret = "rt-" + uuid.uuid4().hex
    filler = "x" * (MIN_OUTPUT + 1)
    text = "ansible-test preamble\n" + _run_log(("api", filler), ("oauth2_token", filler + " refresh " + secret),
                                               ("cloud_id", "tiny"))
    assert list(target_sections(text)) == ["api", "oauth2_token", "cloud_id"]
    rows = scan_run(text, {secret})
    assert rows["api"]["leaks"] == 0 and rows["oauth2_token"]["leaks"] == 1
    assert secret not in json.dumps(rows), "the figures must not carry the secret"
    passed, problems = check_result({"targets": rows}, expect=["api", "oauth2_token", "cloud_id", "applink"])
    assert passed == ["api"]
    assert [p.split(":")[0] for p in problems] == ["applink", "cloud_id", "oauth2_token"]
    assert "not in the integration log" in problems[0] and "little -vvvv output" in problems[1]
    assert check_result({"targets": {}})[1], "an empty integration log must fail the scan"
