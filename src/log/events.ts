// Events the engine emits; the command line formats them as text or JSON.

import type { Action } from "../plan/actions.js";

export type ActionOutcome = "done" | "skipped" | "failed";

export interface ActionResult {
  action: Action;
  outcome: ActionOutcome;
  /** The reason the action failed or was skipped. */
  error?: string;
  durationMs: number;
}

export type EngineEvent =
  | { kind: "action-started"; action: Action }
  | { kind: "action-progress"; action: Action; message: string }
  | { kind: "action-finished"; result: ActionResult }
  | { kind: "lock-waiting"; holder: string }
  /** `problem` is set for a problem of sites.yaml, whose message contains its place and "warning:". */
  | { kind: "warning"; message: string; problem?: true };

export type EventListener = (event: EngineEvent) => void;

/** A listener that drops every event, for callers that do not report progress. */
export const ignoreEvents: EventListener = () => {};
