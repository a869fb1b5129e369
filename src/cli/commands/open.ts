// ffvm open SITE|URL: start a site's VM, or open a link in the VM of the site
// it belongs to (src/links/match.ts), or in a disposable VM when it belongs to
// none. A running VM gets the link through its open port; a stopped one
// starts with the link as its first page.

import { hostname } from "node:os";
import { readDesiredState, type ReadConfigResult } from "../../config/index.js";
import type { Site } from "../../config/types.js";
import { buildDisposableSite, reserveDisposableName } from "../../links/disposable.js";
import { InvalidLinkError, parseLink, routeLink } from "../../links/match.js";
import { findRunningVm } from "../../observe/vms.js";
import { runsOnHost, splitByHost } from "../../plan/rules/hosts.js";
import { runFilesIn } from "../../qemu/args.js";
import { chooseStateDir, reconcile, type ReconcileReport } from "../../reconcile.js";
import { ensureStateDirs, statePaths, type StatePaths } from "../../state/paths.js";
import { OpenUrlError, sendUrl } from "../../vm/open-url.js";
import { ExitError, exitCodes, UsageError } from "../exit.js";
import type { Output } from "../output.js";
import { createEventView } from "../render/progress.js";

export interface OpenCommandOptions {
  configFile: string;
  stateDir?: string;
  /** A site name, or a URL with its scheme. */
  target: string;
  wait: boolean;
  /** Host name compared with hosts: of each site. @default os.hostname() */
  hostname?: string;
  /** How long a running guest may take to read a link, in milliseconds. */
  openTimeoutMs?: number;
}

interface OpenContext {
  options: OpenCommandOptions;
  config: ReadConfigResult;
  paths: StatePaths;
  hostname: string;
  output: Output;
}

/** Runs ffvm open and returns the exit code. */
export const runOpen = async (options: OpenCommandOptions, output: Output): Promise<number> => {
  const config = await readDesiredState(options.configFile);
  const context: OpenContext = {
    options,
    config,
    paths: statePaths(chooseStateDir(options.stateDir, config.desired)),
    hostname: options.hostname ?? hostname(),
    output,
  };
  const site = config.desired.sites.find((entry) => entry.name === options.target);
  if (site !== undefined) return openSite(context, site, undefined);
  if (!options.target.includes("://")) {
    const names = config.desired.sites.map((entry) => entry.name).join(", ");
    throw new UsageError(
      `${JSON.stringify(options.target)} is neither a site in ${options.configFile} nor a URL; sites: ${names || "(none)"}. To open a link, give its scheme, such as https://${options.target}`,
    );
  }
  let link: URL;
  try {
    link = parseLink(options.target);
  } catch (error) {
    if (error instanceof InvalidLinkError) throw new UsageError(error.message);
    throw error;
  }
  return openLink(context, link);
};

const openLink = async (context: OpenContext, link: URL): Promise<number> => {
  const { desired } = context.config;
  const { here } = splitByHost(desired.sites, context.hostname);
  const target = routeLink(link, here);
  if (target.kind === "site") {
    const site = here.find((entry) => entry.name === target.site)!;
    return openSite(context, site, link);
  }
  const elsewhere = routeLink(link, desired.sites);
  if (elsewhere.kind === "site") {
    const hosts = desired.sites.find((entry) => entry.name === elsewhere.site)?.hosts ?? [];
    context.output.err(`${link.host} belongs to ${elsewhere.site}, which runs on ${hosts.join(", ")} only; opening it in a disposable VM`);
  }
  return openDisposable(context, link);
};

const openSite = async (context: OpenContext, site: Site, link: URL | undefined): Promise<number> => {
  const { output, paths } = context;
  if (!runsOnHost(site, context.hostname)) {
    throw new UsageError(`site ${site.name} runs on ${(site.hosts ?? []).join(", ")} only, and this machine is ${context.hostname}; add ${context.hostname} to sites.${site.name}.hosts to run it here`);
  }
  if (link !== undefined && (await findRunningVm(paths, site.name)) !== undefined) {
    await sendToRunningVm(context, site.name, link);
    return exitCodes.ok;
  }

  const report = await startVm(context, {
    site: site.name,
    desired: context.config,
    kinds: ["build-image", "create-disk", "grow-disk", "start-vm"],
    ...(link === undefined ? {} : { startUrl: link.href }),
  });
  if (report.results.some((result) => result.outcome === "failed")) return exitCodes.error;
  const start = report.results.find((result) => result.action.kind === "start-vm");
  if (start?.outcome === "done") {
    output.out(link === undefined ? `started ${site.name}` : `started ${site.name} on ${link.href}`);
    return exitCodes.ok;
  }
  // The VM was already running, or another ffvm started it meanwhile.
  if (link === undefined) {
    output.out(`${site.name} is already running`);
    return exitCodes.ok;
  }
  await sendToRunningVm(context, site.name, link);
  return exitCodes.ok;
};

const openDisposable = async (context: OpenContext, link: URL): Promise<number> => {
  const { desired, warnings } = context.config;
  await ensureStateDirs(context.paths);
  const reservation = await reserveDisposableName(context.paths);
  try {
    const site = buildDisposableSite(reservation.name, link, desired);
    const report = await startVm(context, {
      site: site.name,
      desired: { desired: { ...desired, sites: [...desired.sites, site] }, warnings },
      kinds: ["build-image", "start-vm"],
    });
    if (report.results.some((result) => result.outcome === "failed")) return exitCodes.error;
    context.output.out(`started ${site.name} on ${link.href}; its disk is thrown away when the VM stops`);
    return exitCodes.ok;
  } finally {
    await reservation.release();
  }
};

const startVm = async (
  context: OpenContext,
  request: { site: string; desired: ReadConfigResult; kinds: ("build-image" | "create-disk" | "grow-disk" | "start-vm")[]; startUrl?: string },
): Promise<ReconcileReport> => {
  const view = createEventView(context.output);
  try {
    return await reconcile({
      configFile: context.options.configFile,
      stateDir: context.options.stateDir,
      desired: request.desired,
      wait: context.options.wait,
      onlySite: request.site,
      onlyKinds: request.kinds,
      start: [request.site],
      restartOutdated: false,
      hostname: context.hostname,
      ...(request.startUrl === undefined ? {} : { startUrls: { [request.site]: request.startUrl } }),
      command: `ffvm open ${request.site}`,
      emit: view.emit,
    });
  } finally {
    view.close();
  }
};

const sendToRunningVm = async (context: OpenContext, site: string, link: URL): Promise<void> => {
  const socket = runFilesIn(context.paths.runDir(site)).openSocket;
  try {
    await sendUrl(socket, link, context.options.openTimeoutMs);
  } catch (error) {
    if (!(error instanceof OpenUrlError)) throw error;
    context.output.err(`ffvm: cannot open ${link.href} in ${site}: ${error.message}`);
    throw new ExitError(exitCodes.error, error.message);
  }
  // QEMU also closes the connection when it exits, which looks the same as a delivery.
  if ((await findRunningVm(context.paths, site)) === undefined) {
    context.output.err(`ffvm: the VM of ${site} stopped while ${link.href} was being sent; run ffvm open again`);
    throw new ExitError(exitCodes.error, "VM stopped");
  }
  context.output.out(`opened ${link.href} in ${site}`);
};
