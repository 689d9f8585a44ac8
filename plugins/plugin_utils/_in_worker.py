# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a Jira module inside Ansible's worker process when its task would run on the controller anyway.

A module task costs a fixed few tenths of a second (Ansible builds a module package, writes the arguments into it,
starts a Python process that imports everything again) plus the time to move the arguments: for 10,000 builds that
is a few megabytes encoded into Python source and parsed again. The DevOps modules talk only to Jira, so when the
task runs on this machine anyway (``connection: local``, no ``become``, no ``async``) the action plugin runs the
same module code here: the same argument spec, the same ``run()`` function, the same result (encoded and decoded
with the module serialization profile, no_log values masked the way AnsibleModule masks them).

Anything else (a remote or delegated host, ``become``, ``async``, ``jiraops_in_process: false``, a controller
without ``requests``) runs the module the usual way.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.validation import check_type_bool
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

try:
    from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
except ImportError:  # ansible-core < 2.19: no module serialization profiles; run as a module
    Direction = get_module_decoder = get_module_encoder = None

display = Display()

SWITCH = "jiraops_in_process"
PROFILE = "legacy"   # the serialization profile of modules that declare none (all of this collection's)


@contextmanager
def _environment(extra):
    """The task's ``environment:`` on top of the worker's own, as a module process would see it."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update({name: str(value) for name, value in extra.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _module_args(args):
    """The arguments as a module receives them: encoded and decoded as Ansible does (plain types, vaulted values
    decrypted, lazy templates resolved).

    A string arrives as the same characters, so strings skip the round trip: an entity list given as JSON text
    is megabytes that encoding would escape and decoding would scan again, only to give back the same text.
    """
    texts = {name: str(value) for name, value in args.items() if isinstance(value, str)}
    rest = {name: value for name, value in args.items() if name not in texts}
    text = json.dumps(rest, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE))
    plain = json.loads(text, cls=get_module_decoder(PROFILE, Direction.CONTROLLER_TO_MODULE))
    plain.update(texts)
    return plain


class InWorkerAction(ActionBase):
    """Action plugin of a Jira module that can run in the worker process; subclasses say how to run it."""

    _supports_check_mode = True
    _supports_async = True

    def module_spec(self):
        """The module's own argument_spec (without the shared connection options)."""
        raise NotImplementedError

    def module_run(self, module):
        """The module's work: what its main() hands to ``JiraModule.run``."""
        raise NotImplementedError

    def in_worker(self, task_vars):
        """Whether this task would start the module on this machine anyway, as the user who runs Ansible."""
        if get_module_encoder is None or self._task.async_val:
            return False
        switch = (task_vars or {}).get(SWITCH, True)
        try:
            if not check_type_bool(switch):
                return False
        except TypeError:
            raise AnsibleActionFail(f"{SWITCH}: {switch!r} is not a boolean (true runs the module in Ansible's "
                                    "worker process when the task runs on the controller, false always starts a "
                                    "module process)") from None
        if getattr(self._connection, "transport", None) != "local":
            return False
        if getattr(self._play_context, "become", False) or getattr(self._connection, "become", None) is not None:
            return False
        try:
            import requests  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
        except ImportError:
            return False
        return True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        if not self.in_worker(task_vars):
            wrap_async = self._task.async_val and not self._connection.has_native_async
            result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        environment = {}
        self._compute_environment_string(environment)
        args = _module_args(dict(self._task.args))
        display.vvv(f"{self._task.action}: running in the worker process ({SWITCH}: false starts a module instead)",
                    host=self._play_context.remote_addr)
        # Imported here: a task that runs as a module should not pay for importing requests and AnsibleModule.
        from ansible_collections.jiraops.integration.plugins.plugin_utils._worker_module import (  # pylint: disable=import-outside-toplevel
            ModuleExit,
            WorkerModule,
        )

        with _environment(environment):
            try:
                module = WorkerModule(self._task.action, args, self.module_spec(), bool(self._task.check_mode))
                module.run(self.module_run)
            except ModuleExit as done:
                outcome = done.result
            else:  # pragma: no cover - JiraModuleBase.run always exits
                outcome = {"failed": True, "msg": "the module did not return a result"}
        result.update(outcome)
        return result


class DevopsAction(InWorkerAction):
    """The four DevOps modules: their argument spec and run() live in ``module_utils/_devops.py``."""

    kind = ""   # builds, deployments, repositories, flags

    def module_spec(self):
        from ansible_collections.jiraops.integration.plugins.module_utils import _devops  # pylint: disable=import-outside-toplevel
        return _devops.argument_spec(_devops.APIS[self.kind])

    def module_run(self, module):
        from ansible_collections.jiraops.integration.plugins.module_utils import _devops  # pylint: disable=import-outside-toplevel
        return _devops.run(module, _devops.APIS[self.kind])
