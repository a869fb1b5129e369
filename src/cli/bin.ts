#!/usr/bin/env node
// The ffvm executable.

import { main, reportError } from "./main.js";
import { processOutput } from "./output.js";

// A reader that goes away (`ffvm status | head -1`, quitting less) closes the
// pipe; the output is no longer wanted, so ffvm ends quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
}

const output = processOutput();
main(process.argv.slice(2), output)
  .catch((error: unknown) => reportError(error, output))
  .then((code) => {
    process.exitCode = code;
  });
