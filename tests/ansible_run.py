"""Run ansible / ansible-playbook / ansible-runner as subprocesses against the collection under test.

Shared by the reliability suite (tests/reliability) and the operations tests (tests/ops). tests/conftest.py puts the
collections root on sys.path first; this module finds it there, so the subprocess sees exactly the tree pytest
imports (a symlink under .build/pytest, or the copy scripts/test.sh makes).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)


def collection_root():
    """The directory holding ansible_collections/jiraops/integration (what ANSIBLE_COLLECTIONS_PATH needs)."""
    for entry in sys.path:
        if entry and os.path.isdir(os.path.join(entry, "ansible_collections", "jiraops", "integration")):
            return os.path.abspath(entry)
    raise RuntimeError("the collection is not on sys.path; tests/conftest.py should have put it there")


def collection_dir():
    return os.path.join(collection_root(), "ansible_collections", "jiraops", "integration")


def tool(name):
    """An executable next to the running Python (the venv), else on PATH."""
    path = os.path.join(BIN, name)
    if os.path.exists(path):
        return path
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed (pip install -r requirements-dev.txt)")
    return found


def base_env(home, extra=None, keep_jira=False):
    """A small, explicit environment: no JIRA_* from the caller, ansible state under ``home``."""
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "TERM") and v}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env.setdefault("LC_ALL", "C.UTF-8")
    env.update({
        "HOME": home,
        "ANSIBLE_HOME": os.path.join(home, ".ansible"),
        "ANSIBLE_LOCAL_TEMP": os.path.join(home, ".ansible", "tmp"),
        "ANSIBLE_COLLECTIONS_PATH": collection_root(),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if keep_jira:
        env.update({k: v for k, v in os.environ.items() if k.startswith("JIRA_")})
    env.update(extra or {})
    return env


def localhost_inventory(path):
    """A localhost inventory that runs modules with this Python (interpreter discovery finds broken shims here)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                     f"      ansible_python_interpreter: {sys.executable}\n")
    return path


def run(cmd, env, cwd=None, timeout=300):
    """Run a command; returns CompletedProcess with text stdout/stderr."""
    return subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout, check=False)
