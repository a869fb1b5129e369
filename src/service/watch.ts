// `ffvm watch`: the login-time service. It reconciles at start, after every
// save of sites.yaml or a file it names, on a heal schedule, after a suspend,
// when a crashed site's backoff ends and when a reset falls due. One
// reconcile runs at a time; triggers that come meanwhile are merged into the
// next one. VMs are never stopped when the service stops.

import { join, relative, dirname } from "node:path";
import type { ScheduledTask } from "node-cron";
import type { ReadConfigResult } from "../config/index.js";
import type { DesiredState } from "../config/types.js";
import type { EngineEvent } from "../log/events.js";
import { observe } from "../observe/index.js";
import { chooseStateDir, reconcile, type ReconcileReport } from "../reconcile.js";
import { acquireLock, LockBusyError, type Lock } from "../state/lock.js";
import { ensureStateDirs, statePaths, type StatePaths } from "../state/paths.js";
import type { BackoffPolicy } from "./backoff.js";
import { ConfigTracker } from "./config.js";
import { createDebouncer, type Debouncer } from "./debounce.js";
import { nextRetryAt, recordStartFailures, reviewCrashes, type HealthContext } from "./health.js";
import type { ServiceLog } from "./log.js";
import { finishResets, markResetDue, prepareResets, ResetScheduler } from "./resets.js";
import { scheduleTask, watchClockJumps, type ClockJumpDetector } from "./schedule.js";
import { readServiceState, writeServiceState, type ServiceState } from "./state.js";
import { FileWatcher } from "./watcher.js";

export interface WatchOptions {
  configFile: string;
  /** Overrides stateDir of sites.yaml and the XDG default. */
  stateDir?: string;
  /** Cron expression of the periodic reconcile that restarts dead pinned VMs. */
  healSchedule: string;
  /** Trashed disks older than this are purged, in milliseconds. */
  trashRetentionMs: number;
  /** Restart running VMs whose settings or image changed; otherwise only report them. */
  restartOutdated: boolean;
  backoff: BackoffPolicy;
  /** VMs started or stopped at once. */
  vmConcurrency?: number;
  /** Quiet period after the last file event before a reconcile, in milliseconds. @default 150 */
  debounceMs?: number;
  /** How often the wall clock is checked for a suspend, in milliseconds. @default 5000 */
  clockCheckMs?: number;
  /** A wall-clock jump beyond this counts as a suspend, in milliseconds. @default 30000 */
  clockJumpMs?: number;
}

export type Trigger =
  | { kind: "start" }
  | { kind: "file"; paths: string[] }
  | { kind: "recheck" }
  | { kind: "heal" }
  | { kind: "heal-missed" }
  | { kind: "resume"; gapMs: number }
  | { kind: "retry" }
  | { kind: "reset"; site: string }
  | { kind: "sighup" };

// Triggers after which a reconcile with nothing to do logs nothing, so that
// a heal every few minutes does not fill the journal.
const quietKinds = new Set<Trigger["kind"]>(["heal", "heal-missed", "retry", "recheck"]);

export class WatchService {
  readonly #options: WatchOptions;
  readonly #log: ServiceLog;
  readonly #config: ConfigTracker;
  readonly #watcher: FileWatcher;
  readonly #debouncer: Debouncer<string>;
  readonly #resets: ResetScheduler;
  readonly #abort = new AbortController();
  #healTask: ScheduledTask | undefined;
  #clock: ClockJumpDetector | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  #pending: Trigger[] = [];
  #running: Promise<void> | undefined;
  #stopping = false;
  #exitCode = 0;
  #resolveDone: (() => void) | undefined;
  readonly #done: Promise<void>;

  // Set once the state directory is known, from the first valid sites.yaml.
  #paths: StatePaths | undefined;
  #state: ServiceState | undefined;
  #watchLock: Lock | undefined;
  #catchUpFrom: Date | undefined;

  constructor(options: WatchOptions, log: ServiceLog) {
    this.#options = options;
    this.#log = log;
    this.#config = new ConfigTracker(options.configFile, log);
    this.#watcher = new FileWatcher({
      onChange: (path) => this.#debouncer.push(path),
      onError: (error) => log.error(`file watch failed: ${error.message}; changes are picked up at the next heal`),
    });
    const quietMs = options.debounceMs ?? 150;
    this.#debouncer = createDebouncer<string>({ quietMs, maxWaitMs: quietMs * 10 }, (paths) => this.request({ kind: "file", paths: [...new Set(paths)] }));
    this.#resets = new ResetScheduler((site, slot) => this.#onResetSlot(site, slot));
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Starts watching and scheduling, and reconciles once; returns when the first reconcile is queued. */
  async start(): Promise<void> {
    const options = this.#options;
    this.#log.info(
      `ffvm watch started (pid ${process.pid}): config ${options.configFile}, heal schedule "${options.healSchedule}", ` +
        `outdated VMs are ${options.restartOutdated ? "restarted" : "only reported"}`,
    );
    await this.#watcher.update({ files: [options.configFile], trees: [] });
    this.#healTask = scheduleTask(options.healSchedule, "ffvm-heal", () => this.request({ kind: "heal" }), () => this.request({ kind: "heal-missed" }));
    this.#clock = watchClockJumps(options.clockCheckMs ?? 5000, options.clockJumpMs ?? 30_000, (before, after) => this.#onClockJump(before, after));
    this.request({ kind: "start" });
  }

  /** Resolves once the service has stopped; returns the exit code. */
  async done(): Promise<number> {
    await this.#done;
    return this.#exitCode;
  }

  /** Queues a reconcile; triggers that come while one runs are merged into the next. */
  request(trigger: Trigger): void {
    if (this.#stopping) return;
    this.#pending.push(trigger);
    this.#running ??= this.#drain();
  }

  /**
   * Stops the service: no new reconcile starts, the one in flight is aborted
   * between actions, the lock is released. VMs keep running.
   */
  async stop(reason: string, exitCode = 0): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#exitCode = exitCode;
    this.#log.info(`${reason}: stopping; VMs keep running`);
    this.#abort.abort(new Error(reason));
    this.#debouncer.cancel();
    this.#healTask?.destroy();
    this.#resets.stop();
    this.#clock?.stop();
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    await this.#watcher.close();
    await this.#running;
    if (this.#state !== undefined && this.#paths !== undefined) {
      this.#state.lastSeenAt = new Date().toISOString();
      await writeServiceState(this.#paths, this.#state).catch((error: Error) => this.#log.error(`cannot save ${this.#paths?.root}/service.json: ${error.message}`));
    }
    await this.#watchLock?.release();
    this.#log.info("ffvm watch stopped");
    this.#resolveDone?.();
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0 && !this.#stopping) {
      const triggers = this.#pending;
      this.#pending = [];
      try {
        await this.#cycle(triggers);
      } catch (error) {
        this.#log.error(`${(error as Error).stack ?? String(error)}\nffvm watch continues and tries again at the next change or heal`);
      }
    }
    this.#running = undefined;
  }

  async #cycle(triggers: Trigger[]): Promise<void> {
    const read = await this.#config.read();
    const targetsChanged = read.targets !== undefined && (await this.#watcher.update(read.targets));
    const lastGood = this.#config.lastGood;
    if (read.kind === "invalid") {
      // A file the config names may have appeared while the watch was being
      // moved to it; one more read finds it.
      if (targetsChanged && !triggers.some((trigger) => trigger.kind === "recheck")) this.#pending.push({ kind: "recheck" });
      // An invalid save changes nothing; other triggers go on with the last valid version.
      if (lastGood === undefined || triggers.every((trigger) => trigger.kind === "file" || trigger.kind === "recheck")) return;
    }
    const config = read.kind === "valid" ? read.result : lastGood!;
    if (!(await this.#attach(config.desired))) return;
    if (read.kind === "valid") this.#resets.update(config.desired.sites);
    this.#catchUpResets(config.desired);
    await this.#reconcile(config, triggers);
  }

  // Takes the state directory on first use: its watch lock, so that one
  // ffvm watch runs per state directory, and service.json.
  async #attach(desired: DesiredState): Promise<boolean> {
    const paths = statePaths(chooseStateDir(this.#options.stateDir, desired));
    if (this.#paths !== undefined) {
      if (this.#paths.root !== paths.root) {
        this.#log.once(`state-dir:${paths.root}`, "warn", `stateDir changed to ${paths.root}; ffvm watch keeps using ${this.#paths.root} until it is restarted`);
      }
      return true;
    }
    await ensureStateDirs(paths);
    try {
      this.#watchLock = await acquireLock(join(paths.root, "watch.lock"), { wait: false, command: "ffvm watch" });
    } catch (error) {
      if (!(error instanceof LockBusyError)) throw error;
      this.#log.error(
        `another ffvm watch (pid ${error.holder.pid}) already manages ${paths.root}; stop it first (systemctl --user stop ffvm, or kill ${error.holder.pid})`,
      );
      void this.stop("another ffvm watch is running", 1);
      return false;
    }
    this.#paths = paths;
    this.#state = await readServiceState(paths);
    if (this.#state.lastSeenAt !== undefined) this.#catchUpFrom = new Date(this.#state.lastSeenAt);
    return true;
  }

  async #reconcile(config: ReadConfigResult, triggers: Trigger[]): Promise<void> {
    const paths = this.#paths!;
    const state = this.#state!;
    const { desired } = config;
    const options = this.#options;
    const health: HealthContext = { state, policy: options.backoff, log: this.#log, paths };

    const now = new Date();
    // NOTE: observed before reconcile() takes the lock, so a command that
    // applies meanwhile can make this view one reconcile old. Only the crash
    // review and the reset list read it; the plan observes again under the lock.
    const actual = await observe(paths, desired.image);
    const holdStarts = reviewCrashes(health, desired, actual, now);
    const resetDisks = prepareResets(state, desired, actual, this.#log);

    let announced = false;
    const announce = (): void => {
      if (announced) return;
      announced = true;
      this.#log.info(`reconcile started (${describeTriggers(triggers, options.configFile)})`);
    };
    if (!triggers.every((trigger) => quietKinds.has(trigger.kind))) announce();

    let report: ReconcileReport;
    try {
      report = await reconcile({
        configFile: options.configFile,
        // The directory taken at the first valid read, even if stateDir changed since.
        stateDir: paths.root,
        desired: config,
        wait: true,
        command: "ffvm watch",
        restartOutdated: options.restartOutdated,
        trashRetentionMs: options.trashRetentionMs,
        holdStarts,
        resetDisks,
        vmConcurrency: options.vmConcurrency,
        signal: this.#abort.signal,
        emit: (event: EngineEvent) => {
          // Config warnings are logged by the ConfigTracker, once per change.
          if (event.kind === "warning") return;
          announce();
          this.#log.event(event);
        },
      });
    } catch (error) {
      if (this.#abort.signal.aborted) {
        if (announced) this.#log.info("reconcile cancelled");
        return;
      }
      announce();
      this.#log.error(`reconcile failed: ${(error as Error).message}; ffvm watch tries again at the next change or heal`);
      return;
    }

    if (!this.#abort.signal.aborted) recordStartFailures(health, desired, report.actual, report.results, new Date());
    finishResets(state, report.results, this.#log);
    this.#reportOutcome(report, announce);
    if (report.results.length > 0 || announced) {
      announce();
      this.#log.info(`reconcile finished: ${summarize(report)}`);
    }
    state.lastSeenAt = now.toISOString();
    await writeServiceState(paths, state);
    this.#scheduleRetry(state);
  }

  #reportOutcome(report: ReconcileReport, announce: () => void): void {
    for (const entry of report.plan.outdated) {
      this.#log.once(
        `outdated:${entry.site}:${entry.message}`,
        "info",
        `${entry.site}: outdated (${entry.message}); its VM keeps running, because a restart closes the browser session. ` +
          `Run 'ffvm reconcile' to restart it, or start ffvm watch with --restart-outdated.`,
      );
    }
    if (report.plan.refusal !== undefined) {
      announce();
      this.#log.once(`refusal:${report.plan.refusal.message}`, "error", `plan refused: ${report.plan.refusal.message}`);
    }
    for (const problem of report.actual.problems) this.#log.once(`problem:${problem}`, "warn", problem);
  }

  #scheduleRetry(state: ServiceState): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const at = nextRetryAt(state, new Date());
    if (at === undefined) return;
    // A little late, so that the retry time has passed when the plan is made.
    this.#retryTimer = setTimeout(() => this.request({ kind: "retry" }), Math.max(0, at.getTime() - Date.now()) + 50);
  }

  #onResetSlot(site: string, slot: Date): void {
    if (this.#state === undefined) return;
    if (markResetDue(this.#state, site, slot)) this.request({ kind: "reset", site });
  }

  // Resets whose slot passed while ffvm watch was not running (found through
  // lastSeenAt in service.json) or while the machine slept.
  #catchUpResets(desired: DesiredState): void {
    const from = this.#catchUpFrom;
    if (from === undefined || this.#state === undefined) return;
    this.#catchUpFrom = undefined;
    for (const [site, slot] of this.#resets.slotsBetween(from, new Date())) {
      if (!desired.sites.some((entry) => entry.name === site)) continue;
      if (markResetDue(this.#state, site, slot)) this.#log.info(`${site}: reset of ${slot.toLocaleString()} was missed; it is made up now`);
    }
  }

  #onClockJump(before: Date, after: Date): void {
    const gapMs = after.getTime() - before.getTime();
    this.#log.info(`the wall clock jumped by ${Math.round(gapMs / 1000)} s (suspend and resume, or a clock change); reconciling`);
    this.#catchUpFrom = before;
    this.request({ kind: "resume", gapMs });
  }
}

/** Describes why a reconcile runs, for its start line. */
export const describeTriggers = (triggers: readonly Trigger[], configFile: string): string => {
  const parts = new Set<string>();
  const base = dirname(configFile);
  for (const trigger of triggers) {
    switch (trigger.kind) {
      case "start":
        parts.add("start of ffvm watch");
        break;
      case "file":
        for (const path of trigger.paths) parts.add(`${relative(base, path) || path} changed`);
        break;
      case "recheck":
        parts.add("watched files changed");
        break;
      case "heal":
        parts.add("scheduled heal");
        break;
      case "heal-missed":
        parts.add("heal missed during a suspend");
        break;
      case "resume":
        parts.add(`clock jump of ${Math.round(trigger.gapMs / 1000)} s`);
        break;
      case "retry":
        parts.add("crash backoff ended");
        break;
      case "reset":
        parts.add(`reset of ${trigger.site} due`);
        break;
      case "sighup":
        parts.add("SIGHUP");
        break;
    }
  }
  return [...parts].join(", ");
};

const summarize = (report: ReconcileReport): string => {
  if (report.results.length === 0) return "no changes";
  const count = (outcome: string): number => report.results.filter((result) => result.outcome === outcome).length;
  return `${count("done")} done, ${count("skipped")} skipped, ${count("failed")} failed`;
};
