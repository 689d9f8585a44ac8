"""ansible-runner runs the demo playbook against the emulator the way AWX runs a job: a private data directory
with the inventory and the JIRA_* variables a credential injects (env/envvars), the playbook from the project."""
from __future__ import annotations

import glob
import json
import os
import sys
import uuid

import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_run  # noqa: E402  pylint: disable=wrong-import-position


def test_ansible_runner_runs_the_demo(emulator, tmp_path):
    password = "runner-Passw0rd-" + uuid.uuid4().hex[:12]
    pat = "runner-pat-" + uuid.uuid4().hex
    with emulator.state.lock:
        emulator.state.users["runner"] = {"name": "runner", "password": password, "displayName": "Runner Job",
                                          "emailAddress": "runner@example.com", "accountId": "emu-runner",
                                          "admin": False}
        emulator.state.pats[pat] = "runner"
    pdd = tmp_path / "runner"
    (pdd / "env").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    ansible_run.localhost_inventory(str(pdd / "inventory" / "hosts.yml"))
    envvars = {"JIRA_URL": emulator.url, "JIRA_USERNAME": "runner", "JIRA_PASSWORD": password,
               "JIRAOPS_DEMO_PAT": pat, "JIRAOPS_DEMO_DIR": str(tmp_path / "demo")}
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
    home = str(tmp_path / "home")
    os.makedirs(home)
    proc = ansible_run.run([ansible_run.tool("ansible-runner"), "run", str(pdd), "--ident", "demo",
                            "--project-dir", os.path.join(ansible_run.collection_dir(), "playbooks"),
                            "-p", "demo.yml"], env=ansible_run.base_env(home))
    out = proc.stdout + proc.stderr
    artifacts = pdd / "artifacts" / "demo"
    assert proc.returncode == 0, out[-3000:]
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"
    events = [json.loads(open(p, encoding="utf-8").read()) for p in glob.glob(str(artifacts / "job_events" / "*.json"))]
    ok_tasks = {e["event_data"].get("task") for e in events if e["event"] == "runner_on_ok"}
    assert {"Who am I (basic auth from JIRA_USERNAME / JIRA_PASSWORD)",
            "Read JJ-2 with a Data Center personal access token"} <= ok_tasks
    # The emulator saw the calls, as the planted user: basic auth then the PAT.
    with emulator.state.lock:
        log = [(r["method"], r["path"], r["status"]) for r in emulator.state.requests]
    assert ("GET", "/rest/api/2/myself", 200) in log and ("GET", "/rest/api/2/issue/JJ-2", 200) in log
    assert "signed in as Runner Job (runner)" in out
    assert os.path.exists(tmp_path / "demo" / "keys" / "jira_privatekey.pem")
    # What AWX would store and show (stdout, events) holds no secret.
    shown = (artifacts / "stdout").read_text() + json.dumps(events)
    assert password not in shown and pat not in shown
