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

    # Check and diff mode of modules that only read (git_info, cloud_id, credential_info); use as jiraops.integration.attributes.read_only.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module only reads; it runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""
