#!/usr/bin/env python
"""Start the Jira emulator: ``python tests/emulator/run.py --port 0`` prints its base URL and serves."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from jira_emulator.__main__ import main  # noqa: E402  pylint: disable=wrong-import-position

if __name__ == "__main__":
    sys.exit(main())
