"""ansible-runner runs the demo and the build-reporting playbooks against the emulator the way AWX runs a job: a private data directory
with the inventory and the JIRA_* variables a credential injects (env/envvars), the playbook from the project.

The demo runs once in the whole suite, here, at -vvvv (one module-scoped run, kept on one pytest-xdist worker by its
xdist_group): the tests below read that run, including the secret scan of its output and what the demo's OAuth 1.0a
and OAuth 2.0 parts must have done."""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import uuid

import pytest
import requests
import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ansible_run  # noqa: E402  pylint: disable=wrong-import-position
from reliability_support import REPORT  # noqa: E402  pylint: disable=wrong-import-position
from secret_scan import (  # noqa: E402  pylint: disable=wrong-import-position
    MIN_OUTPUT, MIN_SECRET, _walk, harvesting, scan)


@pytest.fixture(scope="module")
def demo_run(emulator_server, tmp_path_factory):
    """demo/demo.yml once through ansible-runner at -vvvv, with what the tests below read of it."""
    tmp_path = tmp_path_factory.mktemp("demo-run")
    state, url = emulator_server.state, emulator_server.url
    state.reset()

    def control(path, **params):
        resp = requests.get(f"{url}/_emulator{path}", params=params, timeout=10)
        resp.raise_for_status()
        return resp.json()

    password = "runner-Passw0rd-" + uuid.uuid4().hex[:12]
    pat = "runner-pat-" + uuid.uuid4().hex
    with state.lock:
        state.users["runner"] = {"name": "runner", "password": password, "displayName": "Runner Job",
                                 "emailAddress": "runner@example.com", "accountId": "emu-runner", "admin": False}
        state.pats[pat] = "runner"
    pdd = tmp_path / "runner"
    (pdd / "env").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    ansible_run.localhost_inventory(str(pdd / "inventory" / "hosts.yml"))
    log_path = str(tmp_path / "ansible.log")
    envvars = {"JIRA_URL": url, "JIRA_USERNAME": "runner", "JIRA_PASSWORD": password,
               "JIRAOPS_DEMO_PAT": pat, "JIRAOPS_DEMO_DIR": str(tmp_path / "demo"), "ANSIBLE_LOG_PATH": log_path}
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
    (pdd / "env" / "cmdline").write_text("-vvvv", encoding="utf-8")  # as a job template's verbosity 4
    home = str(tmp_path / "home")
    os.makedirs(home)
    seen = set()
    with harvesting(state, seen):
        proc = ansible_run.run([ansible_run.tool("ansible-runner"), "run", str(pdd), "--ident", "demo",
                                "--project-dir", os.path.join(ansible_run.collection_dir(), "demo"),
                                "-p", "demo.yml"], env=ansible_run.base_env(home))
        with state.lock:
            log = [(r["method"], r["path"], r["status"]) for r in state.requests]
        verified = control("/oauth1/verified")["verified"]
        applinks = control("/applinks")["applinks"]
        chains = control("/oauth2/chains", user="alice")["chains"]
    artifacts = pdd / "artifacts" / "demo"
    events = [json.loads(open(p, encoding="utf-8").read()) for p in glob.glob(str(artifacts / "job_events" / "*.json"))]
    return {"proc": proc, "out": proc.stdout + proc.stderr, "artifacts": artifacts, "events": events, "log": log,
            "verified": verified, "applinks": applinks, "chains": chains, "seen": seen, "tmp": tmp_path,
            "log_path": log_path, "password": password, "pat": pat}


def _demo_ok(run):
    assert run["proc"].returncode == 0, run["out"][-3000:]
    return run


@pytest.mark.xdist_group("demo")
def test_ansible_runner_runs_the_demo(demo_run):
    run = _demo_ok(demo_run)
    out, artifacts, events = run["out"], run["artifacts"], run["events"]
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"
    ok_tasks = {e["event_data"].get("task") for e in events if e["event"] == "runner_on_ok"}
    assert {"Who am I (basic auth from JIRA_USERNAME / JIRA_PASSWORD)",
            "Read JJ-2 with a Data Center personal access token"} <= ok_tasks
    # The emulator saw the calls, as the planted user: basic auth then the PAT.
    assert ("GET", "/rest/api/2/myself", 200) in run["log"] and ("GET", "/rest/api/2/issue/JJ-2", 200) in run["log"]
    assert "signed in as Runner Job (runner)" in out
    assert os.path.exists(run["tmp"] / "demo" / "keys" / "jira_privatekey.pem")
    # What AWX would store and show (stdout, events) holds no secret.
    shown = (artifacts / "stdout").read_text() + json.dumps(events)
    assert run["password"] not in shown and run["pat"] not in shown


@pytest.mark.xdist_group("demo")
def test_the_demo_goes_from_nothing_to_a_verified_signed_oauth1_call(demo_run):
    """demo/demo_oauth1.yml, imported by the demo: a link, then a call signed with its consumer, as alice."""
    run = _demo_ok(demo_run)
    assert ("GET", "/rest/api/2/issue/JJ-2", "alice", "jiraops-demo") in [
        (v["method"], v["path"], v["user"], v["consumer_key"]) for v in run["verified"]]
    [link] = run["applinks"]
    assert link["name"] == "jiraops demo" and link["consumer"]["key"] == "jiraops-demo"
    assert "signed read of JJ-2 'Jira Junior logo is not pink enough'" in run["out"]


@pytest.mark.xdist_group("demo")
def test_the_demo_oauth2_part_with_basic_auth_variables_in_the_environment(demo_run):
    """demo/demo_oauth2.yml, imported by the demo: JIRA_USERNAME / JIRA_PASSWORD make no task ambiguous."""
    run = _demo_ok(demo_run)
    assert "with 1 token request(s)" in run["out"]
    assert "3 refresh-token rotations, grant still valid" in run["out"]
    assert run["chains"][-1]["revoked"] is False


@pytest.mark.xdist_group("demo")
def test_no_secret_in_the_demo_vvvv_output(demo_run):
    """Everything the emulator saw or issued, every private key the run wrote and the planted ones: in no output."""
    run = _demo_ok(demo_run)
    seen = set(run["seen"])
    for path in glob.glob(str(run["tmp"] / "**" / "*"), recursive=True):
        if os.path.isfile(path) and path != run["log_path"] and os.path.getsize(path) < 1_000_000:
            with open(path, "rb") as handle:
                _walk(handle.read(), seen)
    secrets = {s for s in seen | {run["password"], run["pat"]} if isinstance(s, str) and len(s) >= MIN_SECRET}
    with open(run["log_path"], encoding="utf-8", errors="replace") as handle:
        output = "\n".join([run["out"], (run["artifacts"] / "stdout").read_text(), json.dumps(run["events"]),
                            handle.read()])
    leaks = scan(output, secrets)
    REPORT.add("secrets", scenario="demo playbook (ansible-runner)", tasks=len(run["events"]),
               bytes=len(output.encode()), secrets=len(secrets), leaks=sum(leaks.values()))
    assert len(secrets) >= 20, "the run must have planted a private key, tokens and a verifier"
    assert len(output) > MIN_OUTPUT, "suspiciously little -vvvv output"
    assert not leaks, "secrets in the output: " + ", ".join(f"{s[:4]}...({n}x)" for s, n in leaks.items())


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True)


def test_ansible_runner_runs_the_reporting_playbook_with_oauth_credentials(emulator, tmp_path):
    """The AWX job of docs/awx.md: report_build.yml, the 2LO credential type's variables, a CI job's variables."""
    repo = tmp_path / "pink-logo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "alice@example.com")
    _git(repo, "config", "user.name", "Alice Developer")
    (repo / "logo.svg").write_text("<svg/>\n")
    _git(repo, "add", "logo.svg")
    _git(repo, "commit", "-qm", "Initial commit")
    _git(repo, "checkout", "-qb", "feature/JJ-12-pink-logo")
    (repo / "logo.svg").write_text("<svg fill='pink'/>\n")
    _git(repo, "commit", "-qam", "JJ-2 make the logo pinker")
    secret = "emu-2lo-secret-0001-do-not-share"
    pdd = tmp_path / "runner"
    (pdd / "env").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    ansible_run.localhost_inventory(str(pdd / "inventory" / "hosts.yml"))
    envvars = {
        # What the "Jira Cloud OAuth credentials" credential type injects.
        "JIRA_URL": emulator.url, "JIRA_API_URL": emulator.url, "JIRA_AUTH_URL": emulator.url,
        "JIRA_CLIENT_ID": "emu-2lo-client-0001", "JIRA_CLIENT_SECRET": secret,
        # What the CI job provides.
        "JIRA_GIT_REPO": str(repo), "JOB_NAME": "pink-logo", "BUILD_NUMBER": "31",
        "BUILD_URL": "https://ci.example.com/job/pink-logo/31/",
    }
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
    home = str(tmp_path / "home")
    os.makedirs(home)
    proc = ansible_run.run([ansible_run.tool("ansible-runner"), "run", str(pdd), "--ident", "report",
                            "--project-dir", os.path.join(ansible_run.collection_dir(), "playbooks"),
                            "-p", "report_build.yml"], env=ansible_run.base_env(home))
    out = proc.stdout + proc.stderr
    artifacts = pdd / "artifacts" / "report"
    assert proc.returncode == 0, out[-3000:]
    assert (artifacts / "status").read_text() == "successful"
    assert "Jira build pink-logo #31 (successful) on JJ-12, JJ-2: 1 accepted, 0 rejected" in out
    builds = emulator.control("GET", "/devops/builds")["builds"]
    assert [(b["data"]["pipelineId"], b["data"]["buildNumber"]) for b in builds] == [("pink-logo", 31)]
    # No token store in this credential type: each task that calls Jira gets its own client-credentials token.
    tokens = emulator.control("GET", "/oauth2/token-requests", params={"client_id": "emu-2lo-client-0001"})
    assert tokens["count"] >= 1 and {r["grant_type"] for r in tokens["requests"]} == {"client_credentials"}
    shown = (artifacts / "stdout").read_text()
    assert secret not in shown


def test_scheduled_3lo_jobs_in_fresh_containers_share_only_the_vault_store(emulator, vault, run_module, tmp_path):
    """A scheduled 3LO job run twice, each time in a fresh private data dir and HOME (a new EE container, maybe on
    another node), with only what the "token store in Vault" credential type injects: the second run refreshes
    with the refresh token the first one rotated and wrote to Vault."""
    sys.path.insert(0, os.path.join(ansible_run.HERE, "functional"))
    from oauth2_support import APP, chains, grant, token_requests  # pylint: disable=import-outside-toplevel
    from test_awx_credential_types import load, render_env  # pylint: disable=import-outside-toplevel
    emulator.configure(oauth2_reuse_grace=0)  # a reused refresh token would revoke the grant at once
    role_id, secret_id = vault.approle(["secret/data/jira/tests/*"])
    # The grant, put into Vault once (as the oauth2_authorize role does).
    seed = grant(emulator, run_module, vault.location, access_ttl=3600, vault_url=vault.url,
                 vault_token=vault.root_token)["refresh_token"]
    inputs = {**APP, "token_cache": vault.location, "vault_url": vault.url, "vault_role_id": role_id,
              "vault_secret_id": secret_id, "cloud_id": emulator.state.config["cloud_id"],
              "api_url": emulator.url, "auth_url": emulator.url}
    envvars = render_env(load("jira_cloud_3lo_vault.yml"), inputs)
    project = os.path.join(ansible_run.REPO, "tests", "functional", "playbooks")
    heads = [chains(emulator)["chains"][0]["head_sha256"]]
    for run in (1, 2):
        vault.expire_access_tokens(vault.location)  # a day between two runs of the schedule: the job must refresh
        pdd = tmp_path / f"job-{run}"
        (pdd / "env").mkdir(parents=True)
        (pdd / "inventory").mkdir()
        ansible_run.localhost_inventory(str(pdd / "inventory" / "hosts.yml"))
        (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
        (pdd / "env" / "extravars").write_text(yaml.safe_dump({"out_file": str(pdd / "out.json")}), encoding="utf-8")
        home = tmp_path / f"home-{run}"
        home.mkdir()
        proc = ansible_run.run([ansible_run.tool("ansible-runner"), "run", str(pdd), "--ident", "scheduled",
                                "--project-dir", project, "-p", "vault_refresh.yml"],
                               env=ansible_run.base_env(str(home)))
        artifacts = pdd / "artifacts" / "scheduled"
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
        assert (artifacts / "status").read_text() == "successful"
        assert json.loads((pdd / "out.json").read_text()) == {"user": "alice", "uri_user": "alice"}
        info = chains(emulator)
        assert info["events"] == [] and info["chains"][0]["revoked"] is False
        heads.append(info["chains"][0]["head_sha256"])
        shown = (artifacts / "stdout").read_text()
        assert secret_id not in shown and APP["client_secret"] not in shown and vault.root_token not in shown
    refreshes = token_requests(emulator, grant_type="refresh_token")
    assert refreshes["count"] == 2, "one refresh per job: the second with the first job's rotated token"
    chain = chains(emulator)["chains"][0]
    assert chain["rotations"] == 2 and chain["grace_reuses"] == 0 and len(set(heads)) == 3
    data, _version = vault.kv(vault.location)
    entry = next(e for e in data["entries"].values() if e["kind"] == "user")
    assert entry["refresh_token"] != seed and "lease" not in data
