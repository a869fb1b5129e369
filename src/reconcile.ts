// reconcile(): read sites.yaml, observe, plan, and apply unless it is a dry run.

import { hostname } from "node:os";
import { formatProblem, readDesiredState, type ConfigProblem, type ReadConfigResult } from "./config/index.js";
import type { DesiredState } from "./config/types.js";
import type { ApplyOptions } from "./apply/index.js";
import { ignoreEvents, type ActionResult, type EventListener } from "./log/events.js";
import { observe } from "./observe/index.js";
import type { ActualState } from "./observe/types.js";
import { plan, type ActionKind, type Plan, type PlanOptions } from "./plan/index.js";
import { removeLeftovers } from "./state/leftovers.js";
import { acquireLock } from "./state/lock.js";
import { defaultStateDir, ensureStateDirs, statePaths, type StatePaths } from "./state/paths.js";

export interface ReconcileOptions extends ApplyOptions, Omit<PlanOptions, "now"> {
  configFile: string;
  /** Overrides stateDir of sites.yaml and the XDG default. */
  stateDir?: string;
  dryRun?: boolean;
  /** Wait for another applier to release the lock instead of failing. @default true */
  wait?: boolean;
  /** Name of the command, stored in the lock so a waiting process can name the holder. */
  command?: string;
  /** Carry out only the actions of this site (and an image build it needs). */
  onlySite?: string;
  /** With onlySite: carry out only these kinds of action. */
  onlyKinds?: readonly ActionKind[];
  emit?: EventListener;
  now?: () => Date;
  /** sites.yaml as already read and validated; configFile is then not read again. */
  desired?: ReadConfigResult;
}

export interface ReconcileReport {
  stateDir: string;
  desired: DesiredState;
  actual: ActualState;
  plan: Plan;
  /** One per applied action; empty for a dry run. */
  results: ActionResult[];
  warnings: ConfigProblem[];
}

/** Returns the state directory: --state-dir, then stateDir in sites.yaml, then $XDG_STATE_HOME/ffvm. */
export const chooseStateDir = (override: string | undefined, desired: DesiredState): string =>
  override ?? desired.stateDir ?? defaultStateDir();

export const reconcile = async (options: ReconcileOptions): Promise<ReconcileReport> => {
  const emit = options.emit ?? ignoreEvents;
  options = { ...options, allowRoot: options.allowRoot ?? process.env.FFVM_ALLOW_ROOT === "1", hostname: options.hostname ?? hostname() };
  const now = options.now ?? (() => new Date());
  const { desired, warnings } = options.desired ?? (await readDesiredState(options.configFile));
  for (const warning of warnings) emit({ kind: "warning", message: formatProblem(warning), problem: true });
  const stateDir = chooseStateDir(options.stateDir, desired);
  const paths = statePaths(stateDir);
  const planOptions = (): PlanOptions => ({ ...options, now: now() });
  // A plan scoped to one site prunes nothing, so the prune guard does not apply.
  const force = options.force === true || options.onlySite !== undefined;
  const makePlan = (actual: ActualState, extra: Partial<PlanOptions> = {}): Plan =>
    scopePlan(plan(desired, actual, { ...planOptions(), force, ...extra }), options.onlySite, options.onlyKinds);

  if (options.dryRun === true) {
    const actual = await observe(paths, desired.image);
    return { stateDir, desired, actual, plan: makePlan(actual), results: [], warnings };
  }

  await ensureStateDirs(paths);
  const lock = await acquireLock(paths.lock, {
    wait: options.wait ?? true,
    command: options.command ?? "ffvm reconcile",
    onWait: (holder) => emit({ kind: "lock-waiting", holder: `pid ${holder.pid} (${holder.command})` }),
    signal: options.signal,
  });
  try {
    return await applyRounds(paths, desired, makePlan, options, emit, stateDir, warnings);
  } finally {
    await lock.release();
  }
};

// A new image is known only after its build, so VMs outdated by it show up
// in a second round of observe and plan.
const applyRounds = async (
  paths: StatePaths,
  desired: DesiredState,
  makePlan: (actual: ActualState, extra?: Partial<PlanOptions>) => Plan,
  options: ReconcileOptions,
  emit: EventListener,
  stateDir: string,
  warnings: ConfigProblem[],
): Promise<ReconcileReport> => {
  // What an interrupted apply left (temporary files, half-made disks) goes
  // first, so that observe does not take it for state.
  for (const file of await removeLeftovers(paths)) emit({ kind: "warning", message: `removed ${file}, left by an interrupted apply` });
  let actual = await observe(paths, desired.image);
  const firstPlan = makePlan(actual);
  const results = firstPlan.refusal === undefined ? await applyActions(firstPlan.actions, paths, desired, emit, options) : [];
  const built = results.some((result) => result.action.kind === "build-image" && result.outcome === "done");
  if (!built) return { stateDir, desired, actual, plan: firstPlan, results, warnings };

  actual = await observe(paths, desired.image);
  const secondPlan = makePlan(actual, { start: [], stop: [] });
  const offset = firstPlan.actions.length;
  const renumbered = secondPlan.actions.map((action) => ({ ...action, id: action.id + offset }));
  const more = await applyActions(renumbered, paths, desired, emit, options);
  const merged: Plan = { actions: [...firstPlan.actions, ...renumbered], outdated: secondPlan.outdated };
  if (firstPlan.elsewhere !== undefined) merged.elsewhere = firstPlan.elsewhere;
  return { stateDir, desired, actual, plan: merged, results: [...results, ...more], warnings };
};

// Keeps the actions of one site and the image build they may need.
const scopePlan = (full: Plan, site: string | undefined, kinds: readonly ActionKind[] | undefined): Plan => {
  if (site === undefined) return full;
  const actions = full.actions.filter(
    (action) => (action.site === site || action.kind === "build-image") && (kinds === undefined || kinds.includes(action.kind)),
  );
  const outdated = full.outdated.filter((entry) => entry.site === site);
  return { actions: actions.map((action, index) => ({ ...action, id: index + 1 })), outdated };
};

// Loads the apply code (execa, p-queue, QEMU handling) only when there is
// something to do, so a no-op reconcile starts faster.
const applyActions = async (...args: Parameters<typeof import("./apply/index.js").apply>): Promise<ActionResult[]> => {
  if (args[0].length === 0) return [];
  const { apply } = await import("./apply/index.js");
  return apply(...args);
};
