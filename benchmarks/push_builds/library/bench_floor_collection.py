# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark only: bench_floor with the collection's DevOps code in its payload and imported, as build_info's is.

Against bench_floor, this is what the size of that code costs (the payload Ansible assembles on the controller,
the imports in the module process) before build_info does any work.
"""
from __future__ import annotations

from ansible.module_utils.bench_floor import floor
from ansible_collections.jiraops.integration.plugins.module_utils import _devops  # noqa: F401 pylint: disable=W0611

if __name__ == "__main__":
    floor()
