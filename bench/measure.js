// Timing helpers: every figure is a ratio against a baseline measured in the
// same run, interleaved with the target, because these machines are shared
// and their absolute speed varies from minute to minute.

import { spawnSync } from "node:child_process";

/** Returns the median of a list of numbers. */
export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Runs a command once and returns its wall time in milliseconds; throws when it fails. */
export const timeCommand = (command, args, options = {}) => {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 && !(options.allowedStatus ?? []).includes(result.status)) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.status}: ${result.stderr}`);
  }
  return elapsed;
};

/**
 * Times a target command against a baseline command, alternating the two so
 * that a slow moment of the machine hits both. The ratio is the median of
 * the ratios of each target run to the baseline run just before it, so each
 * pair shares the machine's state of that moment.
 */
export const compareCommands = ({ baseline, target, runs = 15, warmup = 2 }) => {
  const baselineTimes = [];
  const targetTimes = [];
  const ratios = [];
  for (let run = 0; run < warmup + runs; run++) {
    const baselineTime = timeCommand(baseline.command, baseline.args, baseline.options);
    const targetTime = timeCommand(target.command, target.args, target.options);
    if (run >= warmup) {
      baselineTimes.push(baselineTime);
      targetTimes.push(targetTime);
      ratios.push(targetTime / baselineTime);
    }
  }
  return { baselineMs: median(baselineTimes), targetMs: median(targetTimes), ratio: median(ratios) };
};

/** Formats a ratio line: name, ratio, target, and whether it is met. */
export const formatRatio = (name, { baselineMs, targetMs, ratio }, limit) => {
  let verdict = "";
  if (limit !== undefined) verdict = `  (target ≤ ${limit}×: ${ratio <= limit ? "met" : "MISSED"})`;
  return `${name.padEnd(44)} ${ratio.toFixed(2)}×  [${targetMs.toFixed(1)} ms vs ${baselineMs.toFixed(1)} ms]${verdict}`;
};
