#!/usr/bin/env node
// The ffvm executable.

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { useCompileCache } from "./compile-cache.js";
import { main, reportError } from "./main.js";
import { processOutput } from "./output.js";

const entry = fileURLToPath(import.meta.url);
useCompileCache(dirname(entry), entry);

const output = processOutput();
main(process.argv.slice(2), output)
  .catch((error: unknown) => reportError(error, output))
  .then((code) => {
    process.exitCode = code;
  });
