"""The DevOps modules in a real ansible-playbook run against the emulator: vaulted tokens, ``environment:``,
check mode, bad input, async and become behave as for any module, and what Jira stored is read back."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import ansible_collections.jiraops.integration as collection

# One worker reads the module's one playbook run (``played``); spread over pytest-xdist workers, each ran it.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("devops_playbook")]

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(list(collection.__path__)[0])))
CLOUD_ID = "11111111-2222-3333-4444-555555555555"
TOKEN = "devops-playbook-token-0123456789"
SCOPES = [f"{op}:{what}:jira-software" for op in ("read", "write")
          for what in ("build", "deployment", "feature-flag", "source-code")]
# What differs between two runs whatever the path: async job ids.
VOLATILE = ("ansible_job_id", "results_file")
AS_ROOT = os.getuid() == 0   # the become task runs only as root (su asks anyone else for a password)


def run_playbook(emu, tmp_path):
    emu.control("POST", "/reset")
    emu.seed(bearer_tokens={TOKEN: {"user": "alice", "scopes": SCOPES, "expires_at": None, "client_id": "ci"}})
    out_file = tmp_path / "results.json"
    extra = {"emu_url": emu.url, "cloud_id": CLOUD_ID, "token": TOKEN, "out_file": str(out_file)}
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    bindir = os.path.dirname(sys.executable)
    password_file = tmp_path / "vault-password"
    password_file.write_text("pink-vault-password\n")
    vaulted = subprocess.run([os.path.join(bindir, "ansible-vault"), "encrypt_string", "--vault-password-file",
                              str(password_file), TOKEN, "--name", "vault_token"], env=env, capture_output=True,
                             text=True, check=True).stdout
    vars_file = tmp_path / "vault-vars.yml"
    vars_file.write_text(vaulted)
    proc = subprocess.run([os.path.join(bindir, "ansible-playbook"), "-vvv", "--vault-password-file",
                           str(password_file), os.path.join(HERE, "playbooks", "devops_modules.yml"),
                           "-e", json.dumps(extra), "-e", f"@{vars_file}"],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    results = json.loads(out_file.read_text())
    for result in results.values():
        for key in VOLATILE:
            result.pop(key, None)
    stored = {kind: emu.control("GET", f"/devops/{kind}") for kind in ("builds", "flags")}
    return results, stored, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def played(emulator_server, tmp_path_factory):
    from tests.conftest import Emulator  # pylint: disable=import-outside-toplevel
    emu = Emulator(emulator_server)
    return run_playbook(emu, tmp_path_factory.mktemp("devops_playbook"))


def test_the_data_stored_in_jira(played):
    builds = played[1]["builds"]["builds"]
    # 1 was deleted, 9 only checked, 14 sent with become (as root only)
    assert sorted(b["data"]["buildNumber"] for b in builds) == [2, 3, 4, 12, 13] + ([14] if AS_ROOT else [])
    assert played[1]["flags"]["count"] == 1


def test_the_results_are_what_the_module_promises(played):
    results = played[0]
    assert [k["buildNumber"] for k in results["sent"]["accepted"]] == [1, 2, 3]
    # A no_log value inside a returned value is masked, as AnsibleModule masks it.
    assert results["sent"]["accepted"][1]["pipelineId"] == "pipe-********"
    assert results["sent"]["unknown_issue_keys"] == ["NOPE-1"]
    assert results["vaulted"]["accepted"] == [{"buildNumber": 4, "pipelineId": "pink-logo"}]
    assert results["env_only"]["accepted"] == ["pink-logo-flag"]
    assert results["checked"]["requests"] == 0 and results["checked"]["would_send"]["requests"] == 1
    assert results["invalid"]["failed"] and len(results["invalid"]["errors"]) == 2
    assert results["invalid"]["errors"][0].startswith("builds[0].state: 'done' is not one of")
    assert results["unknown_option"]["msg"].startswith(
        "Unsupported parameters for (jiraops.integration.devinfo) module: colour.")
    assert results["denied"]["failed"] and "HTTP 401" in results["denied"]["msg"]
    assert results["unknown_keys"]["failed"] and results["unknown_keys"]["changed"]
    assert results["deleted"]["deleted"] == [{"buildNumber": 1, "pipelineId": "pink-logo"}]
    assert results["async_run"]["accepted"] == [{"buildNumber": 13, "pipelineId": "pink-logo"}]
    if AS_ROOT:
        assert results["become_run"]["accepted"] == [{"buildNumber": 14, "pipelineId": "pink-logo"}]
    else:
        assert results["become_run"]["skipped"]


def test_every_devops_task_ran_as_a_module(played):
    log = played[2]
    for name in ("build_info", "feature_flag", "deployment_info", "devinfo"):
        assert f"AnsiballZ_{name}.py" in log


def test_no_secret_in_the_output(played):
    results, _stored, log = played
    assert TOKEN not in json.dumps(results)
    assert "wrong-token-0123456789" not in log
    # ansible-core itself shows a task's environment on the module's command line at -vvv; that is the only place.
    leaks = [line for line in log.splitlines() if TOKEN in line]
    assert leaks and all("EXEC" in line and "JIRA_TOKEN=" + TOKEN in line for line in leaks)
