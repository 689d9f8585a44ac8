"""``src``: the DevOps modules read their entities from a JSON array or NDJSON file themselves, run for real
(in-process main()) against the emulator; bad files are named with the line, and nothing is sent."""
from __future__ import annotations

import json
import os
import time

import pytest
from devops_support import TOKEN, args, builds
from test_devops_modules import ALL_SCOPES, deployment, flag, repo

from ansible_collections.jiraops.integration.plugins.module_utils import _entity_file


@pytest.fixture
def emu(emulator):
    emulator.seed(bearer_tokens={TOKEN: {"user": "alice", "scopes": ALL_SCOPES, "expires_at": None,
                                         "client_id": "ci"}})
    return emulator


def stored(emu, collection):
    return emu.control("GET", f"/devops/{collection}")[collection]


def jira_calls(emu):
    return [r for r in emu.requests("/jira/") if not r["path"].startswith("/_emulator")]


def write_ndjson(path, items, blank_lines=False):
    sep = "\n\n" if blank_lines else "\n"
    path.write_text(sep.join(json.dumps(item) for item in items) + "\n")
    return str(path)


def test_a_json_array_file_of_250_builds_is_sent_and_stored(emu, run_module, tmp_path):
    src = tmp_path / "builds.json"
    src.write_text(json.dumps(builds(250), indent=1))
    res = run_module("build_info", args(emu, src=str(src)))
    assert not res.failed, res["msg"]
    assert res["changed"] is True and res["requests"] == 3 and len(res["accepted"]) == 250
    assert sorted(i["data"]["buildNumber"] for i in stored(emu, "builds")) == list(range(250))
    echoed = res["invocation"]["module_args"]
    assert echoed["src"] == str(src) and echoed["builds"] is None
    assert echoed["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" and TOKEN not in json.dumps(res)


def test_an_ndjson_file_of_builds_with_blank_lines_is_sent_and_stored(emu, run_module, tmp_path):
    src = write_ndjson(tmp_path / "builds.ndjson", builds(120, start=5), blank_lines=True)
    res = run_module("build_info", args(emu, src=src, properties={"ciServer": "eu-1"}))
    assert not res.failed, res["msg"]
    assert res["requests"] == 2 and len(res["accepted"]) == 120
    items = stored(emu, "builds")
    assert sorted(i["data"]["buildNumber"] for i in items) == list(range(5, 125))
    assert all(i["properties"] == {"ciServer": "eu-1"} for i in items)


def test_deployments_flags_and_repositories_from_files(emu, run_module, tmp_path):
    res = run_module("deployment_info", args(emu, src=write_ndjson(tmp_path / "d.ndjson",
                                                                   [deployment(1), deployment(2)])))
    assert not res.failed, res["msg"]
    assert sorted(d["data"]["deploymentSequenceNumber"] for d in stored(emu, "deployments")) == [1, 2]
    res = run_module("feature_flag", args(emu, src=write_ndjson(tmp_path / "f.ndjson", [flag("pink-logo")])))
    assert not res.failed, res["msg"]
    assert res["accepted"] == ["pink-logo"] and stored(emu, "flags")[0]["data"]["id"] == "pink-logo"
    repos = tmp_path / "repos.json"
    repos.write_text(json.dumps([repo("pink", 3)]))
    res = run_module("devinfo", args(emu, src=str(repos)))
    assert not res.failed, res["msg"]
    assert [r["key"] for r in stored(emu, "repositories")] == ["pink"]


def test_check_mode_and_delete_by_key_read_src_too(emu, run_module, tmp_path):
    src = write_ndjson(tmp_path / "builds.ndjson", builds(3))
    res = run_module("build_info", args(emu, src=src), check_mode=True)
    assert not res.failed and res["would_send"]["requests"] == 1 and stored(emu, "builds") == []
    assert not run_module("build_info", args(emu, src=src)).failed
    keys = write_ndjson(tmp_path / "keys.ndjson", [{"pipelineId": "pink-logo", "buildNumber": n} for n in (0, 2)])
    res = run_module("build_info", args(emu, src=keys, state="absent"))
    assert not res.failed, res["msg"]
    assert res["changed"] is True and [i["data"]["buildNumber"] for i in stored(emu, "builds")] == [1]


def test_src_and_the_inline_list_together_are_refused(emu, run_module, tmp_path):
    src = write_ndjson(tmp_path / "builds.ndjson", builds(1))
    res = run_module("build_info", args(emu, src=src, builds=builds(1)))
    assert res.failed and "mutually exclusive" in res["msg"] and "builds|src" in res["msg"]
    res = run_module("feature_flag", args(emu, src=src, flags=[]))
    assert res.failed and "flags|src" in res["msg"]
    assert jira_calls(emu) == []


def test_neither_src_nor_the_list_with_state_present_is_refused(emu, run_module):
    res = run_module("build_info", args(emu))
    assert res.failed and "state is present but any of the following are missing: builds, src" in res["msg"]
    assert jira_calls(emu) == []


def test_src_and_properties_with_state_absent_are_refused(emu, run_module, tmp_path):
    src = write_ndjson(tmp_path / "keys.ndjson", [{"pipelineId": "pink-logo", "buildNumber": 1}])
    res = run_module("build_info", args(emu, src=src, state="absent", properties={"ci": "pink"}))
    assert res.failed and res["msg"].startswith("src: with state=absent give either src")
    assert jira_calls(emu) == []


@pytest.mark.parametrize("content, expected", [
    ('{"pipelineId": "a", "buildNumber": 1}\n{"pipelineId": "a", "buildNumber": 2\n{"x": 1}\n',
     "line 2: not valid JSON"),
    ('{"pipelineId": "a", "buildNumber": 1}\n\n[1, 2]\n', "line 3: an object is expected, this is an array"),
    ('\n  "pink"\n', "line 2: an object is expected, this is a string"),
    ('[\n  {"pipelineId": "a", "buildNumber": 1},\n  {"pipelineId": "a",, "buildNumber": 2}\n]\n',
     "line 3: not valid JSON"),
    ('[{"pipelineId": "a", "buildNumber": 1}, 42]', "item 1: a JSON array of objects is expected, this is a number"),
    (b"\xff\xfe[]", "is not UTF-8 text"),
])
def test_a_bad_file_is_named_with_where_and_nothing_is_sent(emu, run_module, tmp_path, content, expected):
    src = tmp_path / "bad.ndjson"
    if isinstance(content, bytes):
        src.write_bytes(content)
    else:
        src.write_text(content)
    res = run_module("build_info", args(emu, src=str(src)))
    assert res.failed and res["msg"].startswith(f"src: {src}")
    assert expected in res["msg"], res["msg"]
    assert "Traceback" not in json.dumps(res) and jira_calls(emu) == []


def test_a_missing_file_and_a_directory_are_named(emu, run_module, tmp_path):
    res = run_module("build_info", args(emu, src=str(tmp_path / "nope.json")))
    assert res.failed and res["msg"] == f"src: {tmp_path / 'nope.json'} does not exist"
    res = run_module("build_info", args(emu, src=str(tmp_path)))
    assert res.failed and res["msg"] == f"src: {tmp_path} is a directory, expected a file"
    assert jira_calls(emu) == []


def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(emu, run_module, tmp_path):
    fifo = tmp_path / "builds.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    res = run_module("build_info", args(emu, src=str(fifo)))
    assert time.monotonic() - started < 5
    assert res.failed and res["msg"].startswith(f"src: {fifo} is not a regular file")
    assert jira_calls(emu) == []


def test_a_file_over_the_limit_is_refused_before_reading(emu, run_module, tmp_path, monkeypatch):
    assert _entity_file.MAX_SIZE == 256 * 1024 * 1024
    src = tmp_path / "builds.json"
    src.write_text(json.dumps(builds(50)))
    monkeypatch.setattr(_entity_file, "MAX_SIZE", 1000)
    res = run_module("build_info", args(emu, src=str(src)))
    assert res.failed and "more than the 1000 bytes" in res["msg"] and res["msg"].startswith("src: ")
    assert jira_calls(emu) == []
