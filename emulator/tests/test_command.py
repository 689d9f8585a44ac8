"""The installed ``jira-emulator`` command serves a working Jira on the URL it prints."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import requests


def _command():
    """The console script pip installed next to this interpreter (PATH may point elsewhere)."""
    found = shutil.which("jira-emulator", path=os.path.dirname(sys.executable))
    assert found, "jira-emulator is not installed next to " + sys.executable + ": pip install ./emulator"
    return found


def test_the_command_prints_its_url_and_serves_the_seeded_jira(tmp_path):
    url_file = tmp_path / "url"
    proc = subprocess.Popen([_command(), "--port", "0", "--url-file", str(url_file)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url_file.read_text(encoding="utf-8").strip() == url
        me = requests.get(url + "/rest/api/2/myself", auth=("alice", "alice-password"), timeout=10)
        assert me.status_code == 200 and me.json()["name"] == "alice"
        assert requests.get(url + "/_edge/tenant_info", timeout=10).json()["cloudId"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0, "SIGTERM ends it cleanly"


def test_python_dash_m_is_the_same_command():
    proc = subprocess.run([sys.executable, "-m", "jira_emulator", "--help"], capture_output=True, text=True,
                          timeout=30, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: jira-emulator")


def test_verbose_logs_each_request_and_idle_timeout_is_a_setting():
    proc = subprocess.Popen([_command(), "--port", "0", "--verbose", "--idle-timeout", "0.5"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        with requests.Session() as session:
            assert session.get(url + "/rest/api/2/myself", auth=("alice", "alice-password"), timeout=10).ok
            assert session.get(url + "/_emulator/health", timeout=10).json() == {"ok": True}
            peers = {entry["peer"] for entry in session.get(url + "/_emulator/requests", timeout=10).json()["requests"]}
        assert len(peers) == 1, "the command's server keeps connections alive too"
    finally:
        proc.terminate()
        dummy, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "GET /rest/api/2/myself 200" in err


def test_an_idle_timeout_of_zero_is_refused():
    proc = subprocess.run([sys.executable, "-m", "jira_emulator", "--idle-timeout", "0"], capture_output=True,
                          text=True, timeout=30, check=False)
    assert proc.returncode == 2 and "--idle-timeout must be more than 0 seconds" in proc.stderr
