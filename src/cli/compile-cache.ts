// V8's compiled code for the files of the ffvm executable, kept next to each
// file as <file>.cache, because compiling a command's file and its functions
// was about a tenth of a no-op reconcile. The build writes the caches
// (scripts/compile-cache.mjs runs commands with FFVM_WRITE_COMPILE_CACHE=1).
//
// A cache starts with the text it was made from and is used only for that
// text. V8 checks its own version and flags, but accepted a cache for an
// edited text of the same length (test/cli/compile-cache.test.ts). Comparing
// the text costs less than hashing it, which would also load node's crypto module.

import Module from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { Script } from "node:vm";

interface CompilingModule {
  exports: unknown;
}

type Compile = (this: CompilingModule, content: string, filename: string) => unknown;

// The cache starts with the length of the text in bytes, then the text.
const lengthBytes = 4;

/** Compiles the .cjs files of dir, other than the running one, with their caches. */
export const useCompileCache = (dir: string, entry: string): void => {
  const prototype = Module.prototype as unknown as { _compile: Compile };
  const compile = prototype._compile;
  const written: { script: Script; file: string; text: Buffer }[] = [];
  prototype._compile = function (content, filename) {
    if (dirname(filename) !== dir || !filename.endsWith(".cjs") || filename === entry) return compile.call(this, content, filename);
    const cacheFile = `${filename}.cache`;
    const text = Buffer.from(content);
    let cachedData: Buffer | undefined;
    try {
      const cache = readFileSync(cacheFile);
      const end = lengthBytes + text.length;
      if (cache.length > end && cache.readUInt32LE(0) === text.length && cache.subarray(lengthBytes, end).equals(text)) cachedData = cache.subarray(end);
    } catch {
      // No cache: V8 compiles the file.
    }
    // V8 keeps the name a cache was made under, so stack traces name the
    // file by its place in the package, the same at build time and after.
    const script = new Script(Module.wrap(content), { filename: `dist/bin/${basename(filename)}`, cachedData });
    if (process.env.FFVM_WRITE_COMPILE_CACHE === "1") written.push({ script, file: cacheFile, text });
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, Module.createRequire(filename), this, filename, dir);
  };
  // After the command ran, so that the caches contain the functions it compiled.
  if (process.env.FFVM_WRITE_COMPILE_CACHE === "1") {
    process.on("exit", () => {
      for (const { script, file, text } of written) {
        const length = Buffer.alloc(lengthBytes);
        length.writeUInt32LE(text.length);
        writeFileSync(file, Buffer.concat([length, text, script.createCachedData()]));
      }
    });
  }
};
