// pyzarr-web page glue (main thread). Starts the Python worker at once, shows its progress,
// renders the Bokeh document the worker sends, and relays JSON patches both ways
// (Panel's pyodide-worker pattern). Loaded as a classic script in <head>, before the deferred
// Bokeh/Panel scripts, so the worker boots while those download.
(function () {
  "use strict";

  const manifest = JSON.parse(document.getElementById("pyzarr-manifest").textContent);

  // Messages of our embedding protocol (web/embed.js) count only from the page embedding this one,
  // and only once the browser confirms its origin (?embedder= must be the parent's own). Any
  // other window's pyzarr message stops here, before any listener sees it.
  const embedder = (() => {
    const claimed = new URLSearchParams(window.location.search).get("embedder");
    if (window.parent === window || !claimed) return null;
    const ancestors = window.location.ancestorOrigins;
    const actual = ancestors && ancestors.length ? ancestors[0] : (document.referrer && new URL(document.referrer).origin);
    return actual === claimed ? claimed : null;
  })();
  const fromEmbedder = (event) => embedder !== null && event.source === window.parent && event.origin === embedder;
  window.addEventListener("message", (event) => {
    const type = event.data && typeof event.data === "object" ? String(event.data.type || "") : "";
    if (type.startsWith("pyzarr-") && !fromEmbedder(event)) event.stopImmediatePropagation();
  }, true);
  const base = new URL(".", document.baseURI).href;
  const t0 = 0; // timings are milliseconds since navigation start
  const timings = {};

  // ------------------------------------------------------------------ public API (window.zarrExplorer)
  // For host pages and automation. `ready` resolves once the app is rendered and linked to
  // Python (interactive) and rejects if startup fails; `restart()` boots a new worker and makes
  // `ready` a new promise for it. open/select/setSelection resolve with the state once the
  // resulting view is fully loaded; state() is the latest settled state, at once. When the worker
  // dies, every pending call rejects with an Error saying so and why, and so does every call made
  // before restart() (calls made during a restart wait for it).
  let ready, resolveReady, rejectReady;
  function newReady() {
    ready = new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    ready.catch(() => {}); // reported on the page; avoid an unhandled-rejection console error
  }
  newReady();
  const loadingState = () => ({ status: "loading", store: null, path: null, kind: null, shape: null, dtype: null,
                                selection: null, view: null, error: null });
  let latestState = loadingState();
  const pendingCalls = new Map();
  let lastCallId = 0;
  let navigating = 0; // >0 while restoring a history entry: URL updates replace, never push
  let worker = null; // the running worker
  let deadError = null; // why the worker died (an Error), until restart()

  function call(method, ...args) {
    if (deadError) return Promise.reject(deadError);
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
    if (msg.picked) timings.picked_bytes = msg.picked.bytes; // local files read so far, in bytes
    if (msg.error !== undefined) pending.reject(new Error(msg.error));
    else {
      latestState = msg.result;
      pending.resolve(msg.result);
    }
  }
  function rejectPending(error) {
    for (const pending of pendingCalls.values()) pending.reject(error);
    pendingCalls.clear();
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

  // Local files picked or dropped (ui/localopen.py): File objects go to the worker as they are
  // (a handle, not the contents), and the store URL names the set.
  let pickedSets = 0;
  window.pyzarrPick = (files) => {
    pickedSets += 1;
    worker.postMessage({ type: "picked", id: pickedSets, files });
    return pickedSets;
  };

  window.zarrExplorer = {
    get ready() {
      return ready;
    },
    timings,
    open: (url) => call("open", url),
    select: (path) => call("select", path),
    setSelection: (text) => call("setSelection", text),
    setViewport: (box) => call("setViewport", box),
    setLevel: (path) => call("setLevel", path),
    whenIdle: () => patchesSettled().then(() => call("whenIdle")).then(patchesSettled).then(() => undefined),
    state: () => JSON.parse(JSON.stringify(latestState)),
    restart: () => restart(),
  };
  // ------------------------------------------------------------------ end of public API

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
  let loadingTemplate = null; // the loading screen as the page has it, shown again on restart()
  function showLoading() {
    const old = el("pyzarr-loading");
    if (old) old.remove();
    document.body.prepend(loadingTemplate.cloneNode(true));
    lastStage = "";
  }
  domReady.then(() => {
    loadingTemplate = el("pyzarr-loading").cloneNode(true);
    showProgress("Starting Python", 0, "");
  });

  // ------------------------------------------------------------------ error banner
  // Errors after startup: plain DOM above the app (not in the Bokeh document, which may be the
  // thing that broke), text only. A dead worker offers Restart (a new worker, same page) besides
  // Reload; an error the app survives can be dismissed.
  const OUT_OF_MEMORY = /out of memory|MemoryError|Array buffer allocation failed|RangeError[^\n]*memory/i;
  function showBanner(title, message, { dead }) {
    domReady.then(() => {
      const banner = el("pyzarr-banner");
      banner.classList.toggle("pz-dead", dead);
      el("pyzarr-banner-title").textContent = title;
      el("pyzarr-banner-message").textContent = message;
      el("pyzarr-banner-restart").hidden = !dead;
      el("pyzarr-banner-dismiss").hidden = dead;
      banner.hidden = false;
    });
  }
  function hideBanner() {
    domReady.then(() => { el("pyzarr-banner").hidden = true; });
  }
  domReady.then(() => {
    el("pyzarr-banner-reload").addEventListener("click", () => window.location.reload());
    el("pyzarr-banner-restart").addEventListener("click", () => restart());
    el("pyzarr-banner-dismiss").addEventListener("click", hideBanner);
  });

  // ------------------------------------------------------------------ patches, page -> worker
  // While the worker is busy, events queue here; a newer change of the same model attribute
  // replaces the older one, so a fast slider drag never builds a backlog.
  let busy = false;
  let queue = [];
  let jsdoc = null;
  let patching = 0; // >0 while applying a patch from Python: do not echo it back

  function sendChange(event) {
    if (patching > 0 || deadError || (event.setter_id != null && event.setter_id === "py")) return;
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

  function onMessage(msg) {
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
        if (msg.kind === "startup") {
          domReady.then(() => showError(msg.stage, msg.message));
          rejectReady(new Error(msg.message));
        } else {
          const title = msg.kind === "import" ? "A package could not be loaded" : "An error in the app";
          console.error(`pyzarr-web: ${title}: ${msg.message}`);
          showBanner(title, msg.message, { dead: false });
        }
        break;
      case "fatal":
        workerDied(OUT_OF_MEMORY.test(msg.message) ? "Out of memory" : "Python crashed",
                   "Pyodide suffered a fatal error: " + msg.message);
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
  }

  // ------------------------------------------------------------------ the worker's life
  // The worker is dead after a fatal Python error, an uncaught error in the worker, or a message
  // that cannot be read. Nothing more is sent to it; calls reject; the banner offers Restart.
  function workerDied(title, reason) {
    if (deadError) return;
    deadError = new Error("pyzarr-web: the Python worker died: " + reason);
    worker.terminate();
    busy = false;
    queue = [];
    rejectPending(deadError);
    rejectReady(deadError); // no effect once ready has resolved
    latestState = { ...latestState, status: "error", error: deadError.message };
    console.error(deadError.message);
    domReady.then(() => showError(lastStage || "Starting the worker", reason)); // if still starting
    showBanner(title, reason, { dead: true });
  }

  function startWorker(search) {
    const w = new Worker(new URL(manifest.worker, base), { type: "module" });
    // a worker that was replaced may still have messages in flight: they are dropped
    w.onmessage = (event) => { if (w === worker) onMessage(event.data); };
    w.onerror = (event) => {
      if (w !== worker) return;
      event.preventDefault();
      const message = event.message || "the worker failed to start";
      workerDied(OUT_OF_MEMORY.test(message) ? "Out of memory" : "The Python worker crashed", message);
    };
    w.onmessageerror = () => {
      if (w === worker) workerDied("The Python worker crashed", "a message from the worker could not be read");
    };
    worker = w;
    w.postMessage({ type: "init", manifest, base, search });
  }

  // Remove the rendered app: its Bokeh views, document and root elements.
  function removeApp() {
    if (jsdoc) {
      jsdoc.remove_on_change(sendChange);
      if (jsdoc.views_manager) jsdoc.views_manager.clear();
      const documents = window.Bokeh.documents;
      if (documents.includes(jsdoc)) documents.splice(documents.indexOf(jsdoc), 1);
      jsdoc = null;
    }
    el("pyzarr-app").replaceChildren();
    document.querySelectorAll("[id^='pyzarr-root-']").forEach((node) => node.remove());
  }

  // A new worker for the page's current URL state, without reloading the page: the old worker
  // (dead or not) is stopped, its app removed and its pending calls rejected. Returns the new
  // `ready` promise (also zarrExplorer.ready from now on).
  function restart() {
    const error = deadError || new Error("pyzarr-web: the Python worker was restarted");
    if (!deadError) worker.terminate();
    rejectPending(error);
    rejectReady(error);
    removeApp();
    busy = false;
    queue = [];
    deferred = [];
    clearTimeout(deferredTimer);
    deferredTimer = 0;
    newReady();
    latestState = loadingState();
    deadError = null;
    hideBanner();
    domReady.then(() => {
      showLoading();
      showProgress("Starting Python", 0, "");
    });
    startWorker(withPreferences(window.location.search));
    return ready;
  }

  // theme=auto follows the browser: the worker is told which one it is (Panel styles at startup).
  // A bundle (`pyzarr-web bundle`) opens its own store when the URL names none.
  function withPreferences(search) {
    const params = new URLSearchParams(search);
    if (manifest.default_store && !params.has("store")) params.set("store", manifest.default_store);
    const dark = params.get("theme") === "dark" ||
      (params.get("theme") === "auto" && window.matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.dataset.theme = dark ? "dark" : "light";
    if (params.get("theme") === "auto") params.set("prefers", dark ? "dark" : "light");
    return params.toString() ? "?" + params.toString() : "";
  }

  // ------------------------------------------------------------------ inside a <zarr-explorer> (web/embed.js)
  // The host page's origin comes in the URL (?embedder=) and must be the parent's own, as the
  // browser reports it; then calls from exactly that window and origin run the API above, and
  // answers go to that origin only. Anything else is ignored.
  (function embedded() {
    const claimed = embedder;
    if (!claimed) return;
    const send = (message) => window.parent.postMessage(message, claimed);
    const METHODS = ["open", "select", "setSelection", "setViewport", "setLevel", "whenIdle", "state"];
    ready.then(() => send({ type: "pyzarr-ready" }), () => {});
    window.addEventListener("message", (event) => {
      if (!fromEmbedder(event)) return;
      const msg = event.data || {};
      if (msg.type === "pyzarr-navigate") {
        const params = new URLSearchParams(msg.query);
        params.set("embedder", claimed);
        window.history.replaceState(null, "", window.location.pathname + "?" + params.toString());
        call("navigate", window.location.search).catch(() => {});
      } else if (msg.type === "pyzarr-call" && METHODS.includes(msg.method)) {
        Promise.resolve()
          .then(() => window.zarrExplorer[msg.method](...(msg.args || [])))
          .then((result) => send({ type: "pyzarr-result", id: msg.id, result: result === undefined ? null : result }),
                (err) => send({ type: "pyzarr-result", id: msg.id, error: String((err && err.message) || err) }));
      }
    });
  })();

  // ------------------------------------------------------------------ offline (web/sw.js)
  // Once the app runs, a service worker keeps the site (and a bundle's store) for the next
  // visit, which then starts from the kept copy, with or without the network. Not from file://.
  // Keeping ~15 MB costs CPU that the first views should have: it starts once nothing has been
  // loading for a few seconds (a select right after startup was 20-30 % slower otherwise).
  function whenQuiet(then, quietMs = 3000) {
    let since = performance.now();
    const timer = setInterval(() => {
      if (latestState.status === "loading" || pendingCalls.size) since = performance.now();
      else if (performance.now() - since >= quietMs) {
        clearInterval(timer);
        then();
      }
    }, 250);
  }

  function keepForOffline() {
    if (!("serviceWorker" in navigator) || !/^https?:$/.test(window.location.protocol)) return;
    navigator.serviceWorker.register(new URL("sw.js", base))
      .catch((err) => console.warn("pyzarr-web: the site is not kept for offline use:", err.message || err));
  }

  startWorker(withPreferences(window.location.search));
  ready.then(() => whenQuiet(keepForOffline), () => {});
})();
