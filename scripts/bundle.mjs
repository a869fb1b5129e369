// Bundles the ffvm executable into dist/bundle/ with esbuild. Node loads one
// file and a few lazily imported chunks much faster than the ~150 modules of
// the tsc output and node_modules: loading yaml alone as separate CommonJS
// files took about 65 ms, most of a no-op command's time.

import { build } from "esbuild";

const outdir = new URL("../dist/bundle/", import.meta.url).pathname;

await build({
  entryPoints: { ffvm: "src/cli/bin.ts" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Bundled CommonJS dependencies call require() for node's own modules,
  // which an ES module does not have.
  banner: { js: "import { createRequire as ffvmCreateRequire } from 'node:module'; const require = ffvmCreateRequire(import.meta.url);" },
  // Smaller files compile faster at start-up; error messages do not depend on names.
  minify: true,
  logLevel: "warning",
});

// validate.ts imports the precompiled validator from next to itself; it is
// bundled on its own because validate.ts loads it by a computed path.
await build({
  entryPoints: [new URL("../dist/config/sites-validator.js", import.meta.url).pathname],
  outfile: `${outdir}sites-validator.js`,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  logLevel: "warning",
});
