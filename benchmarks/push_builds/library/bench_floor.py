# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark only: see module_utils/bench_floor.py."""
from __future__ import annotations

from ansible.module_utils.bench_floor import floor

if __name__ == "__main__":
    floor()
