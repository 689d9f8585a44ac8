# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs jiraops.integration.feature_flag in the worker process when its task runs on the controller (see _in_worker)."""
from __future__ import annotations

from ansible_collections.jiraops.integration.plugins.plugin_utils._in_worker import DevopsAction


class ActionModule(DevopsAction):
    kind = "flags"
