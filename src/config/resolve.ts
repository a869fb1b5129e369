// Turns validated sites.yaml data into the desired state: defaults merged,
// sizes parsed, paths resolved, and the rules between fields checked.
// checkReferences also runs on data that failed the schema, so that one run
// reports every problem of the file.

import { readFileSync, statSync } from "node:fs";
import { formatKeyPath, showValue, type ConfigProblem } from "./errors.js";
import { locate, type LoadedConfig } from "./load.js";
import { resolveConfigPath } from "./paths.js";
import { describeSizeProblem, parseSize } from "./size.js";
import { describeUrlProblem, suggestUrlFix } from "./url.js";
import type { Addon, DesiredState, ImageSource, Site, Vpn } from "./types.js";
import { checkSharedPatterns, checkSiteLinks, hostsOf, matchPatternsOf, toSiteSettings } from "./links.js";
import { createSha256 } from "../util/sha256.js";

/** Built-in settings, used where neither the site nor `defaults:` sets a value. */
export const builtinDefaults = { memory: 2048, cpus: 2, disk: "4G", pinned: false, ephemeral: false, audio: false };

/** Flake attribute built when `image:` names a flake without one. */
export const defaultImageAttribute = "vm";

interface RawSettings {
  memory?: number;
  cpus?: number;
  disk?: string;
  pinned?: boolean;
  ephemeral?: boolean;
  addons?: string[];
  style?: string;
  color?: string;
  audio?: boolean;
  vpn?: string;
  reset?: string;
}

interface RawConfig {
  defaults?: RawSettings;
  sites: Record<string, RawSettings & { url: string }>;
  vpns?: Record<string, { wireguard: string }>;
  image?: { flake?: string; attribute?: string; runner?: string };
  stateDir?: string;
}

export interface ResolveResult {
  desired?: DesiredState;
  problems: ConfigProblem[];
}

/** Resolves schema-valid data; returns problems instead of a state when fields disagree. */
export const resolveConfig = (config: LoadedConfig): ResolveResult => {
  const problems = checkReferences(config);
  if (problems.some((problem) => problem.severity === "error")) return { problems };

  const raw = config.data as RawConfig;
  const vpns = new Map(Object.entries(raw.vpns ?? {}).map(([name, entry]): [string, Vpn] => [name, { name, wireguard: resolveConfigPath(config.file, entry.wireguard) }]));
  const defaults = { ...builtinDefaults, ...raw.defaults };
  // Sorted by name, with a native sort of the names.
  const sites = Object.keys(raw.sites)
    .sort()
    .map((name) => {
      const site = raw.sites[name]!;
      return buildSite(config.file, name, { ...defaults, ...site, url: site.url }, vpns);
    });
  const desired: DesiredState = { configFile: config.file, sites, image: resolveImage(config.file, raw.image) };
  if (raw.stateDir !== undefined) desired.stateDir = resolveConfigPath(config.file, raw.stateDir);
  desired.siteDefaults = toSiteSettings(buildSite(config.file, "defaults", { ...defaults, url: "https://defaults.invalid/" }, vpns));
  return { desired, problems };
};

/**
 * Checks what the schema cannot: URLs, disk size bounds, add-ons, and that
 * the files and VPNs named exist. Values of the wrong type are skipped, so it
 * runs on any data. A setting under defaults: is checked once, at its own
 * place, and not again in every site that inherits it.
 */
export const checkReferences = (config: LoadedConfig): ConfigProblem[] => {
  const root = asRecord(config.data);
  const problems: ConfigProblem[] = [];
  const report: Report = (path, message, fix, severity = "error") => {
    problems.push({ file: config.file, ...locate(config, path), key: formatKeyPath(path), message, fix, severity });
  };

  const vpnNames = checkVpns(config.file, asRecord(root.vpns), report);
  checkSettings(config.file, asRecord(root.defaults), ["defaults"], vpnNames, report);
  for (const [name, site] of Object.entries(asRecord(root.sites))) {
    const settings = asRecord(site);
    if (typeof settings.url === "string") checkUrl(settings.url, ["sites", name, "url"], report);
    checkSettings(config.file, settings, ["sites", name], vpnNames, report);
    checkSiteLinks(name, settings, report);
  }
  checkSharedPatterns(asRecord(root.sites), report);
  return problems;
};

type Report = (path: (string | number)[], message: string, fix: string, severity?: "error" | "warning") => void;

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

// Returns the names of all VPN entries, valid or not, so that a site naming
// an entry with a broken wireguard: gets no second error.
const checkVpns = (configFile: string, entries: Record<string, unknown>, report: Report): Set<string> => {
  for (const [name, entry] of Object.entries(entries)) {
    const written = asRecord(entry).wireguard;
    if (typeof written !== "string" || written === "") continue;
    const wireguard = resolveConfigPath(configFile, written);
    const stats = statFile(wireguard);
    if (stats === undefined) {
      report(["vpns", name, "wireguard"], `WireGuard config ${showValue(written)} not found at ${wireguard}`, "create the file or fix the path");
    } else if ((stats.mode & 0o077) !== 0) {
      report(
        ["vpns", name, "wireguard"],
        `WireGuard config ${wireguard} is readable by other users (mode ${(stats.mode & 0o777).toString(8)})`,
        `run chmod 600 ${wireguard}`,
        "warning",
      );
    }
  }
  return new Set(Object.keys(entries));
};

const checkSettings = (configFile: string, settings: Record<string, unknown>, path: string[], vpnNames: Set<string>, report: Report): void => {
  if (typeof settings.disk === "string") {
    const problem = describeSizeProblem(settings.disk);
    if (problem !== undefined) report([...path, "disk"], `${showValue(settings.disk)} ${problem.reason}`, problem.fix);
  }
  if (Array.isArray(settings.addons)) {
    settings.addons.forEach((addon, index) => {
      if (typeof addon === "string" && addon !== "") checkAddon(configFile, addon, [...path, "addons", index], report);
    });
  }
  if (typeof settings.style === "string" && settings.style !== "") {
    const style = resolveConfigPath(configFile, settings.style);
    if (statFile(style) === undefined) report([...path, "style"], `style file ${showValue(settings.style)} not found at ${style}`, "create the file or fix the path");
  }
  if (typeof settings.vpn === "string" && !vpnNames.has(settings.vpn)) {
    const known = [...vpnNames];
    report(
      [...path, "vpn"],
      `VPN ${showValue(settings.vpn)} is not defined under vpns`,
      known.length > 0 ? `use one of: ${known.join(", ")}` : "add it under vpns: with a wireguard: path",
    );
  }
  if (typeof settings.reset === "string") checkResetSchedule(settings.reset, [...path, "reset"], report);
};

const buildSite = (configFile: string, name: string, settings: typeof builtinDefaults & RawSettings & { url: string }, vpns: Map<string, Vpn>): Site => {
  let hash: string | undefined;
  const site: Site = {
    name,
    url: settings.url,
    memory: settings.memory,
    cpus: settings.cpus,
    diskBytes: parseSize(settings.disk) ?? 0,
    disk: settings.disk,
    pinned: settings.pinned,
    ephemeral: settings.ephemeral,
    addons: (settings.addons ?? []).map((addon) => toAddon(configFile, addon)),
    audio: settings.audio,
    // Computed on first read, because only a running VM's record is compared
    // with it and only a starting VM's record stores it. Most sites have
    // neither in a reconcile. An assigned value replaces it.
    get settingsHash(): string {
      hash ??= hashSettings(site);
      return hash;
    },
    set settingsHash(value: string) {
      hash = value;
    },
  };
  if (settings.style !== undefined) site.style = resolveConfigPath(configFile, settings.style);
  if (settings.color !== undefined) site.color = settings.color;
  const vpn = settings.vpn === undefined ? undefined : vpns.get(settings.vpn);
  if (vpn !== undefined) site.vpn = vpn;
  if (settings.reset !== undefined) site.reset = settings.reset;
  // match: and hosts: decide where links and the VM go, not what the VM gets, so they are not hashed.
  const match = matchPatternsOf((settings as { match?: unknown }).match);
  if (match.length > 0) site.match = match;
  const hosts = hostsOf((settings as { hosts?: unknown }).hosts);
  if (hosts !== undefined) site.hosts = hosts;
  return site;
};


type CronValidator = (expression: string) => { valid: boolean; errors: { message: string }[] };

let validateCron: CronValidator | undefined;

/**
 * Loads node-cron's validator for reset: expressions. Only a sites.yaml that
 * uses reset: needs it, so other files are read without loading node-cron.
 */
export const loadCronValidator = async (): Promise<void> => {
  validateCron ??= (await import("node-cron")).validateDetailed;
};

// Checks a reset: cron expression with node-cron, which ffvm watch schedules it with.
const checkResetSchedule = (expression: string, path: (string | number)[], report: Report): void => {
  if (validateCron === undefined) throw new Error("loadCronValidator() must finish before a reset: is checked");
  const { valid, errors } = validateCron(expression);
  if (valid) return;
  const why = errors.map((error) => error.message).join("; ");
  report(path, `invalid cron expression ${showValue(expression)}: ${why}`, 'write minute hour day-of-month month day-of-week, such as "0 4 * * *" for 04:00 every day');
};

const checkUrl = (url: string, path: (string | number)[], report: Report): void => {
  const problem = describeUrlProblem(url);
  if (problem !== undefined) report(path, `${showValue(url)} ${problem}`, suggestUrlFix(url));
};

// An add-on is an addons.mozilla.org slug or add-on id (letters, digits and
// . _ @ { } -), or a path ending in .xpi.
const addonSlug = /^[A-Za-z0-9{][A-Za-z0-9._@{}-]*$/;

const checkAddon = (configFile: string, addon: string, path: (string | number)[], report: Report): void => {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(addon)) {
    report(path, `add-on ${showValue(addon)} is a URL`, "write its addons.mozilla.org slug, such as ublock-origin, or download the .xpi file and write its path");
  } else if (addon.endsWith(".xpi")) {
    const file = resolveConfigPath(configFile, addon);
    if (statFile(file) === undefined) report(path, `add-on file ${showValue(addon)} not found at ${file}`, "download the .xpi file there or fix the path");
  } else if (!addonSlug.test(addon)) {
    report(path, `add-on ${showValue(addon)} is neither an addons.mozilla.org slug nor the path of a .xpi file`, "write a slug such as ublock-origin, or a path ending in .xpi");
  }
};

const toAddon = (configFile: string, addon: string): Addon =>
  addon.endsWith(".xpi") ? { kind: "file", path: resolveConfigPath(configFile, addon) } : { kind: "amo", slug: addon };

const resolveImage = (configFile: string, image: RawConfig["image"]): ImageSource => {
  if (image?.runner !== undefined) return { kind: "runner", runner: resolveConfigPath(configFile, image.runner) };
  const flake = resolveConfigPath(configFile, image?.flake ?? "./nix");
  return { kind: "flake", flake, attribute: image?.attribute ?? defaultImageAttribute };
};

const statFile = (path: string): { mode: number } | undefined => {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
};

// Hashes every value the VM receives at start, including the contents of the
// style and add-on files, but not the WireGuard config: its keys must not
// leave the file, even as a hash in a record.
const hashSettings = (site: Site): string => {
  const hash = createSha256();
  const fileDigest = (path: string): string => {
    try {
      return createSha256().update(readFileSync(path)).digest("hex");
    } catch {
      return "missing";
    }
  };
  const values = {
    url: site.url,
    memory: site.memory,
    cpus: site.cpus,
    ephemeral: site.ephemeral,
    audio: site.audio,
    color: site.color ?? null,
    vpn: site.vpn === undefined ? null : { name: site.vpn.name, path: site.vpn.wireguard },
    style: site.style === undefined ? null : fileDigest(site.style),
    addons: site.addons.map((addon) => (addon.kind === "amo" ? addon.slug : fileDigest(addon.path))),
  };
  hash.update(JSON.stringify(values));
  return hash.digest("hex").slice(0, 16);
};
