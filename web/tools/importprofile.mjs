// Developer tool: where does startup time go inside Python? Boots the built site's Pyodide under
// Node, installs the startup archives as the worker does, and runs CODE with CPython's
// -X importtime report on (PYTHONPROFILEIMPORTTIME) or plain timing.
//
//   node web/tools/importprofile.mjs SITE_DIR [--importtime] [--code "import panel"] [--mount HOST:DIR]
//
// Prints wall times of each step; with --importtime also CPython's import tree on stderr.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { pathToFileURL } from "node:url";
import { untarInto } from "../untar.mjs";

let args = process.argv.slice(2);
const site = path.resolve(args.shift());
let importtime = false;
const mounts = []; // [host dir, FS dir]: e.g. to keep caches between runs
let code = "import panel\nfrom panel.io.pyodide import init_doc, write_doc\nfrom pyzarr_web.ui.app import explorer_from_query";
while (args.length) {
  const a = args.shift();
  if (a === "--importtime") importtime = true;
  else if (a === "--code") code = args.shift();
  else if (a === "--mount") mounts.push(args.shift().split(":"));
}
const manifest = JSON.parse(fs.readFileSync(path.join(site, "manifest.json"), "utf8"));
const index = path.join(site, manifest.pyodide.index);
// what panel.io.pyodide expects of a browser worker's globals
globalThis.XMLHttpRequest ??= class XMLHttpRequest {};
const { loadPyodide } = await import(pathToFileURL(path.join(index, "pyodide.mjs")).href);
let t = performance.now();
const py = await loadPyodide({
  indexURL: index + "/",
  stdLibURL: path.join(index, manifest.pyodide.stdlib),
  lockFileContents: { info: manifest.pyodide.lock_info, packages: {} },
  env: { HOME: "/home/pyodide", ...(importtime ? { PYTHONPROFILEIMPORTTIME: "1" } : {}) },
  stderr: (s) => console.error(s),
});
console.log(`boot ${(performance.now() - t).toFixed(0)} ms`);

t = performance.now();
for (const a of manifest.archives) {
  untarInto(py.FS, zlib.gunzipSync(fs.readFileSync(path.join(site, a.tar))), manifest.site_packages);
}
for (const [host, dir] of mounts) {
  py.FS.mkdirTree(dir);
  py.FS.mount(py.FS.filesystems.NODEFS, { root: path.resolve(host) }, dir);
}
py.runPython("import importlib; importlib.invalidate_caches()");
console.log(`install ${(performance.now() - t).toFixed(0)} ms`);
py.runPython("import gc; gc.disable()");
// one step per statement: indented lines continue the previous one
const steps = [];
for (const line of code.split("\n")) {
  if (/^\s/.test(line) && steps.length) steps[steps.length - 1] += "\n" + line;
  else steps.push(line);
}
for (const line of steps) {
  t = performance.now();
  try {
    await py.runPythonAsync(line);
  } catch (err) {
    console.log(String(err.message || err).split("\n").slice(-4).join("\n"));
    process.exit(1);
  }
  console.log(`${(performance.now() - t).toFixed(0).padStart(6)} ms  ${line.split("\n")[0]}`);
}
