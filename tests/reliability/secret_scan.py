"""The -vvvv secret scan: what counts as a secret, where it may not appear, and the scan of the integration run.

The secrets are everything the emulator saw or issued during a run (passwords and tokens from Authorization headers,
secret-named fields of request bodies and of every feature's state: client secrets, refresh tokens, token secrets,
verifiers, ...) plus what a scenario planted. Each is searched as is, base64-encoded and URL-encoded; private key
material is found by its shape. ``tests/reliability/test_secrets.py`` unit-tests the scanner.

The integration targets run once, at -vvvv, through this file (``scripts/test.sh`` integration stage):

    python tests/reliability/secret_scan.py run --config CONFIG --log LOG --result RESULT -- ansible-test ...

starts the emulator in this process (so every reset can be harvested first), writes ``jira_emulator_url`` to CONFIG,
runs the command with its whole output in LOG, scans LOG per target and writes the figures (never a secret) to
RESULT; it exits with the command's status. ``check RESULT... [--targets DIR]`` is the scan's own stage: it fails
when a RESULT is missing, a target's output is missing or thin, or anything leaked. ``groups DIR N`` splits the
targets into N groups of about equal work, one per line, so that N such runs (each with its own emulator and copy
of the collection) can share the machine's cores. Each run's output is scanned for what its own emulator saw: the
secrets one emulator issued never reach the other run.
"""
from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, quote_plus

MIN_SECRET = 8  # shorter values (e.g. the emulator's "admin" password) would match innocent text
SECRET_KEY_RE = re.compile(r"(?i)(password|secret|token|verifier|private_key|privatekey|refresh|code_verifier)$")
NOT_SECRET_KEYS = {"token_type", "token_endpoint", "oauth_token_url"}
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]*PRIVATE KEY)-----(.*?)-----END \1-----", re.S)
PEM_IN_OUTPUT = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\\n|\s)+[A-Za-z0-9+/]{40,}")
PRIVATE_DER = re.compile(r"MII[A-Za-z0-9+/]{3}IB(?:ADAN|AAKC)")


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
# The integration run
# ---------------------------------------------------------------------------------------------------------------

MIN_OUTPUT = 10_000  # bytes of -vvvv output below which a target cannot have run at -vvvv
SECTION_RE = re.compile(r"^Running (\S+) integration test role$", re.M)
RECAP_RE = re.compile(r"\S+\s+:\s+ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)")
# Lines of the run echoed to the console; the rest stays in the log.
ECHO_RE = re.compile(r"^(Running |PLAY RECAP|\S+\s+: ok=|ERROR)")


def target_sections(text):
    """{target: its part of ansible-test's output}, split at ansible-test's "Running X integration test role"."""
    marks = list(SECTION_RE.finditer(text))
    return {m.group(1): text[m.start():(marks[i + 1].start() if i + 1 < len(marks) else len(text))]
            for i, m in enumerate(marks)}


def expected_targets(targets_dir):
    """The targets a full run must have scanned (setup_ and disabled ones are not run on their own)."""
    names = []
    for path in sorted(glob.glob(os.path.join(targets_dir, "*", ""))):
        name = os.path.basename(os.path.dirname(path))
        aliases_path = os.path.join(path, "aliases")
        aliases = open(aliases_path, encoding="utf-8").read() if os.path.exists(aliases_path) else ""
        if not name.startswith("setup_") and not re.search(r"^(disabled|unsupported|hidden)", aliases, re.M):
            names.append(name)
    return names


def scan_run(text, secrets):
    """Figures per target section of ``text``: bytes, tasks, leaks (counts only, never the secrets)."""
    rows = {}
    for name, part in target_sections(text).items():
        recap = RECAP_RE.search(part)
        leaks = scan(part, secrets)
        rows[name] = {"bytes": len(part.encode()), "tasks": int(recap.group(1)) if recap else None,
                      "secrets": len(secrets), "leaks": sum(leaks.values()),
                      "leaked": [f"{s[:4]}...({n}x)" for s, n in leaks.items()]}
    return rows


def check_result(result, expect=()):
    """Problems with a scan result: (passed target names, list of problem lines)."""
    problems, passed = [], []
    rows = result.get("targets") or {}
    if not rows:
        problems.append("no target output in the integration log (did the integration stage run at -vvvv?)")
    for name in expect:
        if name not in rows:
            problems.append(f"{name}: not in the integration log")
    for name, row in sorted(rows.items()):
        if row["leaks"]:
            problems.append(f"{name}: secrets in the -vvvv output: {', '.join(row['leaked'])}")
        elif row["bytes"] <= MIN_OUTPUT:
            problems.append(f"{name}: suspiciously little -vvvv output ({row['bytes']} bytes)")
        else:
            passed.append(name)
    return passed, problems


@contextmanager
def harvesting(state, seen):
    """Collect into ``seen`` what the emulator knows before each reset (a run resets it often) and at the end."""
    original_reset = state.reset

    def harvesting_reset():
        harvest(state, seen)
        original_reset()

    state.reset = harvesting_reset
    try:
        yield
    finally:
        state.reset = original_reset
        harvest(state, seen)


def _run_command(args, url):
    with open(args.config, "w", encoding="utf-8") as handle:
        handle.write(f"jira_emulator_url: {url}\n")
    print(f"[jiraops] Jira emulator (harvested for the secret scan) on {url}; "
          f"the command's whole output goes to {args.log}", flush=True)
    with open(args.log, "w", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen(args.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace")
        for line in proc.stdout:
            log.write(line)
            if ECHO_RE.match(line):
                sys.stdout.write(line)
                sys.stdout.flush()
        return proc.wait()


def _run(args):
    # Imported here: the scanner itself (and its unit test) needs no emulator (the installed jira-emulator package).
    from jira_emulator import EmulatorServer  # pylint: disable=import-outside-toplevel

    server = EmulatorServer().start()
    seen = set()
    try:
        with harvesting(server.state, seen):
            rc = _run_command(args, server.url)
    finally:
        server.stop()
    with open(args.log, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    if rc:
        print("".join(text.splitlines(keepends=True)[-150:]))
    secrets = {s for s in seen if isinstance(s, str) and len(s) >= MIN_SECRET}
    result = {"rc": rc, "secrets": len(secrets), "targets": scan_run(text, secrets)}
    with open(args.result, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    return rc


def integration_groups(targets_dir, count):
    """The targets in ``count`` groups of about equal work, the longest first onto the lightest group.

    Work is guessed from the size of a target's task files plus a fixed cost for the playbook's start-up."""
    weights = {}
    for name in expected_targets(targets_dir):
        files = glob.glob(os.path.join(targets_dir, name, "tasks", "**", "*.yml"), recursive=True)
        weights[name] = 3000 + sum(os.path.getsize(f) for f in files)
    groups = [[] for dummy in range(max(1, min(count, len(weights))))]
    loads = [0] * len(groups)
    for name in sorted(weights, key=lambda n: (-weights[n], n)):
        lightest = loads.index(min(loads))
        groups[lightest].append(name)
        loads[lightest] += weights[name]
    return [sorted(group) for group in groups if group]


def _merged_results(paths):
    """One result from the runs' results, or None (saying which is missing)."""
    merged = {"rc": 0, "secrets": 0, "targets": {}}
    for path in paths:
        if not os.path.exists(path):
            print(f"secret scan: no result at {path}: the integration stage did not run through "
                  "tests/reliability/secret_scan.py")
            return None
        with open(path, encoding="utf-8") as handle:
            result = json.load(handle)
        merged["rc"] = merged["rc"] or result.get("rc", 0)
        merged["secrets"] += result.get("secrets", 0)
        merged["targets"].update(result.get("targets") or {})
    return merged


def _check(args):
    result = _merged_results(args.result)
    if result is None:
        print("secret scan: 0 passed, 1 failed")
        return 1
    expect = expected_targets(args.targets) if args.targets else ()
    passed, problems = check_result(result, expect)
    for name in passed:
        row = result["targets"][name]
        print(f"secret scan: {name}: {row['bytes']} bytes, {row['tasks']} tasks, {row['secrets']} secrets, 0 leaks")
    for line in problems:
        print(f"secret scan: FAILED {line}")
    print(f"secret scan: {len(passed)} passed, {len(problems)} failed")
    return 1 if problems else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="run a command (ansible-test integration -vvvv) against a harvested emulator")
    run.add_argument("--config", required=True, help="integration_config.yml to write")
    run.add_argument("--log", required=True, help="file for the command's whole output")
    run.add_argument("--result", required=True, help="file for the scan's figures")
    run.add_argument("command", nargs="+")
    check = sub.add_parser("check", help="fail unless RESULT shows every target scanned and nothing leaked")
    check.add_argument("result", nargs="+", help="the result of each run (one per group of targets)")
    check.add_argument("--targets", help="integration targets directory: each of its targets must be in a RESULT")
    groups = sub.add_parser("groups", help="print the targets of DIR in N groups of about equal work, one a line")
    groups.add_argument("targets_dir")
    groups.add_argument("count", type=int)
    args = parser.parse_args(argv)
    if args.action == "groups":
        for group in integration_groups(args.targets_dir, args.count):
            print(" ".join(group))
        return 0
    return _run(args) if args.action == "run" else _check(args)


if __name__ == "__main__":
    sys.exit(main())
