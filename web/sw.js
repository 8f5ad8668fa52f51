// pyzarr-web service worker: the site, and the stores bundled with it, work offline.
//
// The build (and `pyzarr-web bundle`) writes the cache name, from the content hash of the files
// listed, so a new site is a new cache and an update is atomic: the old site keeps its files until
// the new one is complete. FILES are the files this worker answers for (paths relative to its
// folder); PRECACHE, the ones it keeps at once: what the page loads at startup, and in a bundle
// everything, its store included. Content-addressed files never change under one name: cache
// first; the others in FILES are the bundled stores' files, which answer Range requests from
// their kept copy. The page itself: network first, its kept copy when offline. Anything else (stores
// elsewhere, on this origin or another) is left to the browser: this worker does not see it.
const CACHE = "{{ CACHE }}";
const FILES = {{ FILES }};
const PRECACHE = {{ PRECACHE }};
const STORES = {{ STORES }}; // folders of bundled stores: what they do not hold is not there (404)
const PAGE = new URL("./", self.location).href;
const absolute = (path) => new URL(path, PAGE).href;
const files = new Set(FILES.map(absolute));
const stores = STORES.map(absolute);

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll([PAGE, ...PRECACHE.map(absolute)]))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("pyzarr-web-") && n !== CACHE)
      .map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

// the kept copy of the page's folder index: "./", "./index.html", with any query
function pageKey(url) {
  return url.origin + url.pathname === PAGE || url.origin + url.pathname === PAGE + "index.html" ? PAGE : null;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const page = request.mode === "navigate" ? pageKey(url) : null;
  const key = page || url.origin + url.pathname;
  if (!page && !files.has(key)) {
    // a bundled store is complete: a key it lacks (a probe, a missing chunk) is a 404, as from its server
    if (stores.some((folder) => key.startsWith(folder) || key + "/" === folder)) {
      event.respondWith(new Response("not in this store", { status: 404 }));
    }
    return;
  }
  event.respondWith(page ? networkFirst(request, page) : fromCache(request, key));
});

async function networkFirst(request, key) {
  try {
    const response = await fetch(request);
    if (response.ok) (await caches.open(CACHE)).put(key, response.clone());
    return response;
  } catch (err) {
    const kept = await caches.match(key, { cacheName: CACHE });
    if (kept) return kept;
    throw err;
  }
}

async function fromCache(request, key) {
  const cache = await caches.open(CACHE);
  let kept = await cache.match(key);
  if (!kept) {
    kept = await fetch(key);
    if (!kept.ok) return kept;
    await cache.put(key, kept.clone());
  }
  const range = request.headers.get("range");
  return range ? sliced(kept, range) : kept;
}

// a 206 from the whole kept body, as an HTTP server answers `Range: bytes=a-b | a- | -n`
async function sliced(response, header) {
  const body = await response.arrayBuffer();
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const size = body.byteLength;
  let start = m && m[1] !== "" ? Number(m[1]) : null;
  let end = m && m[2] !== "" ? Number(m[2]) : null;
  if (m && start === null && end !== null) [start, end] = [Math.max(0, size - end), size - 1];
  if (!m || start === null || start >= size || (end !== null && end < start)) {
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  }
  end = end === null ? size - 1 : Math.min(end, size - 1);
  return new Response(body.slice(start, end + 1), {
    status: 206,
    headers: { "Content-Range": `bytes ${start}-${end}/${size}`, "Content-Length": String(end - start + 1),
               "Content-Type": response.headers.get("Content-Type") || "application/octet-stream" },
  });
}
