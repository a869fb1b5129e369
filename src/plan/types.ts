// Inputs and output of plan().

import type { Action, ActionKind } from "./actions.js";
import type { ReasonCode } from "./reasons.js";

export interface PlanOptions {
  /** The clock, passed in so plan() stays pure. */
  now: Date;
  /** Allow pruning more than half of the disks at once. */
  force?: boolean;
  /** Restart running VMs whose image or settings changed; otherwise only report them. @default true */
  restartOutdated?: boolean;
  /** Sites to start even though they are not pinned (`ffvm open`). */
  start?: readonly string[];
  /** Sites to stop (`ffvm stop`). */
  stop?: readonly string[];
  /** Trashed disks older than this are purged, in milliseconds. @default 7 days */
  trashRetentionMs?: number;
  /** Sites not to start now even though pinned or requested, such as a site in crash backoff under `ffvm watch`. */
  holdStarts?: readonly string[];
  /** Sites whose disk moves to trash and is replaced by an empty one, when their VM is not running (a scheduled reset). */
  resetDisks?: readonly string[];
  /** Host name of this machine, compared with each site's hosts:; undefined runs every site here. */
  hostname?: string;
}

/** A site listed for other machines only that still has a disk here, which stays. */
export interface Elsewhere {
  site: string;
  hosts: string[];
  /** Virtual size of the disk kept here, in bytes. */
  diskBytes: number;
}

/** A running VM whose image or settings changed, left running. */
export interface Outdated {
  site: string;
  reasons: ReasonCode[];
  message: string;
}

/** The reason a plan was refused as a whole. */
export interface Refusal {
  reason: "PruneGuard";
  message: string;
  /** The actions the refused plan held, none of which is applied; shown so a person can see what sites.yaml would remove. */
  actions?: Action[];
}

export type PlannedAction = Omit<Action, "id">;

export interface Plan {
  actions: Action[];
  outdated: Outdated[];
  refusal?: Refusal;
  /** Sites listed for other machines whose disks stay here; absent when there are none. */
  elsewhere?: Elsewhere[];
}

export const defaultTrashRetentionMs = 7 * 24 * 60 * 60 * 1000;

export type { Action, ActionKind };
