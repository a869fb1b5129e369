// Crash bookkeeping of pinned sites around each reconcile of `ffvm watch`:
// which dead VMs and failed starts count as crashes, and which starts wait.

import type { DesiredState, Site } from "../config/types.js";
import type { ActionResult } from "../log/events.js";
import type { ActualState } from "../observe/types.js";
import type { StatePaths } from "../state/paths.js";
import {
  decideStart,
  isNewCrash,
  recordCrash,
  reviewRecord,
  type BackoffPolicy,
  type CrashRecord,
  type SiteVersion,
} from "./backoff.js";
import type { ServiceLog } from "./log.js";
import type { ServiceState } from "./state.js";

export interface HealthContext {
  state: ServiceState;
  policy: BackoffPolicy;
  log: ServiceLog;
  paths: StatePaths;
}

/**
 * Updates the crash history from what observe found (a pinned VM that died
 * counts once) and returns the pinned sites whose start must wait.
 */
export const reviewCrashes = (context: HealthContext, desired: DesiredState, actual: ActualState, now: Date): string[] => {
  const { state, policy } = context;
  const pinned = new Map(desired.sites.filter((site) => site.pinned).map((site) => [site.name, site]));
  for (const name of Object.keys(state.crashes)) {
    if (!pinned.has(name)) delete state.crashes[name];
  }

  const held: string[] = [];
  for (const site of pinned.values()) {
    const vm = actual.vms.get(site.name);
    const running = vm?.state === "running";
    const version = versionOf(site, actual);
    let record = reviewRecord(state.crashes[site.name], { running, version }, now, policy);
    if (vm !== undefined && !running && isNewCrash(record, vm.record.startedAt)) {
      const error = `the VM (pid ${vm.pid}) exited without ffvm stopping it; see ${context.paths.runDir(site.name)}/qemu.log and serial.log`;
      record = recordCrash(record, now, error, version, policy);
      logCrash(context, site.name, record, now, "now");
    }
    setRecord(state, site.name, record);

    const decision = decideStart(record, now);
    if (decision.kind === "start") continue;
    held.push(site.name);
    if (decision.kind === "wait") {
      context.log.once(`wait:${site.name}:${decision.until.toISOString()}`, "info", `${site.name}: start-vm waits until ${clock(decision.until)} (crash backoff)`);
    }
  }
  return held;
};

/** Counts each failed start or restart of a pinned site as a crash. */
export const recordStartFailures = (context: HealthContext, desired: DesiredState, actual: ActualState, results: readonly ActionResult[], now: Date): void => {
  for (const result of results) {
    const { action } = result;
    if (result.outcome !== "failed" || (action.kind !== "start-vm" && action.kind !== "restart-vm")) continue;
    const site = desired.sites.find((entry) => entry.name === action.site);
    if (site === undefined || !site.pinned) continue;
    const record = recordCrash(context.state.crashes[site.name], now, `${action.kind} failed: ${result.error ?? "unknown error"}`, versionOf(site, actual), context.policy);
    context.state.crashes[site.name] = record;
    logCrash(context, site.name, record, now, "at the next reconcile");
  }
};

/** Returns the earliest time a held site may start, for the retry timer. */
export const nextRetryAt = (state: ServiceState, now: Date): Date | undefined => {
  const times = Object.values(state.crashes)
    .filter((record) => record.gaveUpAt === undefined && record.retryAt !== undefined)
    .map((record) => Date.parse(record.retryAt!))
    .filter((time) => time > now.getTime());
  return times.length === 0 ? undefined : new Date(Math.min(...times));
};

const versionOf = (site: Site, actual: ActualState): SiteVersion => {
  const version: SiteVersion = { settingsHash: site.settingsHash };
  if (actual.image.currentId !== undefined) version.imageId = actual.image.currentId;
  return version;
};

const setRecord = (state: ServiceState, site: string, record: CrashRecord | undefined): void => {
  if (record === undefined) delete state.crashes[site];
  else state.crashes[site] = record;
};

// `immediate` is when a site without backoff delay starts: in the reconcile
// that found the crash ("now"), or in the one after a failed start.
const logCrash = (context: HealthContext, site: string, record: CrashRecord, now: Date, immediate: "now" | "at the next reconcile"): void => {
  const count = record.crashes.length;
  const windowMinutes = Math.round(context.policy.windowMs / 60_000);
  const crashes = `${count} crash${count === 1 ? "" : "es"} within ${windowMinutes} min`;
  if (record.gaveUpAt !== undefined) {
    context.log.error(
      `${site}: ${record.lastError}\n${site}: gave up after ${crashes}; the VM stays stopped. ` +
        `Fix the cause (see ${context.paths.runDir(site)}/qemu.log), then run 'ffvm open ${site}' or change the site in sites.yaml to try again.`,
    );
    return;
  }
  const retryAt = record.retryAt === undefined ? undefined : new Date(record.retryAt);
  const next = retryAt === undefined ? `it starts again ${immediate}` : `next start at ${clock(retryAt)}, in ${Math.ceil((retryAt.getTime() - now.getTime()) / 1000)} s`;
  context.log.warn(`${site}: ${record.lastError}\n${site}: ${crashes}; ${next}`);
};

const clock = (date: Date): string => date.toTimeString().slice(0, 8);
