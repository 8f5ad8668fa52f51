// <zarr-explorer>: the explorer as an element of any HTML page (docs, dashboards, notebooks).
//
//   <script src="https://example.org/pyzarr-web/embed.js" defer></script>
//   <zarr-explorer store="https://example.org/data.zarr" path="temperature" height="500px"></zarr-explorer>
//
// Each element hosts the static site this script comes from in an iframe (its downloads are
// cached across elements and visits) and sizes it. Attributes: store, path, select, level, view,
// cmap, clim (as the page's URL parameters), height (CSS length, default 600px), theme (light,
// dark, auto) and controls (full, minimal: no header and tree, none: the figure only). Changing an
// attribute changes the view. The page's zarrExplorer API is the element's too: open, select,
// setSelection, setViewport, setLevel, whenIdle and state each return a Promise, carried by
// postMessage to exactly the site's origin, and only answers from the element's own iframe and
// that origin are accepted.
(function () {
  "use strict";
  if (window.customElements.get("zarr-explorer")) return;
  const SITE = new URL(".", document.currentScript.src);
  const VIEW = ["store", "path", "select", "level", "view", "cmap", "clim", "theme", "controls"];
  const METHODS = ["open", "select", "setSelection", "setViewport", "setLevel", "whenIdle", "state"];

  class ZarrExplorerElement extends HTMLElement {
    static get observedAttributes() {
      return [...VIEW, "height"];
    }

    constructor() {
      super();
      this._calls = new Map();
      this._lastId = 0;
      this._ready = new Promise((resolve) => { this._resolveReady = resolve; });
      this._onMessage = (event) => this._receive(event);
      const root = this.attachShadow({ mode: "open" });
      root.innerHTML = "<style>:host{display:block;width:100%}iframe{width:100%;height:100%;border:0;display:block}</style>";
      this._frame = document.createElement("iframe");
      this._frame.title = "Zarr explorer";
      this._frame.setAttribute("allow", "clipboard-write");
      root.append(this._frame);
    }

    connectedCallback() {
      window.addEventListener("message", this._onMessage);
      this.style.height = this.getAttribute("height") || "600px";
      this._frame.src = new URL(`index.html?${this._query()}`, SITE).href;
    }

    disconnectedCallback() {
      window.removeEventListener("message", this._onMessage);
    }

    attributeChangedCallback(name, before, after) {
      if (!this.isConnected || before === after) return;
      if (name === "height") this.style.height = after || "600px";
      else this.ready.then(() => this._post({ type: "pyzarr-navigate", query: this._query() }));
    }

    /** Resolves once the explorer in the element is interactive. */
    get ready() {
      return this._ready;
    }

    _query() {
      const params = new URLSearchParams();
      for (const name of VIEW) if (this.hasAttribute(name)) params.set(name, this.getAttribute(name));
      params.set("embedder", window.location.origin); // the only origin the app will talk to
      return params.toString().replaceAll("%2F", "/").replaceAll("%3A", ":").replaceAll("%2C", ",");
    }

    _post(message) {
      this._frame.contentWindow.postMessage(message, SITE.origin);
    }

    _receive(event) {
      if (event.source !== this._frame.contentWindow || event.origin !== SITE.origin) return;
      const msg = event.data || {};
      if (msg.type === "pyzarr-ready") this._resolveReady();
      if (msg.type !== "pyzarr-result" || !this._calls.has(msg.id)) return;
      const { resolve, reject } = this._calls.get(msg.id);
      this._calls.delete(msg.id);
      if (msg.error !== undefined) reject(new Error(msg.error));
      else resolve(msg.result);
    }

    /** Call the explorer's API method with args; resolves with what the page's method resolves. */
    call(method, ...args) {
      return this.ready.then(() => new Promise((resolve, reject) => {
        const id = ++this._lastId;
        this._calls.set(id, { resolve, reject });
        this._post({ type: "pyzarr-call", id, method, args });
      }));
    }
  }
  for (const method of METHODS) {
    ZarrExplorerElement.prototype[method] = function (...args) { return this.call(method, ...args); };
  }
  window.customElements.define("zarr-explorer", ZarrExplorerElement);
})();
