// Scheduled disk resets (`reset:` in sites.yaml) under `ffvm watch`. When a
// slot comes, the reset becomes pending. The next reconcile moves the disk to
// trash and creates an empty one. While the VM runs, the reset waits until it
// stops. Each slot resets at most once.

import type { ScheduledTask } from "node-cron";
import type { DesiredState, Site } from "../config/types.js";
import type { ActionResult } from "../log/events.js";
import type { ActualState } from "../observe/types.js";
import type { ServiceLog } from "./log.js";
import { latestSlotBetween, scheduleTask } from "./schedule.js";
import type { ServiceState } from "./state.js";

export class ResetScheduler {
  readonly #tasks = new Map<string, { expression: string; task: ScheduledTask }>();
  readonly #onSlot: (site: string, slot: Date) => void;

  /** `onSlot` is called with the site and the scheduled time when a reset slot comes. */
  constructor(onSlot: (site: string, slot: Date) => void) {
    this.#onSlot = onSlot;
  }

  /** Schedules the resets of `sites`, replacing tasks whose expression changed. */
  update(sites: readonly Site[]): void {
    const wanted = new Map(sites.filter((site) => site.reset !== undefined && !site.ephemeral).map((site) => [site.name, site.reset!]));
    for (const [name, entry] of this.#tasks) {
      if (wanted.get(name) === entry.expression) continue;
      void entry.task.destroy();
      this.#tasks.delete(name);
    }
    for (const [name, expression] of wanted) {
      if (this.#tasks.has(name)) continue;
      // Missed slots are found by the clock-jump scan instead, which checks
      // lastResetSlots for those already reset.
      const task = scheduleTask(expression, `ffvm-reset-${name}`, (slot) => this.#onSlot(name, slot), () => undefined);
      this.#tasks.set(name, { expression, task });
    }
  }

  /** Returns the latest slot of each scheduled site in (from, to]. */
  slotsBetween(from: Date, to: Date): [string, Date][] {
    const found: [string, Date][] = [];
    for (const [name, { expression }] of this.#tasks) {
      const slot = latestSlotBetween(expression, from, to);
      if (slot !== undefined) found.push([name, slot]);
    }
    return found;
  }

  stop(): void {
    for (const { task } of this.#tasks.values()) void task.destroy();
    this.#tasks.clear();
  }
}

/** Marks a reset slot as pending unless that slot, or a later one, was already taken. Returns whether it was new. */
export const markResetDue = (state: ServiceState, site: string, slot: Date): boolean => {
  const last = state.lastResetSlots[site];
  if (last !== undefined && Date.parse(last) >= slot.getTime()) return false;
  state.lastResetSlots[site] = slot.toISOString();
  state.pendingResets[site] = { slot: slot.toISOString() };
  return true;
};

/** Drops resets that can no longer happen and returns the sites whose reset the plan should carry out. */
export const prepareResets = (state: ServiceState, desired: DesiredState, actual: ActualState, log: ServiceLog): string[] => {
  const due: string[] = [];
  for (const [name, pending] of Object.entries(state.pendingResets)) {
    const site = desired.sites.find((entry) => entry.name === name);
    if (site === undefined || site.reset === undefined || site.ephemeral || !actual.disks.has(name)) {
      // Removed, no longer scheduled, or no disk to reset.
      delete state.pendingResets[name];
      continue;
    }
    if (actual.vms.get(name)?.state === "running") {
      log.once(`reset-waits:${name}:${pending.slot}`, "info", `${name}: reset due since ${new Date(pending.slot).toLocaleString()} waits until the VM stops`);
      continue;
    }
    due.push(name);
  }
  for (const name of Object.keys(state.lastResetSlots)) {
    if (!desired.sites.some((site) => site.name === name && site.reset !== undefined)) delete state.lastResetSlots[name];
  }
  return due;
};

/** Clears the pending resets that the reconcile carried out. */
export const finishResets = (state: ServiceState, results: readonly ActionResult[], log: ServiceLog): void => {
  for (const result of results) {
    if (result.action.kind !== "create-disk" || result.action.reason !== "ResetDue" || result.outcome !== "done") continue;
    delete state.pendingResets[result.action.site];
    log.info(`${result.action.site}: disk reset; the old disk is in the trash`);
  }
};
