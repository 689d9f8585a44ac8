# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark only: Ansible's floor for a module task that returns what build_info returns for N builds.

It waits as long as the round trips of the physical limit take, then returns one accepted key per build, with a
no_log value set as build_info's token is: what Ansible costs for that task whatever the module does.
"""
from __future__ import annotations

import time

from ansible.module_utils.basic import AnsibleModule


def floor():
    module = AnsibleModule(argument_spec={"token": {"type": "str", "no_log": True}, "count": {"type": "int"},
                                          "wait": {"type": "float"}})
    time.sleep(module.params["wait"])
    accepted = [{"pipelineId": f"pink-logo-{i // 1000}", "buildNumber": i} for i in range(module.params["count"])]
    module.exit_json(changed=True, accepted=accepted, rejected=[], unknown_issue_keys=[],
                     requests=-(-module.params["count"] // 100))
