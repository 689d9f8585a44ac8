"""WorkerModule returns what AnsibleModule would: secrets masked wherever they occur, invocation masked, bad
options named; the cheap no_log check never lets a secret through."""
from __future__ import annotations

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils import _devops
from ansible_collections.jiraops.integration.plugins.plugin_utils._worker_module import ModuleExit, WorkerModule

SPEC = _devops.argument_spec(_devops.APIS["builds"])
NAME = "jiraops.integration.build_info"


def finish(token, **result):
    module = WorkerModule(NAME, {"token": token, "cloud_id": "c-1", "builds": "[]"}, SPEC, check_mode=False)
    with pytest.raises(ModuleExit) as done:
        module.exit_json(**result)
    return done.value.result


@pytest.mark.parametrize("token", [
    "plain-token-0123456789",
    'quote"and\\backslash-token',     # JSON escapes these
    "ünïcode-tökén-✓-0123",           # and these (ensure_ascii)
    "tab\tnewline\ntoken-0123",
])
def test_a_secret_inside_a_returned_value_is_masked(token):
    result = finish(token, accepted=[{"pipelineId": "p-" + token + "-x", "buildNumber": 1}], changed=True)
    assert token not in str(result)
    assert result["accepted"][0]["pipelineId"] == "p-********-x"
    assert result["changed"] is True
    assert result["invocation"]["module_args"]["token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_a_result_without_secrets_is_returned_as_is():
    accepted = [{"pipelineId": "pink-logo", "buildNumber": n} for n in range(3)]
    result = finish("plain-token-0123456789", accepted=accepted, changed=True)
    assert result["accepted"] is accepted   # not walked or copied
    assert "plain-token-0123456789" not in str(result)


def test_fail_json_masks_and_marks_failed():
    token = "plain-token-0123456789"
    module = WorkerModule(NAME, {"token": token, "cloud_id": "c-1", "builds": "[]"}, SPEC, check_mode=False)
    with pytest.raises(ModuleExit) as done:
        module.fail_json(msg=f"Jira said {token} is wrong", exception="trace")
    assert done.value.result["failed"] is True
    assert done.value.result["msg"] == "Jira said ******** is wrong"
    assert "exception" not in done.value.result


def test_unknown_and_wrongly_typed_options_are_named():
    with pytest.raises(ModuleExit) as done:
        WorkerModule(NAME, {"builds": "[]", "colour": "pink"}, SPEC, check_mode=False)
    assert done.value.result["msg"].startswith(f"Unsupported parameters for ({NAME}) module: colour.")
    with pytest.raises(ModuleExit) as done:
        WorkerModule(NAME, {"builds": "[]", "fail_on_rejected": "maybe"}, SPEC, check_mode=False)
    assert "fail_on_rejected" in done.value.result["msg"] and done.value.result["failed"]
