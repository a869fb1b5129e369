// Runs the benchmarks and prints their figures. Each figure is a ratio against
// a baseline measured in the same run, or a count; see BENCHMARKS.md.
//
//   node bench/run.js                 all benchmarks
//   node bench/run.js startup plan    only these (startup, noop, plan, image, watch, login)

import { cpus } from "node:os";

const benches = {
  startup: async () => (await import("./startup.js")).benchStartup({ runs: 21 }),
  noop: async () => (await import("./noop-reconcile.js")).benchNoopReconcile({ runs: 21 }),
  plan: async () => (await import("./plan.js")).benchPlan({ runs: 21 }),
  image: async () => (await import("./image-builds.js")).benchImageBuilds(),
  watch: async () => (await import("./watch-latency.js")).benchWatchLatency({ saves: 20 }),
  login: async () => (await import("./login.js")).benchLogin({ count: 4 }),
};

const selected = process.argv.slice(2);
for (const name of selected) {
  if (!(name in benches)) {
    console.error(`unknown benchmark ${JSON.stringify(name)}; choose from: ${Object.keys(benches).join(", ")}`);
    process.exit(64);
  }
}

console.log(`ffvm benchmarks on ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, node ${process.version}`);
let failed = false;
for (const name of selected.length > 0 ? selected : Object.keys(benches)) {
  try {
    for (const line of await benches[name]()) console.log(line);
  } catch (error) {
    failed = true;
    console.error(`${name}: failed: ${error.message}`);
  }
}
process.exitCode = failed ? 1 : 0;
