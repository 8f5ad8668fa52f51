"""Build the static site into dist/: ``python build.py [--out DIR] [--update-lock]``.

The logic lives in pyzarr_web/tools/build.py (also reachable as ``pyzarr-web build``).
In the checkout this file shadows PyPA's ``build``: ``python -m build`` (the wheel and sdist)
is handed over to it.
"""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __spec__ is not None and __spec__.name == "build":  # `python -m build`: PyPA's, not ours
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.modules.pop("build", None)
    runpy.run_module("build", run_name="__main__", alter_sys=True)
    raise SystemExit(0)

sys.path.insert(0, str(HERE))

from pyzarr_web.tools.build import main  # noqa: E402

if __name__ == "__main__":
    main()
