// V8's compiled code for the files of the ffvm executable, kept next to each
// file as <file>.cache. Compiling a command's file and its functions was a
// tenth of the time of a reconcile with nothing to do. The caches are written
// at build time (scripts/compile-cache.mjs runs commands with
// FFVM_WRITE_COMPILE_CACHE=1). V8 checks each cache against the source, its
// own version and its flags, and compiles the file as usual when it does not
// match, as under another node.

import Module from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Script } from "node:vm";

interface CompilingModule {
  exports: unknown;
}

type Compile = (this: CompilingModule, content: string, filename: string) => unknown;

/** Compiles the .cjs files of dir, other than the running one, with their caches. */
export const useCompileCache = (dir: string, entry: string): void => {
  const prototype = Module.prototype as unknown as { _compile: Compile };
  const compile = prototype._compile;
  const written: { script: Script; file: string }[] = [];
  prototype._compile = function (content, filename) {
    if (dirname(filename) !== dir || !filename.endsWith(".cjs") || filename === entry) return compile.call(this, content, filename);
    const cacheFile = `${filename}.cache`;
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // No cache: V8 compiles the file.
    }
    const script = new Script(Module.wrap(content), { filename, cachedData });
    if (process.env.FFVM_WRITE_COMPILE_CACHE === "1") written.push({ script, file: cacheFile });
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, Module.createRequire(filename), this, filename, dir);
  };
  // After the command ran, so that the caches hold the functions it compiled.
  if (process.env.FFVM_WRITE_COMPILE_CACHE === "1") {
    process.on("exit", () => {
      for (const { script, file } of written) writeFileSync(file, script.createCachedData());
    });
  }
};
