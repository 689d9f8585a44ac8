"""One error path: module_utils raise the collection's errors; only the base module class calls fail_json."""
from __future__ import annotations

import ast
import os

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils._errors import JiraError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
MODULE_UTILS = os.path.join(REPO, "plugins", "module_utils")


def failure_calls(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    return [f"{os.path.basename(path)}:{node.lineno} {node.func.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("fail_json", "fail_from", "exit_json")]


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(MODULE_UTILS) if n.endswith(".py") and n != "_module.py"))
def test_module_utils_raise_instead_of_failing_the_task(name):
    assert failure_calls(os.path.join(MODULE_UTILS, name)) == []


def test_an_error_carries_the_result_of_the_task_so_far():
    exc = JiraError("Jira did not take everything (1 accepted): unknown issue keys: NOPE-1",
                    result={"accepted": ["a"], "changed": True})
    assert exc.result == {"accepted": ["a"], "changed": True} and JiraError("x").result == {}
    assert str(exc) == "Jira did not take everything (1 accepted): unknown issue keys: NOPE-1"
