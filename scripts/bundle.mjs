// Bundles the ffvm executable into dist/bin/ with esbuild, as CommonJS files.
//
// Start-up time is most of what a command with nothing to do costs, and
// profiles showed where it went: loading ~150 separate modules, compiling the
// yaml parser and ajv's schema compiler, and node's ES module loader, whose
// `import ... from "node:fs"` also loads fs/promises, readline and streams.
// So the executable is CommonJS, and ffvm.cjs only parses the command line.
// Each module that the sources load with import() is a file of its own,
// required on first use: each command, the apply code (execa, p-queue, QEMU,
// nix), the yaml package and node-cron. A file carries its own copy of the
// modules it shares with others, so errors that cross files are matched by
// name, not by class (main.ts, load.ts).

import { rmSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const outdir = `${root}dist/bin`;

// Every module that src/ loads with import() becomes a file of its own,
// named after it. These are collected while the files are built.
const fileNameOf = (path) => {
  const parts = path.replace(/\.(js|ts)$/, "").split("/");
  const name = parts.at(-1) === "index" ? parts.at(-2) : parts.at(-1);
  return `${name}.cjs`;
};

const separateFilesPlugin = (pending, built) => ({
  name: "separate-files",
  setup(builder) {
    builder.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== "dynamic-import" || args.pluginData?.separate === true) return undefined;
      const resolved = await builder.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { separate: true } });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      const file = fileNameOf(resolved.path);
      const known = built.get(file);
      if (known !== undefined && known !== resolved.path) return { errors: [{ text: `${resolved.path} and ${known} would both be ${file}` }] };
      if (known === undefined) {
        built.set(file, resolved.path);
        pending.push({ file, entry: resolved.path });
      }
      return { path: `./${file}`, external: true };
    });
  },
});

// validator.ts finds the precompiled validator by a path computed at run
// time, and compiles the schema with ajv when it is missing. In the
// executable the precompiled validator is always there, so it is imported
// directly and ajv's compiler is left out.
const precompiledValidatorPlugin = {
  name: "precompiled-validator",
  setup(builder) {
    builder.onLoad({ filter: /[\\/]src[\\/]config[\\/]validator\.ts$/ }, () => ({
      contents: [
        `import validate, { schema } from ${JSON.stringify(`${root}dist/config/sites-validator.js`)};`,
        "export const getValidator = async () => ({ schema, validate });",
      ].join("\n"),
      loader: "js",
      resolveDir: `${root}src/config`,
    }));
  },
};

const common = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // import() of a file of its own becomes require(), because through import()
  // node's ES module loader would read the file asynchronously and scan its
  // source for export names before running it.
  supported: { "dynamic-import": false },
  // Bundled ES module dependencies (node-cron) compute paths from
  // import.meta.url, which a CommonJS file does not have.
  define: { "import.meta.url": "ffvmModuleUrl" },
  banner: { js: 'var ffvmModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // Smaller files compile faster at start-up; error messages do not depend on names.
  minify: true,
  logLevel: "warning",
};

rmSync(outdir, { recursive: true, force: true });

const built = new Map([["ffvm.cjs", `${root}src/cli/bin.ts`]]);
const pending = [{ file: "ffvm.cjs", entry: `${root}src/cli/bin.ts` }];
while (pending.length > 0) {
  const { file, entry } = pending.shift();
  await build({
    ...common,
    entryPoints: [entry],
    outfile: `${outdir}/${file}`,
    plugins: [separateFilesPlugin(pending, built), precompiledValidatorPlugin],
  });
}
