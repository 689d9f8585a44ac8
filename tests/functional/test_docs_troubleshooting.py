"""The flow guides under docs/ quote every error message the code of their flow can produce.

The messages are read from the source, not from a list kept by hand: every string given to ``OptionError``,
``JiraError``, ``KeyMaterialError``, ``fail_json(msg=...)`` or the lookup's ``AnsibleError``/``AnsibleLookupError``,
every ``message``/``hint`` assigned in the HTTP client's and token endpoint's error explanations, and the
OAuth 1.0a ``_PROBLEMS`` table. Of each message the longest fixed piece (the text between the values filled in at
run time) must appear in the guide, whitespace-normalised. A new or reworded message fails this test until the
guide's troubleshooting section says what it means.
"""
from __future__ import annotations

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MU = "plugins/module_utils/"
MOD = "plugins/modules/"

# Which guide covers which files. Messages of the shared client, options and auth selection are in the
# connection guide that every flow guide links to.
GUIDES = {
    "docs/oauth1-applink.md": [MU + "_applink.py", MU + "_auth_oauth1.py", MU + "_oauth1.py", MU + "_keys.py",
                               MOD + "applink.py", MOD + "oauth1_token.py", MOD + "rsa_keypair.py"],
    "docs/cloud-2lo-reporting.md": [MU + "_devops.py", MU + "_devops_apis.py", MU + "_devops_devinfo.py",
                                    MU + "_entity_file.py", MU + "_cloud_id.py",
                                    MU + "_auth_oauth2.py", MOD + "build_info.py", MOD + "deployment_info.py",
                                    MOD + "cloud_id.py"],
    "docs/cloud-3lo.md": [MU + "_oauth2.py", MU + "_token_store.py", MU + "_auth_oauth2.py", MOD + "oauth2_token.py",
                          "plugins/lookup/token.py", MU + "_token_store_vault.py", MU + "_credential_info.py",
                          MOD + "credential_info.py"],
    "docs/datacenter-oauth2-clients.md": [MU + "_oauth2_client.py", MOD + "oauth2_client.py"],
    "docs/troubleshooting-connection.md": [MU + "_client.py", MU + "_retry.py", MU + "_options.py", MU + "_auth.py",
                                           MU + "_errors.py", MU + "_module.py", MOD + "api.py"],
}
ERROR_CALLS = {"OptionError", "JiraError", "KeyMaterialError", "AnsibleError", "AnsibleLookupError", "fail_json"}
MESSAGE_NAMES = {"message", "hint"}
HOLE = "\x00"
MIN_PIECE = 12


def _text(node):
    """The fixed text of a string expression, with HOLE where a value is filled in at run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else HOLE for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        left = _text(node.left)
        right = _text(node.right) if isinstance(node.op, ast.Add) else None
        if left is None and right is None:
            return None
        return (left or HOLE) + (right or HOLE)
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "format":
        return _text(node.func.value)
    return None


def _strings(node):
    """Every string in a dict literal (the _PROBLEMS table, whose values may be nested by stage)."""
    if isinstance(node, ast.Dict):
        for value in node.values:
            yield from _strings(value)
    elif isinstance(node, ast.Tuple):
        for elt in node.elts:
            yield from _strings(elt)
    else:
        text = _text(node)
        if text:
            yield text


def messages(path):
    tree = ast.parse(open(os.path.join(ROOT, path), encoding="utf-8").read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ERROR_CALLS:
                args = list(node.args) + [k.value for k in node.keywords if k.arg in ("msg", "message")]
                # OptionError(option, message): the first argument is the option's name.
                if name == "OptionError":
                    args = args[1:]
                found += [t for t in map(_text, args) if t]
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {getattr(t, "id", None) for t in targets}
            if names & MESSAGE_NAMES:
                found += [t for t in [_text(node.value)] if t]
            elif "_PROBLEMS" in names:
                found += list(_strings(node.value))
    return found


def piece(message):
    """The longest fixed piece: split at run-time values, str.format fields and %-conversions."""
    parts = re.split(HOLE + r"|\{[^{}]*\}|%[-0-9.]*[sdrf]", message)
    return max((" ".join(p.split()) for p in parts), key=len)


def normalised(path):
    return " ".join(open(os.path.join(ROOT, path), encoding="utf-8").read().split())


def cases():
    for guide, files in GUIDES.items():
        for path in files:
            for message in messages(path):
                text = piece(message)
                if len(text) >= MIN_PIECE:
                    yield pytest.param(guide, path, text, id=f"{os.path.basename(guide)}:{text[:50]}")


def test_the_extractor_finds_the_messages():
    """Guard against an extractor that finds nothing and so passes everything."""
    found = {path: len(messages(path)) for files in GUIDES.values() for path in files}
    assert found[MU + "_applink.py"] >= 10
    assert found[MU + "_auth_oauth1.py"] >= 15
    assert found[MU + "_token_store.py"] >= 10
    assert found[MU + "_client.py"] >= 6
    assert "state mismatch: the redirect URL's state does not match" in piece(
        next(m for m in messages(MU + "_oauth2.py") if m.startswith("state mismatch")))


@pytest.mark.parametrize("guide, source, text", list(cases()))
def test_guide_quotes_the_message(guide, source, text):
    assert text in normalised(guide), f"{guide} does not quote this message of {source}: {text!r}"
