// Worker side of the test harness. Boots Python with the product's own boot code (the built
// site's app/boot.*.mjs, i.e. web/untar.mjs + fetch.js + boot.mjs, which the product's worker also
// starts with): same runtime files, same archives, same lazy-package import hook. Instead of
// starting the Panel app it runs Python snippets.
//
// In:  {type: "init", manifest, base}     {type: "run", id, code}
// Out: {type: "ready", timings} | {type: "boot-error", message} | {type: "fatal", message}
//      {type: "result", id, value} | {type: "error", id, message}

let pyodide = null;
const timings = {};
const t0 = performance.now();
const mark = (name) => { timings[name] = Math.round(performance.now() - t0); };
const errorText = (err) => String(err && err.message ? err.message : err);

async function boot({ manifest, base }) {
  const { bootPython } = await import(new URL(manifest.boot, base).href);
  ({ pyodide } = await bootPython({
    manifest, base, mark,
    onFatal: (err) => self.postMessage({ type: "fatal", message: errorText(err) }),
  }));
  mark("ready");
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    try {
      await boot(msg);
      self.postMessage({ type: "ready", timings });
    } catch (err) {
      self.postMessage({ type: "boot-error", message: errorText(err) });
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
      self.postMessage({ type: "error", id: msg.id, message: errorText(err) });
    }
  }
};
