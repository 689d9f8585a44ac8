# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``WorkerModule``: the part of AnsibleModule the Jira modules use, for running one in Ansible's worker process.

Used by the action plugins through ``_in_worker.InWorkerAction``; see there for when.
"""
from __future__ import annotations

import json

from ansible import constants as C
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.utils.display import Display

from ansible_collections.jiraops.integration.plugins.module_utils._module import JiraModuleBase
from ansible_collections.jiraops.integration.plugins.module_utils._options import connection_argspec
from ansible_collections.jiraops.integration.plugins.plugin_utils._in_worker import PROFILE

display = Display()


class ModuleExit(Exception):
    """exit_json/fail_json in the worker: carries the finished result out of the module's code."""

    def __init__(self, result):
        super().__init__("module exit")
        self.result = result


class WorkerModule(JiraModuleBase):
    """The part of AnsibleModule the Jira modules use, for running one inside the worker process."""

    def __init__(self, name, args, argument_spec, check_mode):
        self._name = name
        self.check_mode = check_mode
        self.no_log_values = set()
        self._debug = bool(C.DEFAULT_DEBUG)
        self._setup_jira(argument_spec)
        spec = connection_argspec()
        spec.update(argument_spec)
        validation = ArgumentSpecValidator(spec).validate(args)
        self.params = validation.validated_parameters
        self.no_log_values.update(validation._no_log_values)
        for item in validation._deprecations:
            display.warning(f"deprecated: {item['msg']}")
        for item in validation._warnings:
            display.warning(f"Both option {item['option']} and its alias {item['alias']} are set.")
        if validation.error_messages:
            msg = validation.errors.msg
            if isinstance(validation.errors.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({name}) module: {msg}"
            self.fail_json(msg=msg)

    def debug(self, msg):
        display.debug(f"{self._name}: {msg}")

    def warn(self, msg):
        display.warning(msg)

    def exit_json(self, **kwargs):
        raise ModuleExit(self._finish(kwargs))

    def fail_json(self, msg, **kwargs):
        kwargs.pop("exception", None)
        kwargs.update(failed=True, msg=msg)
        raise ModuleExit(self._finish(kwargs))

    def _finish(self, result):
        """What AnsibleModule returns: ``invocation`` added, no_log values masked, booleans and None kept.

        The result is encoded as a module's would be (so that it holds only what a module could return), and that
        text tells cheaply whether any no_log value occurs in it at all: walking 10,000 accepted keys with
        ``remove_values`` costs more than the rest of returning them. ``invocation`` (the options, secrets
        included, entity lists shortened) is small and always masked.
        """
        invocation = result.pop("invocation", None) or self.invocation()
        text = json.dumps(result, cls=get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER))
        # JSON escapes character by character, so a value inside a longer string appears as its own escaped form.
        if any(json.dumps(str(value))[1:-1] in text for value in self.no_log_values):
            result = self._masked(result)
        result["invocation"] = self._masked(invocation)
        return result

    def _masked(self, data):
        preserved = {k: v for k, v in data.items() if v is None or isinstance(v, bool)}
        data = remove_values(data, self.no_log_values)
        data.update(preserved)
        return data
