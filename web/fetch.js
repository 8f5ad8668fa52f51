// HTTP for the Python reader (pyzarr_web/core/stores/http_pyodide.py). The build puts this file
// in the Python boot, so the product's worker and the test harness's worker fetch alike.
//
// self.pyzarrFetch(url, headers, limits, signal): one GET, the whole body read here as a stream
// under a first-byte timer, an idle timer between body chunks and an overall deadline (limits
// {firstByte, idle, total} in seconds, counted from when a connection is free for it);
// resolves with {status, headers, body: Uint8Array} or rejects with an Error saying what failed
// and after how long. Tests replace it to shorten the limits; the pump looks it up for every
// request.
//
// self.pyzarrPump.start(requestsJson, limitsJson): a batch of requests ([[url, headers], ...])
// taken from Python in one call and run at most pyzarrPump.limit at a time across all batches,
// in the order given. batch.next() resolves with what completed since the last call (waiting
// for at least one), as {meta: JSON [[index, status, headers, length, error], ...], body: the
// bodies back to back}, or undefined (None in Python) once everything was handed over;
// batch.abort() cancels what is still queued or running (a view that went stale). For tests:
// the counters batches, requests and aborted, and queued (requests waiting for a slot now).

self.pyzarrFetch = (() => {
  const HEADERS = ["content-range", "content-length", "content-type", "content-encoding"];
  // A browser opens at most 6 connections to a host (HTTP/1.1); a request beyond them waits
  // inside the browser until one is free. Its timers start then, not when fetch() is called:
  // a request that was never sent cannot have waited for a first byte.
  const CONNECTIONS = 6;
  const hosts = new Map(); // host -> {active: requests started, waiting: their timer starts}
  return async (url, headers, limits, signal) => {
    const controller = new AbortController();
    const hostName = new URL(url, self.location.href).host;
    if (!hosts.has(hostName)) hosts.set(hostName, { active: 0, waiting: [] });
    const host = hosts.get(hostName);
    let started = null; // when a connection was free for the request
    const waited = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    let timedOut = null; // what the timer that fired was waiting for
    let timer = null;
    let deadline = null;
    const arm = (seconds, what) => {
      clearTimeout(timer);
      timer = setTimeout(() => { timedOut = what; controller.abort(); }, seconds * 1000);
    };
    const start = () => {
      if (started !== null) return;
      started = performance.now();
      const i = host.waiting.indexOf(start);
      if (i >= 0) host.waiting.splice(i, 1);
      arm(limits.firstByte, "first-byte");
      deadline = setTimeout(() => {
        timedOut = "deadline";
        controller.abort();
      }, limits.total * 1000);
    };
    host.active += 1;
    if (host.active <= CONNECTIONS) start();
    else host.waiting.push(start);
    const cancel = () => controller.abort();
    if (signal) signal.addEventListener("abort", cancel);
    let received = 0;
    try {
      const response = await fetch(url, { headers, signal: controller.signal });
      start(); // answered before a connection seemed free (HTTP/2 has no such limit)
      const chunks = [];
      if (response.status === 404) {
        if (response.body) response.body.cancel().catch(() => {}); // a 404 page is not needed
      } else if (response.body) {
        const reader = response.body.getReader();
        for (;;) {
          arm(limits.idle, "idle");
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          received += value.byteLength;
        }
      }
      const body = chunks.length === 1 ? chunks[0] : new Uint8Array(received);
      if (chunks.length !== 1) {
        let offset = 0;
        for (const c of chunks) {
          body.set(c, offset);
          offset += c.byteLength;
        }
      }
      const out = {};
      for (const name of HEADERS) {
        const value = response.headers.get(name);
        if (value !== null) out[name] = value;
      }
      return { status: response.status, headers: out, body };
    } catch (err) {
      if (timedOut === "deadline") {
        throw new Error(`not complete after ${waited()} (deadline ${limits.total} s, ${received} bytes received)`);
      }
      if (timedOut === "idle") {
        throw new Error(`body stalled after ${received} bytes: nothing for ${limits.idle} s (${waited()} in all)`);
      }
      if (timedOut) throw new Error(`no response after ${waited()} (first-byte timeout ${limits.firstByte} s)`);
      if (signal && signal.aborted) throw err;
      const detail = err && err.message ? err.message : String(err);
      throw new Error(`network error after ${received} bytes (${detail}): the server is unreachable, ` +
                      "dropped the connection, redirected too often, or does not allow this page " +
                      "to read it (CORS) -- the browser does not say which");
    } finally {
      clearTimeout(timer);
      clearTimeout(deadline);
      if (signal) signal.removeEventListener("abort", cancel);
      const i = host.waiting.indexOf(start);
      if (i >= 0) host.waiting.splice(i, 1);
      host.active -= 1;
      if (host.waiting.length) host.waiting[0]();
    }
  };
})();

self.pyzarrPump = (() => {
  const queue = []; // {batch, index, url, headers} waiting for a slot, oldest first
  let running = 0;
  // A browser opens about 6 connections per host; a few more requests in flight keep each busy
  // while Python decodes (a request issued only when JavaScript gets to it leaves it idle).
  const pump = {
    limit: 16, batches: 0, requests: 0, aborted: 0, start,
    get queued() { return queue.length; }, // requests waiting for a slot
  };

  function run() {
    while (running < pump.limit && queue.length) {
      const job = queue.shift();
      running += 1;
      job.batch.running += 1;
      self.pyzarrFetch(job.url, job.headers, job.batch.limits, job.batch.controller.signal).then(
        (r) => job.batch.deliver([job.index, r.status, r.headers, r.body, null]),
        (err) => job.batch.deliver([job.index, 0, null, null, err && err.message ? err.message : String(err)]),
      ).finally(() => {
        running -= 1;
        job.batch.running -= 1;
        run();
      });
    }
  }

  function pack(items) {
    let length = 0;
    for (const item of items) length += item[3] ? item[3].byteLength : 0;
    const body = new Uint8Array(length);
    let offset = 0;
    const meta = items.map(([index, status, headers, data, error]) => {
      const n = data ? data.byteLength : 0;
      if (n) body.set(data, offset);
      offset += n;
      return [index, status, headers, n, error];
    });
    return { meta: JSON.stringify(meta), body };
  }

  function start(requestsJson, limitsJson) {
    const requests = JSON.parse(requestsJson);
    pump.batches += 1;
    pump.requests += requests.length;
    let ready = []; // completed, not yet handed to Python
    let remaining = requests.length; // not yet completed
    let wake = null; // resolves the next() Python waits on
    const batch = {
      limits: JSON.parse(limitsJson),
      controller: new AbortController(),
      running: 0,
      deliver(item) {
        if (batch.controller.signal.aborted) return;
        ready.push(item);
        remaining -= 1;
        if (wake) {
          const w = wake;
          wake = null;
          w(batch.take());
        }
      },
      take() {
        const items = ready;
        ready = [];
        return pack(items);
      },
      next() {
        if (ready.length) return Promise.resolve(batch.take());
        if (!remaining || batch.controller.signal.aborted) return Promise.resolve(undefined);
        return new Promise((resolve) => { wake = resolve; });
      },
      abort() {
        if (batch.controller.signal.aborted || !remaining) return;
        const queued = queue.filter((job) => job.batch === batch).length;
        pump.aborted += queued + batch.running;
        for (let i = queue.length - 1; i >= 0; i -= 1) if (queue[i].batch === batch) queue.splice(i, 1);
        batch.controller.abort();
        if (wake) wake(undefined);
      },
    };
    requests.forEach(([url, headers], index) => queue.push({ batch, index, url, headers }));
    run();
    return batch;
  }

  return pump;
})();
