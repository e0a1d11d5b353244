"""``python -m nbsched.cli``: the ``nbsched`` command."""

from __future__ import annotations

import sys

from nbsched.cli import main

if __name__ == "__main__":
    sys.exit(main())
