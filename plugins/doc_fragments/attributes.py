# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    # Attributes shared by modules that talk to Jira.
    DOCUMENTATION = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/jiraops.integration.jira) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - jiraops.integration.jira
"""
