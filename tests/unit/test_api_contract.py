"""docs/jira-api-contract.md stays complete: every REST path the collection sends is in it, every test it names exists.

The contract is only useful if a new call cannot be added without a row (and its evidence) there.
"""
from __future__ import annotations

import ast
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACT = os.path.join(REPO, "docs", "jira-api-contract.md")

# A string that is all URL path (after run-time parts), possibly behind a base URL or another path part.
PATH = re.compile(r"^(?:\{\})*(/[A-Za-z0-9_.~%{}/-]*[A-Za-z][A-Za-z0-9_.~%{}/-]*)$")
# Local files are not HTTP calls (a crypto-policy or CA path, say).
FILESYSTEM = ("/etc/", "/proc/", "/sys/", "/usr/", "/var/", "/tmp/", "/dev/", "/opt/", "/home/", "/run/", "/lib")
PLACEHOLDER = re.compile(r"\{[^{}]*\}|<[^<>]*>|%\(\w+\)s|%s")
JINJA = re.compile(r"\{\{.*?\}\}", re.S)
YAML_PATH = re.compile(r"(?<![\w/.{}-])(/(?:rest|_edge|oauth|plugins/servlet|jira|ex/jira)/[A-Za-z0-9_.~%{}/-]*)")
TEST_REF = re.compile(r"((?:emulator/)?tests/[\w/]+\.py)::(test_\w+)")
ROW = re.compile(r"^\|\s*`[A-Z]+ ")


def normalise(path):
    """Placeholders of any spelling become ``{}``; a trailing slash does not count."""
    return PLACEHOLDER.sub("{}", path).rstrip("/")


def _module_constants(tree):
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            names.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return names


def _fold(node, names):
    """The string an expression builds, with ``{}`` for whatever is only known at run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _fold(node.left, names) + _fold(node.right, names)
    if isinstance(node, ast.JoinedStr):
        return "".join(_fold(value, names) for value in node.values)
    if isinstance(node, ast.FormattedValue):
        return _fold(node.value, names)
    return "{}"


def python_paths(source):
    """Path expressions in Python source: literals, ``CONST + "..."`` and f-strings that are a URL path.

    Relative pieces count too (``"/gating-status"``, ``f"/flag/{key}"``): each must appear in some row. Prose
    (messages, docstrings) has spaces and never matches.
    """
    tree = ast.parse(source)
    names = _module_constants(tree)
    inner = {id(child) for node in ast.walk(tree) if isinstance(node, (ast.BinOp, ast.JoinedStr, ast.FormattedValue))
             for child in ast.iter_child_nodes(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in inner or not isinstance(node, (ast.Constant, ast.BinOp, ast.JoinedStr)):
            continue
        match = PATH.match(_fold(node, names))
        if match and not match.group(1).startswith(FILESYSTEM):
            found.add(match.group(1))
    return found


def yaml_paths(text):
    """Paths in role task files: in plain values (Jinja expressions as ``{}``) and in quoted strings inside Jinja."""
    found = set(YAML_PATH.findall(JINJA.sub("{}", text)))
    for expression in JINJA.findall(text):
        found.update(YAML_PATH.findall(expression))
    return found


def collection_paths():
    """{normalised path: first file using it} for the plugins and the roles' tasks and defaults."""
    paths = {}
    for top, parse, wanted in (("plugins", python_paths, lambda f, d: f.endswith(".py")),
                               ("roles", yaml_paths, lambda f, d: f.endswith((".yml", ".yaml"))
                                and os.path.basename(d) in ("tasks", "defaults", "vars"))):
        for folder, _dirs, files in os.walk(os.path.join(REPO, top)):
            for name in sorted(files):
                if wanted(name, folder):
                    path = os.path.join(folder, name)
                    with open(path, encoding="utf-8") as handle:
                        for found in parse(handle.read()):
                            paths.setdefault(normalise(found), os.path.relpath(path, REPO))
    return paths


def contract_text():
    with open(CONTRACT, encoding="utf-8") as handle:
        return handle.read()


def missing_paths(paths, text):
    documented = normalise(text)
    return sorted(f"{path} (used in {where})" for path, where in paths.items() if path not in documented)


def test_the_extraction_finds_the_calls_it_is_meant_to_guard():
    paths = collection_paths()
    for expected in ("/rest/applinks-oauth/1.0/applicationlink/{}/authentication/consumer",
                     "/rest/oauth2/latest/token", "/rest/oauth2/latest/client/reset/{}",
                     "/plugins/servlet/oauth/request-token", "/_edge/tenant_info",
                     "/oauth/token/accessible-resources", "/jira/{}/0.1/cloud/{}", "/ex/jira/{}",
                     "/rest/api/2/myself", "/rest/api/3/myself",
                     "/pipelines/{}/builds/{}", "/gating-status",
                     "/pipelines/{}/environments/{}/deployments/{}", "/existsByProperties", "/flag/{}"):
        assert expected in paths, f"{expected} not extracted; found {sorted(paths)}"


def test_every_rest_path_used_in_plugins_and_roles_is_in_the_contract():
    missing = missing_paths(collection_paths(), contract_text())
    assert not missing, ("docs/jira-api-contract.md has no row for: " + "; ".join(missing)
                         + ". Add the call with its evidence and emulator test (see the file's intro).")


def test_a_path_missing_from_the_contract_is_reported():
    text = contract_text()
    without = "\n".join(line for line in text.splitlines() if "/client/reset/" not in line)
    assert missing_paths(collection_paths(), without) == [
        "/rest/oauth2/latest/client/reset/{} (used in plugins/module_utils/_oauth2_client.py)"]


@pytest.mark.parametrize("source, expected", [
    ('API = "/rest/x/1"\ndef f(c, i):\n    c.get(f"{API}/{i}/go")\n', {"/rest/x/1", "/rest/x/1/{}/go"}),
    ('def f(c):\n    c.get(c.url + "/_edge/tenant_info")\n', {"/_edge/tenant_info"}),
    ('def f(c, b, k):\n    c.get(b + item(k) + "/gating-status", p="/")\n', {"/gating-status"}),
    ('def f(c):\n    raise E(f"{c.url} has no /_edge/tenant_info: not a site")\n', set()),
    ('"""Uses ``GET /rest/applinks/3.0/applinks``."""\n', set()),
    ('POLICY = "/etc/crypto-policies/config"\nFIPS = "/proc/sys/crypto/fips_enabled"\n', set()),
])
def test_path_expressions_and_not_prose_are_extracted(source, expected):
    assert python_paths(source) == expected


def test_yaml_paths_in_values_and_jinja_expressions():
    text = ("    path: /_edge/tenant_info\n"
            "    api_path: >-\n"
            "      /jira/builds/0.1/cloud/{{ id | urlencode }}/pipelines/{{\n      p }}/builds/{{ n }}\n"
            "    path: \"{{ '/rest/api/2/myself' if dc else '/rest/api/3/myself' }}\"\n")
    assert {normalise(p) for p in yaml_paths(text)} == {
        "/_edge/tenant_info", "/jira/builds/0.1/cloud/{}/pipelines/{}/builds/{}", "/rest/api/2/myself",
        "/rest/api/3/myself"}


def _test_functions(path):
    with open(os.path.join(REPO, path), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_every_emulator_test_the_contract_names_exists():
    refs = sorted(set(TEST_REF.findall(contract_text())))
    assert len(refs) > 50
    missing = [f"{path}::{name}" for path, name in refs
               if not os.path.isfile(os.path.join(REPO, path)) or name not in _test_functions(path)]
    assert not missing, "docs/jira-api-contract.md names tests that do not exist: " + ", ".join(missing)


def test_every_call_row_has_evidence_and_an_emulator_test_cell():
    bad = []
    for number, line in enumerate(contract_text().splitlines(), 1):
        if not ROW.match(line):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) != 5 or not cells[3] or not (TEST_REF.search(cells[4]) or "none yet" in cells[4]):
            bad.append(f"line {number}: {line[:80]}")
    assert not bad, "call rows need 5 cells, evidence, and a test or 'none yet': " + "; ".join(bad)
