// State of `ffvm watch` kept between reconciles and restarts: the crash
// history of pinned sites and the resets waiting for a VM to stop. It is
// service.json in the state directory, which `ffvm status` also reads.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "../state/atomic.js";
import type { StatePaths } from "../state/paths.js";
import type { SiteFailure } from "../state/status.js";
import { isFailing, type CrashRecord } from "./backoff.js";

export const serviceStateVersion = 1;

export interface PendingReset {
  /** The scheduled time the reset belongs to, as ISO 8601. */
  slot: string;
}

export interface ServiceState {
  version: number;
  /** When ffvm watch last ran, as ISO 8601; resets scheduled after it and missed are made up at the next start. */
  lastSeenAt?: string;
  /** Crash history of pinned sites, by site name. */
  crashes: Record<string, CrashRecord>;
  /** Resets that fell due and wait for the site's VM to stop, by site name. */
  pendingResets: Record<string, PendingReset>;
  /** The last scheduled time each site was reset for, by site name, so that no slot resets twice. */
  lastResetSlots: Record<string, string>;
}

export const serviceStateFile = (paths: StatePaths): string => join(paths.root, "service.json");

export const emptyServiceState = (): ServiceState => ({ version: serviceStateVersion, crashes: {}, pendingResets: {}, lastResetSlots: {} });

/** Reads service.json; a missing or unreadable file reads as an empty state, because it only tunes retries. */
export const readServiceState = async (paths: StatePaths): Promise<ServiceState> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(serviceStateFile(paths), "utf8"));
  } catch {
    return emptyServiceState();
  }
  if (typeof parsed !== "object" || parsed === null) return emptyServiceState();
  const raw = parsed as Partial<ServiceState>;
  const state = emptyServiceState();
  if (typeof raw.lastSeenAt === "string") state.lastSeenAt = raw.lastSeenAt;
  for (const [site, record] of Object.entries(asRecord(raw.crashes))) {
    if (isCrashRecord(record)) state.crashes[site] = record;
  }
  for (const [site, reset] of Object.entries(asRecord(raw.pendingResets))) {
    const slot = (reset as Partial<PendingReset> | null)?.slot;
    if (typeof slot === "string") state.pendingResets[site] = { slot };
  }
  for (const [site, slot] of Object.entries(asRecord(raw.lastResetSlots))) {
    if (typeof slot === "string") state.lastResetSlots[site] = slot;
  }
  return state;
};

export const writeServiceState = (paths: StatePaths, state: ServiceState): Promise<void> => writeJsonAtomic(serviceStateFile(paths), state);

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

const isCrashRecord = (value: unknown): value is CrashRecord => {
  const record = value as Partial<CrashRecord> | null;
  return (
    typeof record === "object" &&
    record !== null &&
    Array.isArray(record.crashes) &&
    record.crashes.every((time) => typeof time === "string") &&
    typeof record.lastCrashAt === "string" &&
    typeof record.lastError === "string" &&
    typeof record.version?.settingsHash === "string"
  );
};

/** Returns the pinned sites in crash backoff, as `ffvm status` shows them. */
export const readSiteFailures = async (paths: StatePaths): Promise<Map<string, SiteFailure>> => {
  const state = await readServiceState(paths);
  const failures = new Map<string, SiteFailure>();
  for (const [site, record] of Object.entries(state.crashes)) {
    if (!isFailing(record)) continue;
    failures.set(site, {
      crashes: record.crashes.length,
      gaveUp: record.gaveUpAt !== undefined,
      retryAt: record.gaveUpAt === undefined ? (record.retryAt ?? null) : null,
      lastError: record.lastError,
    });
  }
  return failures;
};
