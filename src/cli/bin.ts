#!/usr/bin/env node
// The ffvm executable.

import { main, reportError } from "./main.js";
import { processOutput } from "./output.js";

const output = processOutput();
main(process.argv.slice(2), output)
  .catch((error: unknown) => reportError(error, output))
  .then((code) => {
    process.exitCode = code;
  });
