"""Build the static site into dist/: ``python build.py [--out DIR] [--update-lock]``.

The logic lives in pyzarr_web/build.py (also reachable as ``pyzarr-web build``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pyzarr_web.build import main  # noqa: E402

if __name__ == "__main__":
    main()
