"""Packaging hook (the metadata is in pyproject.toml): a wheel carries the built site in
``pyzarr_web/site/`` and the site's sources in ``pyzarr_web/site_sources/``, so an installed
pyzarr-web serves the explorer with no network and no checkout, and can still rebuild the site.
An editable install needs neither: a checkout serves ``dist/`` and builds from ``web/``."""

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithSite(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        package = Path(self.build_lib) / "pyzarr_web"
        sources = package / "site_sources"
        shutil.rmtree(sources, ignore_errors=True)
        shutil.copytree(ROOT / "web", sources / "web")
        shutil.copyfile(ROOT / "index.html", sources / "index.html")
        sys.path.insert(0, str(ROOT))  # the builder of this source tree, with its lock and cache
        from pyzarr_web.tools.build import build_site

        build_site(package / "site")


setup(cmdclass={"build_py": BuildPyWithSite})
