"""``pyzarr-web bundle STORE --out DIR``: one folder that shows STORE from any static host and,
after the first visit, with no network: the built site, the store in ``stores/``, an ``index.html``
that opens it, and a service worker that keeps both (web/sw.js)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import quote

from pyzarr_web.tools.build import write_service_worker
from pyzarr_web.tools.serve import ensure_site, store_mounts, store_targets

#: The page's inlined boot manifest (see index.html and build_site).
_MANIFEST_TAG = re.compile(r'(<script type="application/json" id="pyzarr-manifest">)(.*?)(</script>)', re.S)


class BundleError(ValueError):
    """The store or the output folder cannot be used; the message says why."""


def bundle(store: Path, out: Path, site: Path | None = None) -> dict:
    """Write the bundle of STORE into OUT (a new folder, or a previous bundle, replaced) from the
    built SITE. Returns what was written: the store URL the page opens, the files and bytes kept."""
    try:
        (name, path), = store_mounts([store])
    except ValueError as exc:
        raise BundleError(str(exc)) from None
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "sw.js").is_file():
        raise BundleError(f"{out} exists and is not a bundle: pick a new folder (nothing was written)")
    site = ensure_site(site)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(site, out)
    data = out / "stores" / name  # not data/: `pyzarr-web serve` answers /data/ itself
    if path.is_dir():
        shutil.copytree(path, data)
    else:
        data.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, data)
    target = store_targets(f"stores/{quote(name)}", data)[0]
    index = out / "index.html"
    index.write_text(_MANIFEST_TAG.sub(lambda m: m[1] + _with_store(m[2], target) + m[3], index.read_text(), 1))
    write_service_worker(out, [f"stores/{name}/"] if data.is_dir() else [], precache_all=True)
    kept = [p for p in (data.rglob("*") if data.is_dir() else [data]) if p.is_file()]
    return {"store": target, "files": len(kept), "bytes": sum(p.stat().st_size for p in kept)}


def _with_store(manifest_json: str, target: str) -> str:
    boot = json.loads(manifest_json)
    boot["default_store"] = target
    return json.dumps(boot, separators=(",", ":")).replace("</", "<\\/")
