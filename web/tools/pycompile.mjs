// Build helper: compile staged package trees to sourceless .pyc with the CPython inside Pyodide.
//
//   node web/tools/pycompile.mjs [--optimize N] PYODIDE_DIR TREE [TREE ...]
//
// The host CPython is another version, and .pyc files are version specific, so the bytecode is
// produced by the very interpreter that will load it. Each TREE (a site-packages layout) is
// mounted into Pyodide's file system; every module.py becomes module.pyc in the same directory
// (the legacy layout that the import system loads without a source) and the .py is removed.
// Files that do not compile keep their source and are reported as "WARN".
import path from "node:path";
import { pathToFileURL } from "node:url";

let args = process.argv.slice(2);
let optimize = 0;
if (args[0] === "--optimize") {
  optimize = Number(args[1]);
  args = args.slice(2);
}
const [pyodideDir, ...trees] = args;
if (!pyodideDir || trees.length === 0) {
  console.error("usage: pycompile.mjs PYODIDE_DIR TREE [TREE ...]");
  process.exit(2);
}
const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
const py = await loadPyodide({ indexURL: path.resolve(pyodideDir) + "/" });

const compile = py.runPython(`
import os, py_compile, sys

def compile_tree(root, optimize):
    done = failed = 0
    warnings = []
    for dirpath, dirnames, filenames in os.walk(root):
        for fn in filenames:
            if not fn.endswith(".py"):
                continue
            src = os.path.join(dirpath, fn)
            rel = os.path.relpath(src, root)
            try:
                py_compile.compile(
                    src, cfile=src + "c", dfile=rel, doraise=True, optimize=optimize,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError as exc:
                failed += 1
                warnings.append(f"WARN kept source {rel}: {exc.exc_type_name}")
                continue
            os.remove(src)
            done += 1
    return done, failed, "\\n".join(warnings)

compile_tree
`);

let total = 0;
for (const [i, tree] of trees.entries()) {
  const mnt = `/mnt/t${i}`;
  py.FS.mkdirTree(mnt);
  py.FS.mount(py.FS.filesystems.NODEFS, { root: path.resolve(tree) }, mnt);
  const [done, failed, warnings] = compile(mnt, optimize).toJs();
  if (warnings) console.log(warnings);
  total += done;
  py.FS.unmount(mnt);
}
console.log(`compiled ${total} modules with Python ${py.version ? py.runPython("import sys; sys.version.split()[0]") : "?"}`);
