// ffvm watch: the long-running service that keeps the VMs matching sites.yaml.

import { defaultBackoffPolicy, type BackoffPolicy } from "../../service/backoff.js";
import { createServiceLog } from "../../service/log.js";
import { describeCronError } from "../../service/schedule.js";
import { WatchService } from "../../service/watch.js";
import { UsageError } from "../exit.js";
import type { Output } from "../output.js";

/** The options of `ffvm watch` as given on the command line; `ffvm service install` passes them on. */
export interface WatchFlags {
  "heal-schedule"?: string;
  "trash-retention"?: string;
  "restart-outdated"?: boolean;
  "retry-delay"?: string;
  "max-crashes"?: string;
  "crash-window"?: string;
}

export const watchFlagNames = ["heal-schedule", "trash-retention", "restart-outdated", "retry-delay", "max-crashes", "crash-window"] as const;

export const defaultHealSchedule = "*/5 * * * *";

export interface WatchSettings {
  healSchedule: string;
  trashRetentionMs: number;
  restartOutdated: boolean;
  backoff: BackoffPolicy;
}

/** Checks the flags and fills in the defaults; throws UsageError naming the flag and a valid example. */
export const parseWatchFlags = (flags: WatchFlags): WatchSettings => {
  const healSchedule = flags["heal-schedule"] ?? defaultHealSchedule;
  const cronError = describeCronError(healSchedule);
  if (cronError !== undefined) {
    throw new UsageError(`--heal-schedule ${JSON.stringify(healSchedule)} is not a valid cron expression (${cronError}); for example "*/5 * * * *" heals every 5 minutes`);
  }
  const days = parseNumber(flags["trash-retention"], "--trash-retention", 7, { min: 0, example: "7 keeps trashed disks for a week" });
  const retrySeconds = parseNumber(flags["retry-delay"], "--retry-delay", defaultBackoffPolicy.firstDelayMs / 1000, { min: 0.1, example: "10" });
  const maxCrashes = parseNumber(flags["max-crashes"], "--max-crashes", defaultBackoffPolicy.maxCrashes, { min: 1, integer: true, example: "5" });
  const windowMinutes = parseNumber(flags["crash-window"], "--crash-window", defaultBackoffPolicy.windowMs / 60_000, { min: 1, example: "60" });
  return {
    healSchedule,
    trashRetentionMs: days * 24 * 60 * 60 * 1000,
    restartOutdated: flags["restart-outdated"] === true,
    backoff: {
      firstDelayMs: retrySeconds * 1000,
      maxDelayMs: Math.max(defaultBackoffPolicy.maxDelayMs, retrySeconds * 1000),
      maxCrashes,
      windowMs: windowMinutes * 60_000,
    },
  };
};

/** Returns the given flags as arguments again, for the ExecStart= line of the unit. */
export const watchFlagArguments = (flags: WatchFlags): string[] => {
  const args: string[] = [];
  for (const name of watchFlagNames) {
    const value = flags[name];
    if (value === undefined || value === false) continue;
    args.push(`--${name}`);
    if (typeof value === "string") args.push(value);
  }
  return args;
};

export interface WatchCommandOptions {
  configFile: string;
  stateDir?: string;
  flags: WatchFlags;
  vmConcurrency?: number;
}

/** Runs the service until SIGTERM or SIGINT; returns the exit code. */
export const runWatch = async (options: WatchCommandOptions, output: Output): Promise<number> => {
  const settings = parseWatchFlags(options.flags);
  const stderrIsTerminal = process.stderr.isTTY === true;
  const log = createServiceLog({ ...output, color: output.color && stderrIsTerminal }, stderrIsTerminal && process.env.JOURNAL_STREAM === undefined);
  const service = new WatchService(
    {
      configFile: options.configFile,
      stateDir: options.stateDir,
      vmConcurrency: options.vmConcurrency,
      ...settings,
    },
    log,
  );

  let signals = 0;
  const onStopSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // The lock left behind is recovered by the next ffvm, because its holder is gone.
      log.info(`received ${signal} again: exiting at once`);
      process.exit(130);
    }
    void service.stop(`received ${signal}`);
  };
  const onReload = (): void => service.request({ kind: "sighup" });
  process.on("SIGTERM", onStopSignal);
  process.on("SIGINT", onStopSignal);
  process.on("SIGHUP", onReload);
  try {
    await service.start();
    const code = await service.done();
    // Nothing should keep the event loop alive now; if something does, such as
    // a child's open pipe, the stopped service still exits.
    setTimeout(() => process.exit(code), 3000).unref();
    return code;
  } finally {
    process.off("SIGTERM", onStopSignal);
    process.off("SIGINT", onStopSignal);
    process.off("SIGHUP", onReload);
  }
};

const parseNumber = (
  text: string | undefined,
  flag: string,
  fallback: number,
  rule: { min: number; integer?: boolean; example: string },
): number => {
  if (text === undefined) return fallback;
  const value = Number(text);
  const valid = text.trim() !== "" && Number.isFinite(value) && value >= rule.min && (rule.integer !== true || Number.isInteger(value));
  if (!valid) {
    const kind = rule.integer === true ? "a whole number" : "a number";
    throw new UsageError(`${flag} must be ${kind} of at least ${rule.min}, got ${JSON.stringify(text)}; for example ${flag} ${rule.example}`);
  }
  return value;
};
