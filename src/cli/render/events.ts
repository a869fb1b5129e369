// Prints engine events as they happen: one plain line per event, site first.

import type { EngineEvent } from "../../log/events.js";
import { escapeControl } from "../../util/command-error.js";
import { forStderr, paint, type Output } from "../output.js";
import { formatResult } from "./plan.js";

export const printEvent = (stdoutOutput: Output, event: EngineEvent): void => {
  const output = forStderr(stdoutOutput);
  switch (event.kind) {
    case "action-started":
      output.err(paint(output, "dim", `… ${event.action.site === "" ? "(image)" : event.action.site} ${event.action.kind} started`));
      return;
    case "action-progress":
      output.err(paint(output, "dim", `  ${event.action.site === "" ? "(image)" : event.action.site} ${event.action.kind}: ${escapeControl(event.message)}`));
      return;
    case "action-finished":
      output.err(formatResult(output, event.result));
      return;
    case "lock-waiting":
      output.err(`waiting for the state directory lock held by ${event.holder}`);
      return;
    case "warning":
      output.err(paint(output, "yellow", event.problem === true ? event.message : `warning: ${event.message}`));
      return;
  }
};
