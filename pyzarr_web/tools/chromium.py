"""How every tool drives Debian's Chromium: the browser tests, the benchmarks and screenshots."""

#: Debian's Chromium and how every tool drives it (benchmarks, screenshots, the browser tests).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-extensions",
                 "--disable-default-apps", "--no-proxy-server",
                 # keep timers and the worker at full speed in a headless tab
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 # no network beyond loopback: the site must be self-contained
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
