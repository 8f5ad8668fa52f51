// pyzarr-web page glue (main thread). Starts the Python worker at once, shows its progress,
// renders the Bokeh document the worker sends, and relays JSON patches both ways
// (Panel's pyodide-worker pattern). Loaded as a classic script in <head>, before the deferred
// Bokeh/Panel scripts, so the worker boots while those download.
(function () {
  "use strict";

  const manifest = JSON.parse(document.getElementById("pyzarr-manifest").textContent);
  const base = new URL(".", document.baseURI).href;
  const t0 = 0; // timings are milliseconds since navigation start
  const timings = {};

  // ------------------------------------------------------------------ public API (window.zarrExplorer)
  // For host pages and automation. `ready` resolves once the app is rendered and linked to
  // Python (interactive) and rejects if startup fails. open/select/setSelection resolve with the
  // state once the resulting view is fully loaded; state() is the latest settled state, at once.
  let resolveReady, rejectReady;
  const ready = new Promise((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {}); // reported on the page; avoid an unhandled-rejection console error
  let latestState = { status: "loading", store: null, path: null, kind: null, shape: null, dtype: null,
                      selection: null, view: null, error: null };
  const pendingCalls = new Map();
  let lastCallId = 0;
  let navigating = 0; // >0 while restoring a history entry: URL updates replace, never push

  function call(method, ...args) {
    return ready.then(() => new Promise((resolve, reject) => {
      const id = ++lastCallId;
      pendingCalls.set(id, { resolve, reject });
      worker.postMessage({ type: "api", id, method, args });
    }));
  }
  function answer(msg) {
    const pending = pendingCalls.get(msg.id);
    if (!pending) return;
    pendingCalls.delete(msg.id);
    if (msg.error !== undefined) pending.reject(new Error(msg.error));
    else {
      latestState = msg.result;
      pending.resolve(msg.result);
    }
  }
  // Patches still queued for Python count as "loading" too.
  const patchesSettled = () => new Promise((resolve) => {
    const check = () => (busy || queue.length ? setTimeout(check, 10) : resolve());
    check();
  });
  function followUrl(query, push) {
    const search = query ? "?" + query : "";
    if (search === window.location.search) return;
    const method = push && !navigating ? "pushState" : "replaceState";
    window.history[method](null, "", window.location.pathname + search + window.location.hash);
  }
  window.addEventListener("popstate", () => {
    navigating += 1;
    call("navigate", window.location.search).catch(() => {}).finally(() => { navigating -= 1; });
  });

  window.zarrExplorer = {
    ready,
    timings,
    open: (url) => call("open", url),
    select: (path) => call("select", path),
    setSelection: (text) => call("setSelection", text),
    whenIdle: () => patchesSettled().then(() => call("whenIdle")).then(patchesSettled).then(() => undefined),
    state: () => JSON.parse(JSON.stringify(latestState)),
  };
  // ------------------------------------------------------------------ end of public API

  const worker = new Worker(new URL(manifest.worker, base), { type: "module" });
  worker.postMessage({ type: "init", manifest, base, search: window.location.search });

  const domReady = new Promise((resolve) => {
    if (document.readyState !== "loading") resolve();
    else document.addEventListener("DOMContentLoaded", () => resolve(), { once: true });
  });

  // ------------------------------------------------------------------ loading screen
  const el = (id) => document.getElementById(id);
  let lastStage = "";
  function showProgress(stage, fraction, detail) {
    if (!el("pyzarr-loading")) return;
    const pct = Math.round(fraction * 100);
    el("pyzarr-progress-fill").style.width = pct + "%";
    el("pyzarr-percent").textContent = pct + "%";
    el("pyzarr-stage").textContent = stage;
    el("pyzarr-detail").textContent = detail || "";
    if (stage !== lastStage) {
      lastStage = stage;
      timings["stage:" + stage] = performance.now() - t0;
    }
  }
  function showError(stage, message) {
    const box = el("pyzarr-loading");
    if (!box) return;
    box.classList.add("pz-error");
    box.classList.remove("pz-done");
    el("pyzarr-stage").textContent = "Failed while: " + stage;
    el("pyzarr-detail").textContent = message;
  }
  function hideLoading() {
    const box = el("pyzarr-loading");
    if (box) {
      box.classList.add("pz-done");
      setTimeout(() => box.remove(), 250);
    }
  }
  domReady.then(() => showProgress("Starting Python", 0, ""));

  // ------------------------------------------------------------------ patches, page -> worker
  // While the worker is busy, events queue here; a newer change of the same model attribute
  // replaces the older one, so a fast slider drag never builds a backlog.
  let busy = false;
  let queue = [];
  let jsdoc = null;
  let patching = 0; // >0 while applying a patch from Python: do not echo it back

  function sendChange(event) {
    if (patching > 0 || (event.setter_id != null && event.setter_id === "py")) return;
    if (busy) {
      if (event.model && event.attr) {
        queue = queue.filter((old) => !(old.model === event.model && old.attr === event.attr));
      }
      queue.push(event);
      return;
    }
    busy = true;
    worker.postMessage({ type: "patch", patch: jsdoc.create_json_patch([event]) });
  }

  function flushQueue() {
    if (queue.length) {
      const events = queue;
      queue = [];
      busy = true;
      worker.postMessage({ type: "patch", patch: jsdoc.create_json_patch(events) });
    } else {
      busy = false;
    }
  }

  // ------------------------------------------------------------------ worker -> page
  async function render(msg) {
    await domReady;
    if (!window.Bokeh || !window.Bokeh.embed) throw new Error("Bokeh JS did not load");
    const docsJson = JSON.parse(msg.docs_json);
    const renderItems = JSON.parse(msg.render_items);
    const rootIds = JSON.parse(msg.root_ids);
    const target = el("pyzarr-app");
    const roots = {};
    rootIds.forEach((id, i) => {
      let node = target;
      if (i > 0) {
        node = document.createElement("div");
        node.id = "pyzarr-root-" + i;
        target.after(node);
      }
      roots[id] = node.id;
    });
    renderItems[0].roots = roots;
    renderItems[0].root_ids = rootIds;
    const [views] = await window.Bokeh.embed.embed_items(docsJson, renderItems);
    jsdoc = [...views.roots.values()][0].model.document;
    jsdoc.on_change(sendChange, false);
    timings.rendered = performance.now() - t0;
    worker.postMessage({ type: "rendered" });
  }

  // Python's changes, applied as they come, except colour-mapper limits: an image is colour-mapped
  // again on every change of its mapper, and a 1024x1024 plane costs tens of ms each time. Python
  // sends a new view's limits just before its data; they wait here, and if the next patch replaces
  // the data of a source drawn with that mapper they are set silently first, so the new data is
  // mapped once with the new limits (the colour bar follows the mapping). Otherwise they are applied
  // as usual: before any other patch or message (the worker reports "idle" after handling a page
  // change and the state after every view), or after MAPPER_WAIT_MS at the latest.
  const MAPPER_WAIT_MS = 100;
  let deferred = []; // mapper-only patches waiting for their data
  let deferredTimer = 0;

  function applyPatches(msgs, silentFirst) {
    const start = performance.now();
    try {
      patching += 1;
      for (const [model, attr, value] of silentFirst) model.setv({ [attr]: value }, { silent: true });
      for (const msg of msgs) jsdoc.apply_json_patch(msg.patch, msg.buffers);
    } finally {
      patching -= 1;
      // page-side cost of Python's updates, for the benchmarks
      timings.patches = (timings.patches || 0) + msgs.length;
      timings.patch_apply_ms = (timings.patch_apply_ms || 0) + performance.now() - start;
      timings.last_patch_at = performance.now();
    }
  }

  const isPlain = (v) => v === null || ["number", "string", "boolean"].includes(typeof v) ||
    (Array.isArray(v) && v.every((x) => typeof x === "string"));

  // [model, attr, value] of each event if PATCH only sets plain attributes of colour mappers
  function mapperChanges(patch) {
    const events = (patch && patch.events) || [];
    const ColorMapper = window.Bokeh.Models.ColorMapper;
    const changes = [];
    for (const e of events) {
      if (e.kind !== "ModelChanged" || !e.model || !isPlain(e.new)) return null;
      const model = jsdoc.get_model_by_id(e.model.id);
      if (!(model instanceof ColorMapper)) return null;
      changes.push([model, e.attr, e.new]);
    }
    return changes.length ? changes : null;
  }

  // ids of the data sources PATCH gives new data
  function sourcesReplaced(patch) {
    const ids = new Set();
    for (const e of (patch && patch.events) || []) {
      if (e.model && (e.kind === "ColumnDataChanged" || (e.kind === "ModelChanged" && e.attr === "data"))) {
        ids.add(e.model.id);
      }
    }
    return ids;
  }

  function flushDeferred() {
    clearTimeout(deferredTimer);
    deferredTimer = 0;
    if (!deferred.length) return;
    const msgs = deferred;
    deferred = [];
    applyPatches(msgs, []);
  }

  // mappers of renderers whose data source PATCH replaces
  function mappersRedrawn(patch) {
    const sources = sourcesReplaced(patch);
    const drawn = new Set();
    if (sources.size) {
      for (const model of jsdoc.all_models) {
        const glyph = model.glyph;
        if (glyph && glyph.color_mapper && model.data_source && sources.has(model.data_source.id)) {
          drawn.add(glyph.color_mapper);
        }
      }
    }
    return drawn;
  }

  // Takes out of MSG the plain changes of mappers whose data MSG also replaces (the worker sends
  // a view's limits and data in one patch), as [model, attr, value] to set silently first.
  function ownMapperChanges(msg, drawn) {
    if (!drawn.size) return [];
    const silent = [];
    msg.patch.events = msg.patch.events.filter((e) => {
      if (e.kind !== "ModelChanged" || !e.model || !isPlain(e.new)) return true;
      const model = jsdoc.get_model_by_id(e.model.id);
      if (!drawn.has(model)) return true;
      silent.push([model, e.attr, e.new]);
      return false;
    });
    return silent;
  }

  function receivePatch(msg) {
    if (mapperChanges(msg.patch)) {
      deferred.push(msg);
      if (!deferredTimer) deferredTimer = setTimeout(flushDeferred, MAPPER_WAIT_MS);
      return;
    }
    const drawn = mappersRedrawn(msg.patch);
    const own = ownMapperChanges(msg, drawn);
    if (!deferred.length) {
      applyPatches([msg], own);
      return;
    }
    const silent = own;
    const loud = [];
    let merged = 0;
    for (const d of deferred) {
      const changes = mapperChanges(d.patch);
      if (changes && changes.every(([model]) => drawn.has(model))) {
        silent.push(...changes);
        merged += 1;
      } else loud.push(d);
    }
    deferred = [];
    clearTimeout(deferredTimer);
    deferredTimer = 0;
    if (loud.length) applyPatches(loud, []);
    applyPatches([msg], silent);
    timings.patches += merged;
  }

  worker.onmessage = (event) => {
    const msg = event.data;
    if (msg.type !== "patch" && msg.type !== "progress" && msg.type !== "timing") flushDeferred();
    switch (msg.type) {
      case "progress":
        domReady.then(() => showProgress(msg.stage, msg.fraction, msg.detail));
        break;
      case "timing":
        timings[msg.name] = msg.t - performance.timeOrigin;
        break;
      case "render":
        showProgress("Rendering", 0.98, "");
        render(msg).catch((err) => {
          showError("Rendering", String(err && err.stack ? err.stack : err));
          rejectReady(err);
        });
        break;
      case "linked":
        timings.interactive = performance.now() - t0;
        hideLoading();
        resolveReady({ timings });
        break;
      case "idle":
        flushQueue();
        break;
      case "patch":
        receivePatch(msg);
        break;
      case "error":
        domReady.then(() => showError(msg.stage, msg.message));
        rejectReady(new Error(msg.message));
        break;
      case "api-result":
        answer(msg);
        break;
      case "state":
        latestState = msg.state;
        break;
      case "url":
        followUrl(msg.query, msg.push);
        break;
    }
  };
  worker.onerror = (event) => {
    const message = event.message || "the worker failed to start";
    domReady.then(() => showError("Starting the worker", message));
    rejectReady(new Error(message));
  };
})();
