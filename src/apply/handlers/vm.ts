import { findRunningVm } from "../../observe/vms.js";
import type { Action } from "../../plan/actions.js";
import { readVmRecords } from "../../state/records.js";
import { launchVm } from "../../vm/launch.js";
import { shutdownVm } from "../../vm/shutdown.js";
import type { ApplyContext } from "../context.js";
import { resolveImageInUse } from "../image.js";

/** start-vm: starts the site's VM unless one already runs. */
export const handleStartVm = async (action: Action, context: ApplyContext): Promise<"done" | "skipped"> => {
  const site = context.site(action.site);
  if (site === undefined) throw new Error(`site ${action.site} is not in sites.yaml`);
  if ((await findRunningVm(context.paths, action.site)) !== undefined) return "skipped";
  const image = await resolveImageInUse(context.desired.image, context.paths);
  const record = await launchVm({
    paths: context.paths,
    site,
    runner: image.runner,
    imageId: image.id,
    readyTimeoutMs: context.options.readyTimeoutMs,
    allowRoot: context.options.allowRoot,
    startUrl: context.options.startUrls?.[action.site],
    onProgress: (message) => context.progress(action, message),
  });
  context.progress(action, `running as pid ${record.pid}`);
  return "done";
};

/** stop-vm: powers the VM off and removes its record. */
export const handleStopVm = async (action: Action, context: ApplyContext): Promise<"done" | "skipped"> => {
  const record = await findRunningVm(context.paths, action.site);
  if (record === undefined) {
    // A dead VM's record and disposable disk go too.
    const stale = (await readVmRecords(context.paths)).records.find((entry) => entry.site === action.site);
    if (stale !== undefined) await shutdownVm({ paths: context.paths, record: stale });
    return "skipped";
  }
  const method = await shutdownVm({
    paths: context.paths,
    record,
    powerdownTimeoutMs: context.options.powerdownTimeoutMs,
    onProgress: (message) => context.progress(action, message),
  });
  context.progress(action, `stopped (${method})`);
  return "done";
};

/** restart-vm: a stop, then a start with the current image and settings. */
export const handleRestartVm = async (action: Action, context: ApplyContext): Promise<"done"> => {
  await handleStopVm(action, context);
  await handleStartVm(action, context);
  return "done";
};
