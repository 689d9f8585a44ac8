# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version, for the User-Agent.

A module runs on the managed host without galaxy.yml, so the version is a constant here;
tests/unit/plugins/module_utils/test_version.py fails when it differs from galaxy.yml's.
"""
from __future__ import annotations

COLLECTION_VERSION = "0.1.0"
