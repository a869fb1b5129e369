// apply(): carries out a plan. The image builds alone; sites run in parallel
// up to a limit, each site's actions in plan order. One site's failure never
// stops another's actions.

import PQueue from "p-queue";
import type { DesiredState } from "../config/types.js";
import type { ActionResult, EventListener } from "../log/events.js";
import type { Action } from "../plan/actions.js";
import type { StatePaths } from "../state/paths.js";
import type { ApplyContext, ApplyOptions } from "./context.js";
import { handleCreateDisk, handleGrowDisk, handlePurgeTrash, handleTrashDisk } from "./handlers/disk.js";
import { handleBuildImage } from "./handlers/image.js";
import { handleRestartVm, handleStartVm, handleStopVm } from "./handlers/vm.js";

export type { ApplyOptions } from "./context.js";

export const apply = async (
  actions: readonly Action[],
  paths: StatePaths,
  desired: DesiredState,
  emit: EventListener,
  options: ApplyOptions = {},
): Promise<ActionResult[]> => {
  const sites = new Map(desired.sites.map((site) => [site.name, site]));
  const context: ApplyContext = {
    paths,
    desired,
    options,
    emit,
    site: (name) => sites.get(name),
    progress: (action, message) => emit({ kind: "action-progress", action, message }),
  };
  const results: ActionResult[] = [];

  // The image first: starts wait for it, and it runs alone.
  for (const action of actions.filter((entry) => entry.kind === "build-image")) {
    results.push(await runAction(action, context));
  }

  // Then each site's actions in order, sites side by side.
  const queue = new PQueue({ concurrency: options.vmConcurrency ?? 2 });
  const chains = groupBySite(actions.filter((entry) => entry.kind !== "build-image"));
  await Promise.all(
    [...chains.values()].map((chain) =>
      queue.add(async () => {
        let failed = false;
        for (const action of chain) {
          if (failed) {
            results.push(skip(action, context, "an earlier action of this site failed"));
            continue;
          }
          const result = await runAction(action, context);
          results.push(result);
          failed = result.outcome === "failed";
        }
      }),
    ),
  );
  return results.sort((a, b) => a.action.id - b.action.id);
};

const groupBySite = (actions: readonly Action[]): Map<string, Action[]> => {
  const chains = new Map<string, Action[]>();
  for (const action of actions) {
    const chain = chains.get(action.site) ?? [];
    chain.push(action);
    chains.set(action.site, chain);
  }
  return chains;
};

const runAction = async (action: Action, context: ApplyContext): Promise<ActionResult> => {
  const started = performance.now();
  context.emit({ kind: "action-started", action });
  let result: ActionResult;
  try {
    if (context.options.signal?.aborted) throw new Error("cancelled before it started");
    const outcome = (await dispatch(action, context)) ?? "done";
    result = { action, outcome, durationMs: performance.now() - started };
  } catch (error) {
    result = { action, outcome: "failed", error: describeActionError(error), durationMs: performance.now() - started };
  }
  context.emit({ kind: "action-finished", result });
  return result;
};

// Node's message for a full file system names no file and no fix.
const describeActionError = (error: unknown): string => {
  const { message } = error as Error;
  const code = (error as NodeJS.ErrnoException).code;
  if ((code === "ENOSPC" || code === "EDQUOT") && !message.includes("file system is full")) {
    return `${message}; the file system is full (${code}); free space on it and run ffvm again`;
  }
  return message;
};

const skip = (action: Action, context: ApplyContext, why: string): ActionResult => {
  const result: ActionResult = { action, outcome: "skipped", error: why, durationMs: 0 };
  context.emit({ kind: "action-finished", result });
  return result;
};

const dispatch = (action: Action, context: ApplyContext): Promise<"done" | "skipped" | void> => {
  switch (action.kind) {
    case "build-image":
      return handleBuildImage(action, context);
    case "create-disk":
      return handleCreateDisk(action, context);
    case "grow-disk":
      return handleGrowDisk(action, context);
    case "start-vm":
      return handleStartVm(action, context);
    case "restart-vm":
      return handleRestartVm(action, context);
    case "stop-vm":
      return handleStopVm(action, context);
    case "trash-disk":
      return handleTrashDisk(action, context);
    case "purge-trash":
      return handlePurgeTrash(action);
  }
};
