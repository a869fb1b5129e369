// ffvm reconcile: make the VMs match sites.yaml, or show the plan with --dry-run.

import { relative } from "node:path";
import { reconcile, type ReconcileReport } from "../../reconcile.js";
import { exitCodes } from "../exit.js";
import type { Output } from "../output.js";
import { renderElsewhere, renderPlan } from "../render/plan.js";
import { createEventView } from "../render/progress.js";

export interface ReconcileCommandOptions {
  configFile: string;
  stateDir?: string;
  dryRun: boolean;
  json: boolean;
  force: boolean;
  detailedExitCode: boolean;
  wait: boolean;
  restartOutdated: boolean;
  vmConcurrency?: number;
  /** How long a guest may take to power off before QMP quit, in milliseconds. */
  powerdownTimeoutMs?: number;
}

export const jsonFormatVersion = 1;

/** Runs a reconcile and returns the exit code. */
export const runReconcile = async (options: ReconcileCommandOptions, output: Output): Promise<number> => {
  const view = options.json ? undefined : createEventView(output);
  let report: ReconcileReport;
  try {
    report = await reconcile({
      configFile: options.configFile,
      stateDir: options.stateDir,
      dryRun: options.dryRun,
      force: options.force,
      wait: options.wait,
      restartOutdated: options.restartOutdated,
      vmConcurrency: options.vmConcurrency,
      powerdownTimeoutMs: options.powerdownTimeoutMs,
      command: "ffvm reconcile",
      emit: view?.emit,
    });
  } finally {
    view?.close();
  }
  if (options.json) output.out(JSON.stringify(toJson(report), null, 2));
  else printReport(output, report, options.dryRun);
  return exitCodeOf(report, options.detailedExitCode);
};

const printReport = (output: Output, report: ReconcileReport, dryRun: boolean): void => {
  const where = `${relative(process.cwd(), report.desired.configFile) || report.desired.configFile} (state ${report.stateDir})`;
  if (dryRun) {
    for (const line of renderPlan(output, report.plan, `ffvm plan for ${where}`)) output.out(line);
    return;
  }
  if (report.plan.refusal !== undefined) {
    for (const line of renderPlan(output, report.plan, `ffvm reconcile of ${where}`)) output.out(line);
    return;
  }
  const failed = report.results.filter((result) => result.outcome === "failed").length;
  const done = report.results.filter((result) => result.outcome === "done").length;
  const skipped = report.results.filter((result) => result.outcome === "skipped").length;
  if (report.results.length === 0) output.out("No changes: the VMs match sites.yaml.");
  else output.out(`Applied: ${done} done, ${skipped} skipped, ${failed} failed.`);
  for (const entry of report.plan.outdated) output.out(`outdated: ${entry.site} (${entry.message})`);
  for (const line of renderElsewhere(output, report.plan)) output.out(line);
};

const exitCodeOf = (report: ReconcileReport, detailed: boolean): number => {
  if (report.plan.refusal !== undefined) return exitCodes.error;
  if (report.results.some((result) => result.outcome === "failed")) return exitCodes.error;
  if (detailed && report.plan.actions.length > 0) return exitCodes.changes;
  return exitCodes.ok;
};

const toJson = (report: ReconcileReport) => ({
  formatVersion: jsonFormatVersion,
  configFile: report.desired.configFile,
  stateDir: report.stateDir,
  refusal: report.plan.refusal ?? null,
  actions: report.plan.actions,
  outdated: report.plan.outdated,
  elsewhere: report.plan.elsewhere ?? [],
  results: report.results.map((result) => ({
    id: result.action.id,
    site: result.action.site,
    kind: result.action.kind,
    outcome: result.outcome,
    error: result.error ?? null,
    durationMs: Math.round(result.durationMs),
  })),
  warnings: report.warnings,
});
