"""The DevOps modules run inside Ansible's worker process when their task runs on the controller anyway, and give
exactly what the module process gives: the same playbook is run both ways (``jiraops_in_process``) with real
ansible-playbook runs against the emulator, and the registered results and what Jira stored are compared."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import ansible_collections.jiraops.integration as collection

pytestmark = pytest.mark.slow

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(list(collection.__path__)[0])))
CLOUD_ID = "11111111-2222-3333-4444-555555555555"
TOKEN = "in-worker-token-0123456789"
SCOPES = [f"{op}:{what}:jira-software" for op in ("read", "write")
          for what in ("build", "deployment", "feature-flag", "source-code")]
# What differs between two runs whatever the path: async job ids.
VOLATILE = ("ansible_job_id", "results_file")
IN_WORKER_TASKS = 10  # DevOps tasks of in_worker.yml without async or become
AS_ROOT = os.getuid() == 0   # the become task runs only as root (su asks anyone else for a password)


def run_playbook(emu, tmp_path, in_process):
    emu.control("POST", "/reset")
    emu.seed(bearer_tokens={TOKEN: {"user": "alice", "scopes": SCOPES, "expires_at": None, "client_id": "ci"}})
    out_file = tmp_path / f"results-{in_process}.json"
    extra = {"emu_url": emu.url, "cloud_id": CLOUD_ID, "token": TOKEN, "out_file": str(out_file),
             "jiraops_in_process": in_process}
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    tmp_path = tmp_path / str(in_process)
    tmp_path.mkdir()
    bindir = os.path.dirname(sys.executable)
    password_file = tmp_path / "vault-password"
    password_file.write_text("pink-vault-password\n")
    vaulted = subprocess.run([os.path.join(bindir, "ansible-vault"), "encrypt_string", "--vault-password-file",
                              str(password_file), TOKEN, "--name", "vault_token"], env=env, capture_output=True,
                             text=True, check=True).stdout
    vars_file = tmp_path / "vault-vars.yml"
    vars_file.write_text(vaulted)
    proc = subprocess.run([os.path.join(bindir, "ansible-playbook"), "-vvv", "--vault-password-file",
                           str(password_file), os.path.join(HERE, "playbooks", "in_worker.yml"),
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
def both(emulator_server, tmp_path_factory):
    from tests.conftest import Emulator  # pylint: disable=import-outside-toplevel
    emu = Emulator(emulator_server)
    tmp_path = tmp_path_factory.mktemp("in_worker")
    return {mode: run_playbook(emu, tmp_path, mode) for mode in (True, False)}


def test_same_results_both_ways(both):
    in_worker, module = both[True][0], both[False][0]
    assert set(in_worker) == set(module)
    for name in in_worker:
        assert in_worker[name] == module[name], name


def test_same_data_stored_in_jira_both_ways(both):
    assert both[True][1] == both[False][1]
    builds = both[True][1]["builds"]["builds"]
    # 1 was deleted, 9 only checked, 14 sent with become (as root only)
    assert sorted(b["data"]["buildNumber"] for b in builds) == [2, 3, 4, 12, 13] + ([14] if AS_ROOT else [])
    assert both[True][1]["flags"]["count"] == 1


def test_the_results_are_what_the_module_promises(both):
    results = both[True][0]
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


def test_which_path_ran(both):
    in_worker_log, module_log = both[True][2], both[False][2]
    marker = "running in the worker process"
    # Every DevOps task but the async and become ones ran in the worker; those and every task of the module run
    # started a module process.
    assert in_worker_log.count(marker) == IN_WORKER_TASKS
    assert in_worker_log.count("AnsiballZ_build_info.py") >= 1
    assert module_log.count(marker) == 0
    for name in ("build_info", "feature_flag", "deployment_info", "devinfo"):
        assert f"AnsiballZ_{name}.py" in module_log


def test_no_secret_in_either_output(both):
    for mode in (True, False):
        results, _stored, log = both[mode]
        assert TOKEN not in json.dumps(results)
        assert "wrong-token-0123456789" not in log
    assert TOKEN not in both[True][2]
    # As a module, ansible-core itself shows a task's environment: on the command line it logs at -vvv; running
    # in the worker process there is no such command line.
    leaks = [line for line in both[False][2].splitlines() if TOKEN in line]
    assert leaks and all("EXEC" in line and "JIRA_TOKEN=" + TOKEN in line for line in leaks)


def test_a_switch_that_is_not_a_boolean_is_named(emulator):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-c", "local",
                           "-m", "jiraops.integration.build_info", "-a",
                           json.dumps({"api_url": emulator.url, "cloud_id": CLOUD_ID, "token": TOKEN, "builds": []}),
                           "-e", "jiraops_in_process=pink"], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode != 0
    assert "jiraops_in_process: 'pink' is not a boolean" in proc.stdout + proc.stderr
    assert not emulator.requests("/jira/")
