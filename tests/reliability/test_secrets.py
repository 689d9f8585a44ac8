"""Secrets: the -vvvv scanner (``secret_scan.py``) finds what it must, and every playbook run is scanned once.

Nothing is re-run for the scan: the integration targets' one run in ``scripts/test.sh`` is at -vvvv through
``secret_scan.py``, whose "secret scan" stage fails on a leak or on a target missing from that run's output; the
demo's one run (``tests/ops/test_ansible_runner.py``, as AWX runs it, at -vvvv) is scanned by that test.
"""
from __future__ import annotations

import base64
import json
import os
import re
import uuid
from urllib.parse import quote

from reliability_support import REPO
from secret_scan import (MIN_OUTPUT, _from_request, _walk, check_result, expected_targets, integration_groups, main,
                         scan, scan_run, target_sections)

TARGETS_DIR = os.path.join(REPO, "tests", "integration", "targets")


def test_the_integration_run_is_made_at_vvvv_and_checked_for_every_target():
    """The targets' one run in scripts/test.sh goes through the scan, and its stage expects every target."""
    assert expected_targets(TARGETS_DIR)
    with open(os.path.join(REPO, "scripts", "test.sh"), encoding="utf-8") as handle:
        script = handle.read()
    assert re.search(r"secret_scan\.py\" run .*ansible-test integration .*-vvvv", script, re.S)
    assert re.search(r"secret_scan\.py\" check ", script)
    assert '--targets "$COLLECTION_DIR/tests/integration/targets"' in script


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
    sections = (("api", filler), ("oauth2_token", filler + " refresh " + secret), ("cloud_id", "tiny"))
    text = "ansible-test preamble\n" + _run_log(*sections)
    assert list(target_sections(text)) == ["api", "oauth2_token", "cloud_id"]
    rows = scan_run(text, {secret})
    assert rows["api"]["leaks"] == 0 and rows["oauth2_token"]["leaks"] == 1
    assert secret not in json.dumps(rows), "the figures must not carry the secret"
    passed, problems = check_result({"targets": rows}, expect=["api", "oauth2_token", "cloud_id", "applink"])
    assert passed == ["api"]
    assert [p.split(":")[0] for p in problems] == ["applink", "cloud_id", "oauth2_token"]
    assert "not in the integration log" in problems[0] and "little -vvvv output" in problems[1]
    assert check_result({"targets": {}})[1], "an empty integration log must fail the scan"


def test_the_targets_run_in_groups_that_cover_each_target_once(tmp_path, capsys):
    """Every target is in exactly one group, and the check fails when one group's result is missing or leaks."""
    targets = expected_targets(TARGETS_DIR)
    groups = integration_groups(TARGETS_DIR, 2)
    assert len(groups) == 2 and all(groups)
    assert sorted(name for group in groups for name in group) == sorted(targets)
    filler = "x" * (MIN_OUTPUT + 1)
    results = []
    for index, group in enumerate(groups):
        rows = scan_run(_run_log(*((name, filler) for name in group)), {"rt-never-printed"})
        path = tmp_path / f"group{index}.json"
        path.write_text(json.dumps({"rc": 0, "secrets": 1, "targets": rows}), encoding="utf-8")
        results.append(str(path))
    assert main(["check", *results, "--targets", TARGETS_DIR]) == 0
    assert f"secret scan: {len(targets)} passed, 0 failed" in capsys.readouterr().out
    assert main(["check", results[0], str(tmp_path / "missing.json"), "--targets", TARGETS_DIR]) == 1
    assert "no result at" in capsys.readouterr().out
    assert main(["check", results[0], "--targets", TARGETS_DIR]) == 1
    assert "not in the integration log" in capsys.readouterr().out
    leaked = scan_run(_run_log((groups[1][0], filler + " rt-never-printed")), {"rt-never-printed"})
    (tmp_path / "group1.json").write_text(json.dumps({"rc": 0, "secrets": 1, "targets": leaked}), encoding="utf-8")
    assert main(["check", *results]) == 1
    assert "secrets in the -vvvv output" in capsys.readouterr().out
