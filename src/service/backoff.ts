// Crash backoff of pinned sites under `ffvm watch`: when a pinned VM dies or
// fails to start, the next start waits longer each time, and after too many
// crashes within a window the site stays stopped. Pure: the clock is passed in.

export interface BackoffPolicy {
  /** Delay before the start after the second crash, in milliseconds; it doubles with each further crash. */
  firstDelayMs: number;
  /** Upper bound of the delay, in milliseconds. */
  maxDelayMs: number;
  /** Crashes within windowMs after which ffvm watch gives up on the site. */
  maxCrashes: number;
  /** How far back crashes count, in milliseconds. */
  windowMs: number;
}

export const defaultBackoffPolicy: BackoffPolicy = {
  firstDelayMs: 10_000,
  maxDelayMs: 10 * 60_000,
  maxCrashes: 5,
  windowMs: 60 * 60_000,
};

/** The settings and image a crash happened with; a change of either gives the site a fresh start. */
export interface SiteVersion {
  settingsHash: string;
  /** Identity of the image VMs start from now, when known. */
  imageId?: string;
}

/** Crash history of one pinned site, stored as JSON in the state directory. */
export interface CrashRecord {
  /** Times of the crashes within the window, oldest first, as ISO 8601. */
  crashes: string[];
  /** Time of the last crash ever recorded; a dead VM that started before it is not counted again. */
  lastCrashAt: string;
  /** Reason the last start failed, or the way the VM died; no secrets. */
  lastError: string;
  /** The settings and image the crashes happened with. */
  version: SiteVersion;
  /** Earliest time of the next start; absent when the next reconcile may start the site. */
  retryAt?: string;
  /** Set once ffvm watch gave up on the site. */
  gaveUpAt?: string;
}

export type StartDecision =
  | { kind: "start" }
  | { kind: "wait"; until: Date }
  | { kind: "given-up" };

/** Observation of one pinned site by a reconcile. */
export interface SiteObservation {
  running: boolean;
  version: SiteVersion;
}

/**
 * Drops what no longer applies: crashes older than the window, and the whole
 * history once the site's settings or image changed, or once its VM runs again
 * after ffvm watch gave up (someone started it by hand, such as `ffvm open`).
 * Returns undefined when nothing is left to remember.
 */
export const reviewRecord = (record: CrashRecord | undefined, observed: SiteObservation, now: Date, policy: BackoffPolicy): CrashRecord | undefined => {
  if (record === undefined) return undefined;
  const changed = hasVersionChanged(record.version, observed.version);
  if (changed || (record.gaveUpAt !== undefined && observed.running)) return forget(record, observed.version);
  const crashes = record.crashes.filter((time) => now.getTime() - Date.parse(time) < policy.windowMs);
  if (crashes.length === 0 && record.gaveUpAt === undefined) {
    // Kept without crashes only to recognise the dead VM already counted.
    return observed.running ? undefined : forget(record, observed.version);
  }
  return { ...record, crashes };
};

/** Tells whether a dead VM that started at `startedAt` is a crash not yet counted. */
export const isNewCrash = (record: CrashRecord | undefined, startedAt: string): boolean =>
  record === undefined || Date.parse(startedAt) > Date.parse(record.lastCrashAt);

/** Adds a crash at `at` and sets the time of the next start, or gives up. */
export const recordCrash = (
  record: CrashRecord | undefined,
  at: Date,
  error: string,
  version: SiteVersion,
  policy: BackoffPolicy,
): CrashRecord => {
  const recent = (record?.crashes ?? []).filter((time) => at.getTime() - Date.parse(time) < policy.windowMs);
  const crashes = [...recent, at.toISOString()];
  const next: CrashRecord = { crashes, lastCrashAt: at.toISOString(), lastError: error, version };
  if (crashes.length >= policy.maxCrashes) return { ...next, gaveUpAt: at.toISOString() };
  const delay = restartDelayMs(crashes.length, policy);
  if (delay > 0) next.retryAt = new Date(at.getTime() + delay).toISOString();
  return next;
};

/** Returns the delay before the start that follows the n-th crash: none after the first, then doubling. */
export const restartDelayMs = (crashCount: number, policy: BackoffPolicy): number => {
  if (crashCount <= 1) return 0;
  return Math.min(policy.firstDelayMs * 2 ** (crashCount - 2), policy.maxDelayMs);
};

/** Decides whether a pinned site that is not running may start now. */
export const decideStart = (record: CrashRecord | undefined, now: Date): StartDecision => {
  if (record === undefined) return { kind: "start" };
  if (record.gaveUpAt !== undefined) return { kind: "given-up" };
  if (record.retryAt !== undefined && Date.parse(record.retryAt) > now.getTime()) return { kind: "wait", until: new Date(record.retryAt) };
  return { kind: "start" };
};

/** Tells whether a site that is not running counts as failing: given up, or crashed within the window. */
export const isFailing = (record: CrashRecord | undefined): boolean =>
  record !== undefined && (record.gaveUpAt !== undefined || record.crashes.length > 0);

const hasVersionChanged = (before: SiteVersion, now: SiteVersion): boolean =>
  before.settingsHash !== now.settingsHash || (before.imageId !== undefined && now.imageId !== undefined && before.imageId !== now.imageId);

const forget = (record: CrashRecord, version: SiteVersion): CrashRecord => ({
  crashes: [],
  lastCrashAt: record.lastCrashAt,
  lastError: record.lastError,
  version,
});
