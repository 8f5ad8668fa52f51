"""Assemble the self-contained static site (``python build.py`` / ``pyzarr-web build``).

Every input of the bundle is pinned in ``web/bundle.lock.json`` (name, version, file name,
sha256, source). A build downloads what is missing into ``.cache/bundle/`` (npm for the Pyodide
core, pip for PyPI files), verifies every hash, and then:

* slims each wheel (tests, type stubs, docs, and Panel's/Bokeh's static JS/CSS are dropped: the
  page serves those from their own files) and precompiles it to sourceless ``.pyc`` with the
  CPython 3.13 that is inside Pyodide, run under Node (the host Python's bytecode would not load);
* packs the packages needed at startup into few deterministic, content-addressed zip archives
  (fetched by the worker while Pyodide boots) and every other package into its own archive that
  the worker installs on first import (``pyzarr_web.browser``);
* copies the Pyodide core, Bokeh's and Panel's JS/CSS, the page and its glue, and writes
  ``manifest.json`` plus ``index.html`` with the manifest inlined.

``--update-lock`` re-resolves the inputs listed in :data:`SPEC` and rewrites the lock; the
default build only verifies. Nothing at run time is fetched from another origin.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from pyzarr_web import __version__
from pyzarr_web.tools.paths import BUILD_OUT, CACHE, PACKAGE, SOURCES

LOCK_PATH = SOURCES / "web" / "bundle.lock.json"
#: Parts of the package the page never imports: left out of its archive.
NOT_IN_PAGE = ("tools", "site", "site_sources")

PYODIDE_VERSION = "0.29.0"
PY_TAG = "3.13"
WASM_PLATFORM = "pyemscripten_2025_0_wasm32"
#: Bump when slimming/compiling changes, so cached staged trees are rebuilt.
PROCESS_VERSION = "11"
#: Bytecode optimisation level of the shipped .pyc (2: no docstrings, no asserts -- smaller and
#: faster to load; nothing we ship needs docstrings at run time).
PYC_OPTIMIZE = 2
#: ...except for packages that read docstrings at import time (numpy attaches docs to C functions).
KEEP_DOCSTRINGS = {"numpy"}
#: Site-packages inside Pyodide.
SITE_PACKAGES = "/lib/python3.13/site-packages"

#: Pyodide core files copied into the site (from the npm tarball).
PYODIDE_CORE = ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]
#: Bokeh JS served to the page (from the bokeh wheel).
BOKEH_JS = ["bokeh.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js"]
#: Panel assets served to the page (from the panel wheel, relative to panel/dist).
PANEL_ASSETS = ["panel.min.js", "css/", "bundled/theme/"]
#: es-module-shims from the panel wheel: panel.custom components (the tree view) load their ES
#: module with its ``importShim``, which Panel would otherwise fetch from its CDN.
PANEL_ESM_SHIMS = "panel/dist/bundled/reactiveesm/es-module-shims@^1.10.0/dist/es-module-shims.min.js"


#: Standard-library parts left out of the re-packed (precompiled) python_stdlib.zip: developer
#: tools, servers/clients of mail and RPC protocols, and codecs for legacy 8-bit/CJK encodings.
STDLIB_DROP = (
    "_pyrepl/", "pydoc.py", "pdb.py", "doctest.py", "xmlrpc/", "wsgiref/", "mailbox.py", "imaplib.py",
    "smtplib.py", "poplib.py", "ftplib.py", "nntplib.py", "turtle.py", "idlelib/", "lib2to3/", "ensurepip/",
    "venv/", "tkinter/", "curses/", "dbm/", "sqlite3/", "pydoc_data/", "this.py", "antigravity.py",
    "__phello__/", "test/", "tabnanny.py", "pickletools.py", "trace.py", "zipapp.py",
    # no processes in a browser; pure-Python fallbacks of C modules Pyodide has; Windows-only
    "multiprocessing/", "_pyio.py", "_pydatetime.py", "_pydecimal.py", "plistlib.py", "bdb.py",
    "modulefinder.py", "http/server.py", "asyncio/windows_events.py", "asyncio/windows_utils.py",
    "ctypes/macholib/", "ctypes/wintypes.py", "msvcrt", "winreg", "_aix_support.py", "_osx_support.py",
)
#: Codecs kept from encodings/ (UTF-*, ASCII, Latin-1 and a few common ones).
STDLIB_ENCODINGS = (
    "__init__", "aliases", "ascii", "base64_codec", "bz2_codec", "charmap", "cp1252", "cp437", "hex_codec",
    "idna", "latin_1", "iso8859_1", "iso8859_15", "punycode", "quopri_codec", "raw_unicode_escape", "rot_13",
    "undefined", "unicode_escape", "utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le",
    "utf_7", "utf_8", "utf_8_sig", "uu_codec", "zlib_codec",
)


def _keep_stdlib(name: str) -> bool:
    if name.endswith("/") or name.startswith(STDLIB_DROP):
        return False
    if name.startswith("encodings/"):
        stem = name[len("encodings/"):].rsplit(".", 1)[0]
        return stem in STDLIB_ENCODINGS
    return True


@dataclass
class Input:
    """One pinned input. ``kind``: npm | wheel | wasm-wheel | sdist | mirror."""

    name: str
    version: str
    kind: str
    #: eager: installed at startup; lazy: installed on first import; none: not shipped
    load: str = "eager"
    member: str | None = None  # mirror: path inside the mirror wheel
    mirror: str | None = None  # mirror: name of the Input holding it
    build_env: dict = field(default_factory=dict)  # sdist: environment for `pip wheel`
    requires: list = field(default_factory=list)  # lazy: other lazy inputs installed with it
    #: modules replaced by empty stand-ins (if absent) when this lazy package is installed
    stubs: list = field(default_factory=list)
    #: parts of the package shipped as separate lazy archives: {archive name: [path prefixes]}
    split: dict = field(default_factory=dict)


#: What goes into the bundle. ``--update-lock`` resolves these; the lock is the authority.
SPEC: list[Input] = [
    Input("pyodide", PYODIDE_VERSION, "npm", load="none"),
    # The official Pyodide 0.29.0 numpy/pandas builds are on no index; gbdraw redistributes them
    # unchanged (sha256 checked against the official pyodide-lock.json at every build).
    Input("gbdraw", "0.14.2", "wheel", load="none"),
    Input("numpy", "2.2.5", "mirror", mirror="gbdraw", split={
        # numpy 2 imports these on first attribute access; nothing at startup does.
        "numpy-extras": ["numpy/random/", "numpy/fft/", "numpy/polynomial/", "numpy/ma/", "numpy/testing/"],
    },
          member="gbdraw/web/vendor/pyodide-wheels/numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl"),
    # --- startup: panel, bokeh and what they import in Pyodide
    Input("panel", "1.9.4", "wheel"),
    Input("bokeh", "3.9.2", "wheel"),
    Input("param", "2.4.2", "wheel"),
    Input("pyviz_comms", "3.0.6", "wheel"),
    Input("jinja2", "3.1.6", "wheel"),
    Input("markupsafe", "3.0.4", "sdist", build_env={"CC": "false"}),
    Input("pyyaml", "6.0.3", "sdist", build_env={"PYYAML_FORCE_LIBYAML": "0"}),
    Input("packaging", "26.3", "wheel"),
    Input("typing-extensions", "4.16.0", "wheel"),
    Input("tqdm", "4.70.1", "wheel"),
    # Without it panel.io.pyodide imports pandas. It would patch requests, which we leave out:
    # nothing of ours uses it, and importing it costs ~0.3 s and 0.6 MB at startup.
    Input("pyodide-http", "0.2.2", "wheel"),
    # --- installed on first import (Markdown pane, HTML sanitizing, tile sources, dataframes, codecs)
    Input("markdown", "3.11.3", "wheel", load="lazy"),
    Input("mdurl", "0.1.2", "wheel", load="lazy"),
    Input("markdown-it-py", "4.3.0", "wheel", load="lazy", requires=["mdurl"]),
    Input("mdit-py-plugins", "0.7.0", "wheel", load="lazy", requires=["markdown-it-py"]),
    Input("uc-micro-py", "2.0.0", "wheel", load="lazy"),
    Input("linkify-it-py", "2.2.0", "wheel", load="lazy", requires=["uc-micro-py"]),
    Input("webencodings", "0.6.1", "wheel", load="lazy"),
    Input("bleach", "6.4.0", "wheel", load="lazy", requires=["webencodings"]),
    Input("xyzservices", "2026.9.1", "wheel", load="lazy"),
    Input("narwhals", "2.29.0", "wheel", load="lazy"),
    Input("contourpy", "1.4.0", "wasm-wheel", load="lazy"),
    Input("imagecodecs", "2026.10.10", "wasm-wheel", load="lazy"),
    Input("msgpack", "1.2.4", "wasm-wheel", load="lazy"),
    Input("ndindex", "1.8", "wheel", load="lazy"),
    Input("platformdirs", "4.14.7", "wheel", load="lazy"),
    # blosc2 imports httpx (for remote arrays) at import time; nothing else of it needs httpx, which
    # has no place in a browser: an empty stand-in module is registered before blosc2 loads.
    Input("blosc2", "4.14.1", "wasm-wheel", load="lazy", requires=["msgpack", "ndindex", "platformdirs"],
          stubs=["httpx"]),
    Input("six", "1.17.0", "mirror", load="lazy", mirror="gbdraw",
          member="gbdraw/web/vendor/pyodide-wheels/six-1.17.0-py2.py3-none-any.whl"),
    Input("python-dateutil", "2.9.0.post0", "mirror", load="lazy", mirror="gbdraw", requires=["six"],
          member="gbdraw/web/vendor/pyodide-wheels/python_dateutil-2.9.0.post0-py2.py3-none-any.whl"),
    Input("pytz", "2025.2", "mirror", load="lazy", mirror="gbdraw",
          member="gbdraw/web/vendor/pyodide-wheels/pytz-2025.2-py2.py3-none-any.whl"),
    Input("tzdata", "2025.2", "mirror", load="lazy", mirror="gbdraw",
          member="gbdraw/web/vendor/pyodide/v0.29.0/full/tzdata-2025.2-py2.py3-none-any.whl"),
    Input("pandas", "2.3.2", "mirror", load="lazy", mirror="gbdraw",
          requires=["python-dateutil", "pytz", "tzdata"],
          member="gbdraw/web/vendor/pyodide-wheels/pandas-2.3.2-cp313-cp313-pyodide_2025_0_wasm32.whl"),
]


class BundleError(RuntimeError):
    """A bundle input is missing, unobtainable or does not match its pinned hash."""


# --------------------------------------------------------------------------------------- utils


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _run(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None, what: str) -> None:
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(cmd, env=full_env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise BundleError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")


def _pip() -> list[str]:
    return [sys.executable, "-m", "pip"]


def _source_label(entry: dict) -> str:
    kind = entry["kind"]
    if kind == "npm":
        return f"npm package {entry['name']}@{entry['version']}"
    if kind == "mirror":
        return f"{entry['member']} inside {entry['mirror']} (mirror of the official Pyodide {PYODIDE_VERSION} build)"
    if kind == "sdist":
        return f"PyPI sdist {entry['name']}=={entry['version']}"
    if kind == "wasm-wheel":
        return f"PyPI {WASM_PLATFORM} wheel {entry['name']}=={entry['version']}"
    return f"PyPI wheel {entry['name']}=={entry['version']}"


# --------------------------------------------------------------------------------------- lock


def load_lock(path: Path = LOCK_PATH) -> dict:
    if not path.is_file():
        raise BundleError(f"lock file {path} is missing: run `python build.py --update-lock`")
    lock = json.loads(path.read_text())
    if lock.get("lock_version") != 1:
        raise BundleError(f"{path}: unsupported lock_version {lock.get('lock_version')!r}")
    return lock


def _entries(lock: dict) -> dict[str, dict]:
    return {e["name"]: e for e in lock["inputs"]}


# --------------------------------------------------------------------------------------- fetching


def _download_dir() -> Path:
    d = CACHE / "downloads"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _fetch_raw(entry: dict, entries: dict[str, dict], dest_dir: Path, *, filename: str | None) -> Path:
    """Obtain the file for ENTRY into DEST_DIR (no verification). FILENAME None: discover."""
    kind, name, version = entry["kind"], entry["name"], entry["version"]
    with tempfile.TemporaryDirectory(dir=dest_dir) as tmp:
        tmpd = Path(tmp)
        if kind == "npm":
            _run(["npm", "pack", f"{name}@{version}", "--silent", "--pack-destination", str(tmpd)],
                 what=f"downloading {_source_label(entry)}")
        elif kind in ("wheel", "wasm-wheel", "sdist"):
            cmd = _pip() + ["download", "--no-deps", "--disable-pip-version-check", "-q", "-d", str(tmpd)]
            if kind == "wheel":
                cmd += ["--only-binary=:all:", "--python-version", PY_TAG, "--implementation", "py",
                        "--abi", "none", "--platform", "any"]
            elif kind == "wasm-wheel":
                cmd += ["--only-binary=:all:", "--platform", WASM_PLATFORM, "--python-version", PY_TAG,
                        "--implementation", "cp", "--abi", "cp313", "--abi", "abi3", "--abi", "none"]
            else:  # only this package as an sdist: its build dependencies may come as wheels
                cmd += ["--no-binary", name]
            cmd.append(f"{name}=={version}")
            _run(cmd, what=f"downloading {_source_label(entry)}")
        elif kind == "mirror":
            mirror = entries[entry["mirror"]]
            mirror_path = ensure_input(mirror, entries)
            with zipfile.ZipFile(mirror_path) as zf:
                try:
                    data = zf.read(entry["member"])
                except KeyError:
                    raise BundleError(f"{entry['member']} not found inside {mirror['filename']}") from None
            (tmpd / PurePosixPath(entry["member"]).name).write_bytes(data)
        else:
            raise BundleError(f"{name}: unknown input kind {kind!r}")
        files = [p for p in tmpd.iterdir() if p.is_file()]
        if filename is not None:
            files = [p for p in files if p.name == filename]
        if len(files) != 1:
            got = ", ".join(sorted(p.name for p in tmpd.iterdir())) or "nothing"
            want = filename or "one file"
            raise BundleError(f"{_source_label(entry)}: expected {want}, got {got}")
        final = dest_dir / files[0].name
        os.replace(files[0], final)
        return final


def _cached_path(entry: dict) -> Path:
    # content-addressed: a lock naming another hash never touches a good cached file
    return _download_dir() / entry["sha256"][:16] / entry["filename"]


def _mismatch(entry: dict, actual: str, where: str) -> BundleError:
    return BundleError(
        f"sha256 mismatch for {entry['filename']} from {_source_label(entry)}:\n"
        f"  lock says {entry['sha256']}\n  {where} has {actual}\n"
        f"  (if the lock is what should change, run `python build.py --update-lock`)"
    )


def ensure_input(entry: dict, entries: dict[str, dict]) -> Path:
    """Return the cached, hash-verified file for ENTRY, downloading it if needed."""
    path = _cached_path(entry)
    if path.is_file():
        if sha256_file(path) == entry["sha256"]:
            return path
        path.unlink()  # damaged cache entry: fetch again
    # Registries never serve two different files under one name: a cached file of the same
    # name with another hash means the lock (or the file) was altered. Say so, offline.
    for other in _download_dir().glob(f"*/{entry['filename']}"):
        actual = sha256_file(other)
        if actual != entry["sha256"]:
            raise _mismatch(entry, actual, f"the cached file {other}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        got = _fetch_raw(entry, entries, path.parent, filename=entry["filename"])
    except BundleError as exc:
        raise BundleError(f"missing bundle file {entry['filename']} from {_source_label(entry)}: {exc}") from None
    actual = sha256_file(got)
    if actual != entry["sha256"]:
        got.unlink()
        raise _mismatch(entry, actual, "the downloaded file")
    return got


def update_lock(path: Path = LOCK_PATH) -> dict:
    """Resolve SPEC, download every input and write a fresh lock to PATH."""
    entries: dict[str, dict] = {}
    out = []
    for inp in tqdm(SPEC, desc="resolving", unit="input"):
        entry = {"name": inp.name, "version": inp.version, "kind": inp.kind, "load": inp.load}
        if inp.mirror:
            entry["mirror"], entry["member"] = inp.mirror, inp.member
        if inp.build_env:
            entry["build_env"] = inp.build_env
        if inp.requires:
            entry["requires"] = inp.requires
        if inp.split:
            entry["split"] = inp.split
        if inp.stubs:
            entry["stubs"] = inp.stubs
        entries[inp.name] = entry
        with tempfile.TemporaryDirectory() as tmp:
            f = _fetch_raw(entry, entries, Path(tmp), filename=None)
            entry["filename"], entry["sha256"], entry["size"] = f.name, sha256_file(f), f.stat().st_size
            _cached_path(entry).parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, _cached_path(entry))
        if inp.kind == "npm":
            core = _extract_pyodide(_cached_path(entry), entry["sha256"])
            entry["files"] = {n: sha256_file(core / n) for n in PYODIDE_CORE}
        out.append(entry)
    lock = {
        "lock_version": 1,
        "comment": "Every input of the static site. Written by `python build.py --update-lock`; "
                   "verified by every build.",
        "pyodide": PYODIDE_VERSION,
        "inputs": out,
    }
    path.write_text(json.dumps(lock, indent=1) + "\n")
    return lock


# --------------------------------------------------------------------------------------- verify


def _extract_pyodide(tgz: Path, sha: str) -> Path:
    dest = CACHE / f"pyodide-{sha[:12]}"
    if (dest / ".done").is_file():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tarfile.open(tgz) as tf:
        for m in tf.getmembers():
            if m.isfile() and m.name.startswith("package/"):
                rel = m.name[len("package/"):]
                if "/" in rel or rel.startswith("."):
                    continue
                (dest / rel).write_bytes(tf.extractfile(m).read())
    (dest / ".done").write_text("")
    return dest


def verify_core(entry: dict, core: Path) -> None:
    for name, sha in entry["files"].items():
        p = core / name
        if not p.is_file():
            raise BundleError(f"{name} missing from {_source_label(entry)}")
        if sha256_file(p) != sha:
            raise BundleError(f"sha256 mismatch for {name} from {_source_label(entry)}")


def verify_against_official(entries: dict[str, dict], core: Path) -> None:
    """Mirrored wheels must be byte-identical to the official Pyodide build."""
    official = json.loads((core / "pyodide-lock.json").read_text())["packages"]
    by_file = {p["file_name"]: p for p in official.values()}
    for e in entries.values():
        if e["kind"] != "mirror":
            continue
        ref = by_file.get(e["filename"])
        if ref is None:
            raise BundleError(f"{e['filename']} (from {_source_label(e)}) is not in the official pyodide-lock.json")
        if ref["sha256"] != e["sha256"]:
            raise BundleError(
                f"{e['filename']} (from {_source_label(e)}): sha256 {e['sha256']} differs from the official "
                f"pyodide-lock.json's {ref['sha256']}"
            )


# --------------------------------------------------------------------------------------- wheels


def _build_sdist(entry: dict, sdist: Path) -> Path:
    """Build a pure py3-none-any wheel from SDIST (cached by the sdist's hash)."""
    out_dir = CACHE / "built" / entry["sha256"][:16]
    wheels = list(out_dir.glob("*.whl")) if out_dir.is_dir() else []
    if len(wheels) == 1:
        return wheels[0]
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    env = {**entry.get("build_env", {}), "SOURCE_DATE_EPOCH": "315532800"}
    _run(_pip() + ["wheel", "--no-deps", "--disable-pip-version-check", "-q",
                   "-w", str(out_dir), str(sdist)], env=env, what=f"building {_source_label(entry)}")
    wheels = list(out_dir.glob("*.whl"))
    if len(wheels) != 1 or not wheels[0].name.endswith("-py3-none-any.whl"):
        raise BundleError(f"building {_source_label(entry)} did not give one pure wheel: {[w.name for w in wheels]}")
    return wheels[0]


_DROP_DIRS = {"tests", "test", "testing_data", "__pycache__", "benchmarks", "examples", "docs"}
_DROP_SUFFIXES = (".pyi", ".pyx", ".pxd", ".c", ".h", ".cpp", ".a", ".map", ".ts", ".md", ".rst")
_DROP_PREFIXES = (
    "panel/dist/", "panel/tests/", "bokeh/server/static/", "bokeh/sampledata/", "numpy/_core/include/",
    "numpy/f2py/", "numpy/_pyinstaller/", "numpy/typing/tests/", "imagecodecs/licenses/",
    # hashes for CDN script tags, Jupyter/notebook extensions, JS tooling files, man pages
    "bokeh/sphinxext/", "pyviz_comms/labextension/static/",
    "panel/package-lock.json", "panel/eslint.config.js", "tqdm/tqdm.1",
)


def _keep_member(name: str, version: str = "") -> bool:
    if name.endswith("/"):
        return False
    if name.startswith("bokeh/_sri/"):  # script hashes of every Bokeh release: keep our own
        return name == f"bokeh/_sri/{version}.json"
    if name.startswith(_DROP_PREFIXES):
        return False
    parts = name.split("/")
    if any(p in _DROP_DIRS for p in parts[:-1]):
        return False
    if parts[0].endswith(".dist-info"):
        return parts[-1] in ("METADATA", "top_level.txt", "entry_points.txt")
    if parts[0].endswith(".data"):  # jupyter extension files and the like
        return False
    return not name.endswith(_DROP_SUFFIXES)


def _stage_zip(archive: Path, dest: Path, keep, rewrite=None) -> Path:
    """Extract the members of ARCHIVE that KEEP(name) accepts into DEST, once (cached), passing
    each member's bytes through REWRITE(name, data) when given."""
    if (dest / ".done").is_file() or (dest / ".staged").is_file():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if keep(info.filename):
                target = dest / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                data = zf.read(info)
                target.write_bytes(rewrite(info.filename, data) if rewrite else data)
    (dest / ".staged").write_text("")
    return dest


def _metadata_headers_only(name: str, data: bytes) -> bytes:
    if name.endswith(".dist-info/METADATA"):
        return data.split(b"\n\n", 1)[0] + b"\n"  # headers only, no long description
    return data


def _stage_wheel(entry: dict, wheel: Path) -> Path:
    """Slim WHEEL into a staged site-packages tree (cached)."""
    dest = CACHE / "stage" / f"{entry['name']}-{entry['sha256'][:16]}-p{PROCESS_VERSION}"
    return _stage_zip(wheel, dest, lambda name: _keep_member(name, entry["version"]), _metadata_headers_only)


def _stage_stdlib(core: Path, npm_sha: str) -> Path:
    """Pyodide's python_stdlib.zip (sources) -> a slimmer tree to precompile."""
    dest = CACHE / "stage" / f"stdlib-{npm_sha[:16]}-p{PROCESS_VERSION}"
    return _stage_zip(core / "python_stdlib.zip", dest, _keep_stdlib)


def _stage_own_package() -> Path:
    """Our package, from the working tree, as a staged tree with a minimal dist-info."""
    # one staging tree per checkout: worktrees may share the download cache and build at once
    checkout = hashlib.sha256(str(PACKAGE).encode()).hexdigest()[:12]
    dest = CACHE / "stage" / f"pyzarr_web-worktree-{checkout}"
    shutil.rmtree(dest, ignore_errors=True)
    for p in sorted(PACKAGE.rglob("*")):
        rel = p.relative_to(PACKAGE.parent)
        if p.is_dir() or "__pycache__" in rel.parts or p.suffix in (".pyc", ".pyo") or rel.parts[1] in NOT_IN_PAGE:
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
    ver = __version__
    di = dest / f"pyzarr_web-{ver}.dist-info"
    di.mkdir()
    (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pyzarr-web\nVersion: {ver}\n")
    (dest / ".staged").write_text("")
    return dest


def _compile_staged(dirs: dict[str, Path], core: Path) -> None:
    """Compile .py -> sourceless .pyc inside Pyodide (CPython 3.13) under Node, in place."""
    todo = {n: d for n, d in dirs.items() if not (d / ".done").is_file()}
    if not todo:
        return
    script = SOURCES / "web" / "tools" / "pycompile.mjs"
    t0 = time.time()
    groups = {0: [d for n, d in todo.items() if n in KEEP_DOCSTRINGS],
              PYC_OPTIMIZE: [d for n, d in todo.items() if n not in KEEP_DOCSTRINGS]}
    for level, trees in groups.items():
        if not trees:
            continue
        cmd = ["node", str(script), "--optimize", str(level), str(core)] + [str(d) for d in trees]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BundleError("compiling to .pyc inside Pyodide failed:\n" + (proc.stdout + proc.stderr)[-4000:])
        for line in proc.stdout.splitlines():
            if line.startswith("WARN"):
                tqdm.write(line)
    for d in todo.values():
        (d / ".staged").unlink(missing_ok=True)
        (d / ".done").write_text("")
    tqdm.write(f"compiled {len(todo)} package trees to .pyc in {time.time() - t0:.1f} s")


_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _collect(trees: list[Path], *, include: list[str] | None = None,
             exclude: list[str] | None = None) -> dict[str, Path]:
    """Files of the staged TREES (merged) by archive name, filtered by path prefixes."""
    files: dict[str, Path] = {}
    for t in trees:
        for p in t.rglob("*"):
            if not p.is_file() or p.name.startswith("."):
                continue
            name = p.relative_to(t).as_posix()
            if include is not None and not name.startswith(tuple(include)):
                continue
            if exclude and name.startswith(tuple(exclude)):
                continue
            files[name] = p
    return files


def _zip_files(files: dict[str, Path], out: Path) -> None:
    """Deterministic zip: sorted names, fixed timestamps and modes."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name].read_bytes())


def _tar_gz_files(files: dict[str, Path], out: Path) -> None:
    """Deterministic ustar archive, gzipped as one stream (compresses across files, and the worker
    inflates it with DecompressionStream while it downloads, then writes files straight into
    Pyodide's file system without running Python)."""
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name in sorted(files):
            data = files[name].read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tf.addfile(info, io.BytesIO(data))


def _top_level(files: dict[str, Path]) -> list[str]:
    names = set()
    for name in files:
        first = name.split("/")[0]
        if first.endswith((".dist-info", ".data")):
            continue
        if "/" in name:
            names.add(first)
        elif name.endswith((".py", ".pyc", ".so")):
            names.add(first.split(".")[0])
    return sorted(names)


def _has_dynlibs(files: dict[str, Path]) -> bool:
    return any(n.endswith(".so") for n in files)


# --------------------------------------------------------------------------------------- site


def _hashed_name(stem: str, data: bytes, suffix: str) -> str:
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:12]}{suffix}"


def _copy_hashed(src: Path, out_dir: Path, stem: str, suffix: str) -> str:
    return _write_hashed(src.read_bytes(), out_dir, stem, suffix)


def _write_hashed(data: bytes, out_dir: Path, stem: str, suffix: str) -> str:
    """Write DATA under a content-addressed name (cacheable for ever), and return the name."""
    name = _hashed_name(stem, data, suffix)
    (out_dir / name).write_bytes(data)
    return name


def _package_archive(name: str, files: dict[str, Path], py_dir: Path, *, tar: bool = False) -> dict:
    """A zip of FILES (``url``/``size``); with TAR also a .tar.gz of them (``tar``/``tar_size``)."""
    tmp = py_dir / f".{name}.zip.tmp"
    _zip_files(files, tmp)
    data = tmp.read_bytes()
    fname = _hashed_name(name, data, ".zip")
    os.replace(tmp, py_dir / fname)
    out = {"url": f"py/{fname}", "size": len(data)}
    if tar:
        tmp = py_dir / f".{name}.tar.gz.tmp"
        _tar_gz_files(files, tmp)
        data = tmp.read_bytes()
        tname = _hashed_name(name, data, ".tar.gz")
        os.replace(tmp, py_dir / tname)
        out.update(tar=f"py/{tname}", tar_size=len(data))
    return out


def build_site(out: Path | None = None, *, lock_path: Path = LOCK_PATH) -> Path:
    """Build the site into OUT (default tools.paths.BUILD_OUT). Returns the output directory."""
    t_start = time.time()
    out = Path(out) if out is not None else BUILD_OUT
    lock = load_lock(lock_path)
    entries = _entries(lock)

    # 1. inputs: fetch (cached) and verify
    paths: dict[str, Path] = {}
    bar = tqdm(list(entries.values()), desc="inputs", unit="file")
    for e in bar:
        bar.set_postfix_str(e["filename"][:40])
        paths[e["name"]] = ensure_input(e, entries)
    npm = next(e for e in entries.values() if e["kind"] == "npm")
    core = _extract_pyodide(paths[npm["name"]], npm["sha256"])
    verify_core(npm, core)
    verify_against_official(entries, core)

    # 2. wheels -> staged, slim trees
    staged: dict[str, Path] = {}
    bar = tqdm([e for e in entries.values() if e["load"] != "none"], desc="slimming", unit="pkg")
    for e in bar:
        bar.set_postfix_str(e["name"])
        wheel = _build_sdist(e, paths[e["name"]]) if e["kind"] == "sdist" else paths[e["name"]]
        staged[e["name"]] = _stage_wheel(e, wheel)
    own = _stage_own_package()
    stdlib = _stage_stdlib(core, npm["sha256"])

    # 3. precompile everything in one Pyodide run
    _compile_staged({**staged, "pyzarr-web": own, "stdlib": stdlib}, core)

    # 4. assemble in a temporary directory next to OUT, then swap
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = Path(tempfile.mkdtemp(prefix=".dist-", dir=out.parent))
    try:
        manifest = _assemble(tmp_out, lock, entries, paths, staged, own, core, stdlib)
        if out.exists():
            if out.is_dir() and (not any(out.iterdir()) or (out / "manifest.json").is_file()):
                shutil.rmtree(out)
            else:
                raise BundleError(f"{out} exists and is not a previous build (no manifest.json); not overwriting")
        os.replace(tmp_out, out)
    except BaseException:
        shutil.rmtree(tmp_out, ignore_errors=True)
        raise
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    startup = manifest["startup_bytes"]
    print(f"built {out} in {time.time() - t_start:.1f} s: {total / 1e6:.1f} MB on disk, "
          f"{startup / 1e6:.1f} MB loaded at startup")
    return out


def _assemble(site: Path, lock: dict, entries: dict, paths: dict, staged: dict, own: Path, core: Path,
              stdlib: Path) -> dict:
    (site / "py").mkdir()
    manifest: dict = {"pyodide_version": lock["pyodide"], "site_packages": SITE_PACKAGES}

    # Pyodide core: versioned directory (names are fixed by loadPyodide)
    pyo_dir = site / "pyodide" / lock["pyodide"]
    pyo_dir.mkdir(parents=True)
    for n in PYODIDE_CORE:
        shutil.copyfile(core / n, pyo_dir / n)
    # the standard library, precompiled and slimmed (the original stays for reference/bare boot)
    tmp = pyo_dir / ".stdlib.tmp"
    _zip_files(_collect([stdlib]), tmp)
    stdlib_name = _hashed_name("python_stdlib", tmp.read_bytes(), ".zip")
    os.replace(tmp, pyo_dir / stdlib_name)
    # the wasm module, gzipped (8.6 -> 2.8 MB); the worker inflates it with DecompressionStream
    wasm = (pyo_dir / "pyodide.asm.wasm").read_bytes()
    wasm_gz = gzip.compress(wasm, 9, mtime=0)
    wasm_gz_name = _hashed_name("pyodide.asm", wasm_gz, ".wasm.gz")
    (pyo_dir / wasm_gz_name).write_bytes(wasm_gz)
    # our own minimal lock: loadPyodide needs one, we install nothing by name
    official = json.loads((core / "pyodide-lock.json").read_text())
    manifest["pyodide"] = {
        "index": f"pyodide/{lock['pyodide']}/",
        "stdlib": stdlib_name,
        "wasm_gz": wasm_gz_name,
        "lock_info": official["info"],
        "files": {n: (pyo_dir / n).stat().st_size for n in ("pyodide.asm.js", wasm_gz_name, stdlib_name)},
    }

    # Python archives. Split-off parts of a package become lazy archives of their own.
    main_files: dict[str, dict[str, Path]] = {}
    lazy = {}
    for name, tree in sorted(staged.items()):
        e = entries[name]
        split = e.get("split", {})
        cut = [p for prefixes in split.values() for p in prefixes]
        main_files[name] = _collect([tree], exclude=cut)
        for part, prefixes in split.items():
            files = _collect([tree], include=prefixes)
            lazy[part] = {**_package_archive(part, files, site / "py"), "version": e["version"],
                          "modules": sorted(p.rstrip("/").replace("/", ".") for p in prefixes),
                          "requires": [], "dynlibs": _has_dynlibs(files)}
    eager_pure = sorted(n for n in staged if entries[n]["load"] == "eager" and not _has_dynlibs(main_files[n]))
    eager_native = sorted(n for n in staged if entries[n]["load"] == "eager" and _has_dynlibs(main_files[n]))
    merged: dict[str, Path] = {}
    for n in eager_pure:
        merged.update(main_files[n])
    py = site / "py"
    archives = [{"name": "deps", **_package_archive("deps", merged, py, tar=True), "packages": eager_pure}]
    for n in eager_native:
        archives.append({"name": n, **_package_archive(n, main_files[n], py, tar=True), "packages": [n]})
    archives.append({"name": "pyzarr_web", **_package_archive("pyzarr_web", _collect([own]), py, tar=True),
                     "packages": ["pyzarr-web"]})
    manifest["archives"] = archives
    for name in sorted(staged):
        e = entries[name]
        if e["load"] != "lazy":
            continue
        files = main_files[name]
        lazy[name] = {**_package_archive(name, files, site / "py"), "version": e["version"],
                      "modules": _top_level(files), "requires": e.get("requires", []),
                      "stubs": e.get("stubs", []), "dynlibs": _has_dynlibs(files)}
    manifest["lazy"] = lazy

    # Bokeh and Panel JS/CSS from their wheels. Panel resolves its CSS under
    # PANEL_CDN_ROOT/<version>/dist/, which the worker points at this copy.
    bk_ver, pn_ver = entries["bokeh"]["version"], entries["panel"]["version"]
    bk_dir = site / "vendor" / f"bokeh-{bk_ver}"
    bk_dir.mkdir(parents=True)
    scripts = []
    with zipfile.ZipFile(paths["bokeh"]) as zf:
        for n in BOKEH_JS:
            data = zf.read(f"bokeh/server/static/js/{n}")
            (bk_dir / n).write_bytes(data)
            scripts.append(f"vendor/bokeh-{bk_ver}/{n}")
    pn_root = site / "panel" / pn_ver / "dist"
    with zipfile.ZipFile(paths["panel"]) as zf:
        for info in zf.infolist():
            if not info.filename.startswith("panel/dist/") or info.filename.endswith("/"):
                continue
            rel = info.filename[len("panel/dist/"):]
            if any(rel == a or (a.endswith("/") and rel.startswith(a)) for a in PANEL_ASSETS):
                target = pn_root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))
        (pn_root / "es-module-shims.min.js").write_bytes(zf.read(PANEL_ESM_SHIMS))
    scripts += [f"panel/{pn_ver}/dist/panel.min.js", f"panel/{pn_ver}/dist/es-module-shims.min.js"]
    manifest["scripts"] = scripts
    manifest["panel_cdn_root"] = "panel/"

    # the page's own files (content-addressed names)
    app_dir = site / "app"
    app_dir.mkdir()
    web = SOURCES / "web"
    # Python's boot (untar.mjs, fetch.js: the reader's HTTP, boot.mjs) goes in front of the
    # worker, and also stands alone as a module for the test harness's worker, which so boots and
    # fetches exactly as the product does.
    boot = b"\n".join((web / name).read_bytes() for name in ("untar.mjs", "fetch.js", "boot.mjs"))
    manifest["boot"] = "app/" + _write_hashed(boot, app_dir, "boot", ".mjs")
    worker = boot + b"\n" + (web / "worker.js").read_bytes()
    manifest["worker"] = "app/" + _write_hashed(worker, app_dir, "worker", ".js")
    main_js = (web / "main.js").read_text().replace("</script", "<\\/script")
    css = "app/" + _copy_hashed(web / "style.css", app_dir, "style", ".css")

    # what the worker downloads: runtime + the .tar.gz form of the startup archives
    manifest["download_bytes"] = sum(manifest["pyodide"]["files"].values()) + sum(a["tar_size"] for a in archives)
    manifest["startup_bytes"] = manifest["download_bytes"] + sum((site / s).stat().st_size for s in scripts)
    manifest["inputs"] = [{k: e[k] for k in ("name", "version", "filename", "sha256", "kind")}
                          for e in lock["inputs"]]

    (site / "manifest.json").write_text(json.dumps(manifest, indent=1))
    page = (SOURCES / "index.html").read_text()
    boot = {k: manifest[k] for k in ("pyodide_version", "site_packages", "pyodide", "archives", "lazy",
                                     "worker", "panel_cdn_root", "download_bytes")}
    script_tags = "\n".join(f'<script src="{s}" defer></script>' for s in scripts)
    page = (page.replace("{{ MANIFEST }}", json.dumps(boot, separators=(",", ":")).replace("</", "<\\/"))
                .replace("{{ MAIN_JS }}", main_js).replace("{{ STYLE_CSS }}", css)
                .replace("{{ SCRIPTS }}", script_tags))
    (site / "index.html").write_text(page)
    # the <zarr-explorer> element for host pages: a stable name, as they link to it
    shutil.copyfile(web / "embed.js", site / "embed.js")
    # installable (web app manifest) and offline (the service worker, written last: it lists the rest)
    shutil.copyfile(web / "app.webmanifest", site / "app.webmanifest")
    shutil.copyfile(web / "icon.svg", site / "icon.svg")
    (site / ".nojekyll").write_text("")
    write_service_worker(site)
    return manifest


#: Files of the site that the page never loads: the bare-Pyodide reference (benchmarks).
_NOT_LOADED = {"python_stdlib.zip", "pyodide.asm.wasm", "pyodide-lock.json"}


def write_service_worker(site: Path, stores: list[str] = (), precache_all: bool = False) -> None:
    """Write ``sw.js`` (web/sw.js) for SITE: it answers for the site's files (a key in the folders
    of bundled STORES that is no file is missing), and keeps at once what the page loads at
    startup -- everything, with PRECACHE_ALL (a bundle that must work offline whatever it is
    asked for)."""
    manifest = json.loads((site / "manifest.json").read_text())
    lazy = {e["url"] for e in manifest["lazy"].values()} | {a["url"] for a in manifest["archives"]}
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    files = [f for f in files
             if f not in ("sw.js", ".nojekyll", "index.html") and f.rsplit("/", 1)[-1] not in _NOT_LOADED]
    startup = [f for f in files if f not in lazy and f not in ("manifest.json", "embed.js")
               and not f.startswith(tuple(stores))]
    precache = files if precache_all else startup
    # a new cache whenever anything listed changes (names are content-addressed or versioned; the
    # page and the manifest are not, and a bundled store's files are told apart by their size)
    digest = hashlib.sha256((site / "index.html").read_bytes() + (site / "manifest.json").read_bytes())
    for f in files:
        digest.update(f"{f}\0{(site / f).stat().st_size}\n".encode())
    template = (SOURCES / "web" / "sw.js").read_text()
    (site / "sw.js").write_text(template.replace("{{ CACHE }}", f"pyzarr-web-{digest.hexdigest()[:16]}")
                                .replace("{{ FILES }}", json.dumps(files, indent=0))
                                .replace("{{ PRECACHE }}", json.dumps(precache, indent=0))
                                .replace("{{ STORES }}", json.dumps(list(stores))))


# --------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="build.py", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="output directory (default: dist/)")
    ap.add_argument("--update-lock", action="store_true",
                    help="re-resolve the inputs and rewrite web/bundle.lock.json before building")
    ap.add_argument("--lock-only", action="store_true", help="with --update-lock: do not build")
    ap.add_argument("--lock", type=Path, default=LOCK_PATH, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    try:
        if args.update_lock:
            update_lock(args.lock)
            print(f"wrote {args.lock}")
            if args.lock_only:
                return
        build_site(args.out, lock_path=args.lock)
    except BundleError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
