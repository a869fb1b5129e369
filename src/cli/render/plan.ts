// Renders a plan the way terraform plan does: one line per action with a
// +/~/- mark, the site, the action, the reason, then a summary line.

import { actionMark, reasons, type Action, type Plan } from "../../plan/index.js";
import type { ActionResult } from "../../log/events.js";
import { formatSize } from "../../config/size.js";
import { escapeControl } from "../../util/command-error.js";
import { paint, type Output } from "../output.js";

const markColor = { "+": "green", "~": "yellow", "-": "red" } as const;

/** Formats one action as `+ site kind Reason message`. */
export const formatAction = (output: Output, action: Action, siteWidth: number): string => {
  const mark = actionMark(action.kind);
  const site = (action.site === "" ? "(image)" : action.site).padEnd(siteWidth);
  const message = action.message === "" ? "" : `  ${escapeControl(action.message)}`;
  return `  ${paint(output, markColor[mark], mark)} ${site}  ${action.kind.padEnd(12)} ${paint(output, "dim", action.reason.padEnd(16))}${message}`;
};

export const renderPlan = (output: Output, plan: Plan, header: string): string[] => {
  const lines: string[] = [header];
  if (plan.refusal !== undefined) {
    const refused = plan.refusal.actions ?? [];
    const width = Math.max(7, ...refused.map((action) => action.site.length));
    if (refused.length > 0) lines.push("The refused plan, of which nothing was done:");
    for (const action of refused) lines.push(formatAction(output, action, width));
    lines.push(paint(output, "red", `Plan refused: ${plan.refusal.message}`));
    return lines;
  }
  const siteWidth = Math.max(7, ...plan.actions.map((action) => action.site.length));
  for (const action of plan.actions) lines.push(formatAction(output, action, siteWidth));
  for (const entry of plan.outdated) {
    lines.push(`  ${paint(output, "yellow", "!")} ${entry.site.padEnd(siteWidth)}  outdated     ${paint(output, "dim", entry.reasons.join(","))}  ${escapeControl(entry.message)}; ffvm reconcile restarts it`);
  }
  lines.push(summarize(plan));
  lines.push(...renderElsewhere(output, plan));
  return lines;
};

/** Notes the disks kept here for sites that sites.yaml lists for other machines only. */
export const renderElsewhere = (output: Output, plan: Plan): string[] =>
  (plan.elsewhere ?? []).map(
    (entry) => `${paint(output, "cyan", "kept:")} ${entry.site}'s ${formatSize(entry.diskBytes)} disk stays here; the site runs on ${entry.hosts.join(", ")} only`,
  );

const summarize = (plan: Plan): string => {
  if (plan.actions.length === 0) return "No changes: the VMs match sites.yaml.";
  const count = { "+": 0, "~": 0, "-": 0 };
  for (const action of plan.actions) count[actionMark(action.kind)]++;
  return `Plan: ${count["+"]} to add, ${count["~"]} to change, ${count["-"]} to remove.`;
};

/** Formats one finished action for the apply log: subject first, then outcome. */
export const formatResult = (output: Output, result: ActionResult): string => {
  const { action } = result;
  const subject = `${action.site === "" ? "(image)" : action.site} ${action.kind} ${action.reason}`;
  const seconds = `${(result.durationMs / 1000).toFixed(1)} s`;
  if (result.outcome === "failed") {
    return `${paint(output, "red", "✗")} ${subject} failed after ${seconds}: ${result.error ?? "unknown error"}`;
  }
  if (result.outcome === "skipped") return `${paint(output, "dim", "-")} ${subject} skipped${result.error === undefined ? "" : `: ${result.error}`}`;
  return `${paint(output, "green", "✓")} ${subject} done in ${seconds}`;
};

/** Describes a reason code for people. */
export const describeReason = (code: keyof typeof reasons): string => reasons[code];
