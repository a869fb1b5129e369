// The closed set of actions a plan holds; dry-run and apply share it.

import type { ReasonCode } from "./reasons.js";

export const actionKinds = [
  "build-image",
  "create-disk",
  "grow-disk",
  "start-vm",
  "restart-vm",
  "stop-vm",
  "trash-disk",
  "purge-trash",
] as const;

export type ActionKind = (typeof actionKinds)[number];

export interface Action {
  /** Position in the plan, from 1; log lines carry it because apply interleaves sites. */
  id: number;
  kind: ActionKind;
  /** The site the action touches; "" for the shared image. */
  site: string;
  reason: ReasonCode;
  /** One line for people, such as "4G" or "memory 2048 → 3072". */
  message: string;
  /** For grow-disk and create-disk: the target size in bytes. */
  bytes?: number;
  /** For purge-trash: the trashed file to delete. */
  file?: string;
}

/** How a plan line is marked, as in terraform plan: + creates, ~ changes, - removes. */
export const actionMark = (kind: ActionKind): "+" | "~" | "-" => {
  switch (kind) {
    case "create-disk":
    case "start-vm":
    case "build-image":
      return "+";
    case "grow-disk":
    case "restart-vm":
      return "~";
    case "stop-vm":
    case "trash-disk":
    case "purge-trash":
      return "-";
  }
};
