// Worker side of the test harness. Boots Pyodide from the built site exactly as the product's
// web/worker.js does -- same runtime files, same archives from the build manifest unpacked into
// site-packages, same lazy-package import hook (pyzarr_web.browser._LazyPackages) for
// imagecodecs / blosc2 / ... -- but instead of starting the Panel app it runs Python snippets.
//
// In:  {type: "init", manifest, base}     {type: "run", id, code}
// Out: {type: "ready", timings} | {type: "boot-error", message}
//      {type: "result", id, value} | {type: "error", id, message}

let pyodide = null;
const timings = {};
const t0 = performance.now();
const mark = (name) => { timings[name] = Math.round(performance.now() - t0); };

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function boot({ manifest, base }) {
  const indexURL = new URL(manifest.pyodide.index, base).href;
  const pyodideModule = import(indexURL + "pyodide.mjs");
  const archives = manifest.archives.map((a) => fetchBytes(new URL(a.url, base).href));
  const { loadPyodide } = await pyodideModule;
  pyodide = await loadPyodide({
    indexURL,
    // the build's precompiled, slimmed stdlib when it ships one (as web/worker.js does)
    ...(manifest.pyodide.stdlib ? { stdLibURL: indexURL + manifest.pyodide.stdlib } : {}),
    lockFileContents: { info: manifest.pyodide.lock_info, packages: {} },
    env: { HOME: "/home/pyodide" },
    stdout: (s) => console.log(s),
    stderr: (s) => console.warn(s),
  });
  mark("pyodide");
  for (const bytes of await Promise.all(archives)) {
    pyodide.unpackArchive(bytes, "zip", { extractDir: manifest.site_packages });
  }
  mark("installed");
  // The product's lazy-package hook, set up as pyzarr_web.browser.start() does.
  pyodide.globals.set("_harness_lazy", pyodide.toPy(manifest.lazy));
  pyodide.globals.set("_harness_base", base);
  pyodide.globals.set("_harness_site", manifest.site_packages);
  pyodide.runPython(`
import importlib, sys
importlib.invalidate_caches()
import pyzarr_web.browser as _b
_b._base_url = _harness_base
_b._site_packages = _harness_site
_b._lazy = _b._LazyPackages(_harness_lazy.to_py() if hasattr(_harness_lazy, "to_py") else dict(_harness_lazy))
sys.meta_path.insert(0, _b._lazy)
del _harness_lazy, _harness_base, _harness_site
`);
  mark("ready");
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    try {
      await boot(msg);
      self.postMessage({ type: "ready", timings });
    } catch (err) {
      self.postMessage({ type: "boot-error", message: String(err && err.message ? err.message : err) });
    }
  } else if (msg.type === "run") {
    try {
      let value = await pyodide.runPythonAsync(msg.code);
      if (value && typeof value.destroy === "function") {
        const text = value.toString();
        value.destroy();
        value = text;
      }
      self.postMessage({ type: "result", id: msg.id, value: value === undefined ? null : value });
    } catch (err) {
      self.postMessage({ type: "error", id: msg.id, message: String(err && err.message ? err.message : err) });
    }
  }
};
