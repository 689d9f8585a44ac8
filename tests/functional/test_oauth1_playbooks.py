"""The applink_oauth1 role and its playbooks run by ansible-playbook (a real subprocess) against the emulator.

Server state is read through the emulator's control API; secrets planted by the run (private key, token secrets,
verifier, access token) are read from the emulator and the key file and searched for in the -vvv output.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from _oauth1_support import approve, control
from ansible_collections.jiraops.integration.plugins.module_utils import _keys

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINK_TASK = "Ensure the application link and its incoming OAuth 1.0a consumer"
MUTATING = ("PUT", "POST", "DELETE")


def _collections_path():
    """The root pytest imports the collection from (<root>/ansible_collections/jiraops/integration/...)."""
    path = os.path.abspath(_keys.__file__)  # .../plugins/module_utils/_keys.py, symlinks not resolved
    for _level in range(6):
        path = os.path.dirname(path)
    return path


def run_playbook(emulator, playbook, *args, env=None, check=True):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "JIRA_"))}
    environment.update({
        "ANSIBLE_COLLECTIONS_PATH": _collections_path(),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "JIRA_URL": emulator.url,
    })
    environment.update(env or {})
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), os.path.join(REPO, "playbooks", playbook)]
    proc = subprocess.run(cmd + list(args), env=environment, capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, output[-6000:]
    return proc.returncode, output


def task_status(output, name):
    """Status lines (ok/changed/skipping/fatal) of every run of the task whose title contains ``name``."""
    statuses = []
    for block in re.split(r"\nTASK \[", output)[1:]:
        title, _sep, body = block.partition("]")
        if name in title:
            match = re.search(r"^(ok|changed|skipping|fatal|failed)\b", body, re.MULTILINE)
            statuses.append(match.group(1) if match else None)
    return statuses


def recap_changed(output):
    return int(re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", output).group(1))


def planted_secrets(emulator, key_path):
    tokens = control(emulator.url, "/oauth1/tokens")
    secrets = []
    for record in tokens["request_tokens"]:
        secrets += [("request token secret", record["secret"]), ("verifier", record["verifier"])]
    for record in tokens["access_tokens"]:
        secrets += [("access token", record["token"]), ("access token secret", record["secret"])]
    with open(key_path, encoding="utf-8") as handle:
        secrets += [("private key line", line) for line in handle.read().splitlines() if "-----" not in line]
    return [(what, value) for what, value in secrets if value]


def role_env(tmp_path, **extra):
    env = {"JIRA_USERNAME": "admin", "JIRA_PASSWORD": "admin"}
    env.update(extra)
    return env


def role_vars(key_dir, **extra):
    values = {"applink_oauth1_key_dir": str(key_dir), "applink_oauth1_key_size": 2048,
              "applink_oauth1_interactive": False}
    values.update(extra)
    return ["-e", json.dumps(values)]


def test_non_interactive_two_runs_then_idempotent_then_check_mode_then_a_new_key(emulator, tmp_path):
    """The role's whole life in one sequence of runs (each ansible-playbook process costs seconds)."""
    key_dir = tmp_path / "keys"
    # Run 1: no verifier, not interactive -> everything up to the request token, then instructions.
    _rc, output = run_playbook(emulator, "applink_oauth1.yml", *role_vars(key_dir), env=role_env(tmp_path))
    assert "Approval pending. Open this URL" in output
    assert task_status(output, "Verify the access token with a signed call") == ["skipping"]
    [pending] = control(emulator.url, "/oauth1/tokens")["request_tokens"]
    assert pending["status"] == "pending"
    with open(key_dir / "jira_oauth1_tokens.json", encoding="utf-8") as handle:
        assert json.load(handle)["request_token"] == pending["token"]

    # A user approves in Jira; run 2 passes the verification code.
    verifier = approve(emulator.url, pending["token"], user="bob")["verifier"]
    _rc, output = run_playbook(emulator, "applink_oauth1.yml", "-vvv",
                               *role_vars(key_dir, applink_oauth1_verifier=verifier), env=role_env(tmp_path))
    assert task_status(output, LINK_TASK) == ["ok"], "the second run of the applink part changes nothing"
    assert "signed GET /rest/api/2/myself: HTTP 200 as Bob Approver (bob)" in output
    leaked = [what for what, value in planted_secrets(emulator, key_dir / "jira_privatekey.pem") if value in output]
    assert leaked == [], f"secrets in the -vvv output: {leaked}"

    # Run 3: everything is in place; nothing changes, and Jira sees no mutating call.
    emulator.control("DELETE", "/requests")
    _rc, output = run_playbook(emulator, "applink_oauth1.yml", *role_vars(key_dir), env=role_env(tmp_path))
    assert recap_changed(output) == 0, output[-3000:]
    assert "access token: reused from" in output
    assert [r for r in emulator.requests() if r["method"] in MUTATING] == []

    # Check mode with a new consumer name: reported as a change, nothing sent.
    before = control(emulator.url, "/applinks")
    emulator.control("DELETE", "/requests")
    _rc, output = run_playbook(emulator, "applink_oauth1.yml", "--check", "--diff",
                               *role_vars(key_dir, applink_oauth1_consumer_name="Renamed"), env=role_env(tmp_path))
    assert task_status(output, LINK_TASK) == ["changed"]
    assert control(emulator.url, "/applinks") == before
    assert [r for r in emulator.requests() if r["method"] in MUTATING] == []

    # Rotate: a new key pair on disk (force), the role puts its public key on the consumer with a diff.
    old_key = before["applinks"][0]["consumer"]["publicKey"]
    os.remove(key_dir / "jira_privatekey.pem")
    _rc, output = run_playbook(emulator, "applink_oauth1.yml", "--diff", *role_vars(key_dir), env=role_env(tmp_path))
    assert task_status(output, LINK_TASK) == ["changed"]
    assert "update incoming OAuth consumer 'ansible-automation'" in output
    assert re.search(r'-\s+"public_key_fingerprint": "[0-9a-f:]+"', output), "the diff shows the old fingerprint"
    new_key = control(emulator.url, "/applinks")["applinks"][0]["consumer"]["publicKey"]
    assert new_key != old_key
    # The stored access token still works, now signed with the new private key.
    assert "signed GET /rest/api/2/myself: HTTP 200 as Bob Approver (bob)" in output
    assert len(control(emulator.url, "/oauth1/tokens")["access_tokens"]) == 1


def test_missing_admin_credentials_fail_clearly(emulator, tmp_path):
    rc, output = run_playbook(emulator, "applink_oauth1.yml", *role_vars(tmp_path / "keys"), check=False)
    assert rc != 0 and "applink_oauth1_admin_username" in output
    assert control(emulator.url, "/applinks")["count"] == 0


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_interactive_run_pauses_for_a_human_and_takes_the_pasted_code(emulator, tmp_path):
    """The browser path: the role prints the authorize URL, waits at a prompt, and continues with the pasted code."""
    import pty  # pylint: disable=import-outside-toplevel
    import select  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    key_dir = tmp_path / "keys"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "JIRA_"))}
    environment.update({"ANSIBLE_COLLECTIONS_PATH": _collections_path(), "ANSIBLE_NOCOLOR": "1",
                        "ANSIBLE_STDOUT_CALLBACK": "default", "JIRA_URL": emulator.url}, **role_env(tmp_path))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
           os.path.join(REPO, "playbooks", "applink_oauth1.yml"),
           *role_vars(key_dir, applink_oauth1_interactive=True)]
    # pty.fork gives the child a controlling terminal, which ansible's pause needs (a bare pty pair is not enough).
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(cmd[0], cmd, environment)
    proc = _Child(pid)
    output = b""
    answered = False
    verifier = None
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if not answered and b"paste the verification code" in output:
                [pending] = control(emulator.url, "/oauth1/tokens")["request_tokens"]
                assert f"oauth_token={pending['token']}".encode() in output, "the prompt shows the authorize URL"
                verifier = approve(emulator.url, pending["token"], user="bob")["verifier"]  # the human clicks Allow
                os.write(master, verifier.encode() + b"\r")
                answered = True
            if proc.poll() is not None and not ready:
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    text = output.decode("utf-8", "replace")
    assert answered, text[-3000:]
    assert proc.returncode == 0, text[-3000:]
    assert verifier not in text, "the pasted code is not echoed"
    assert "signed GET /rest/api/2/myself: HTTP 200 as Bob Approver (bob)" in text
    assert control(emulator.url, "/oauth1/verified")["verified"][0]["user"] == "bob"


class _Child:
    """The little of subprocess.Popen's interface the pty test needs, for a pid from pty.fork()."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        import time  # pylint: disable=import-outside-toplevel
        deadline = time.monotonic() + (timeout or 0)
        while self.poll() is None:
            if timeout is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.1)
        return self.returncode

    def kill(self):
        import signal  # pylint: disable=import-outside-toplevel
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
