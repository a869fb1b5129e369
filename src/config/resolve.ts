// Turns validated sites.yaml data into the desired state: defaults merged,
// sizes parsed, paths resolved, and the rules between fields checked.

import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { showValue, type ConfigProblem } from "./errors.js";
import { locate, type LoadedConfig } from "./load.js";
import { resolveConfigPath } from "./paths.js";
import { parseSize } from "./size.js";
import type { Addon, DesiredState, ImageSource, Site, Vpn } from "./types.js";

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
  const raw = config.data as RawConfig;
  const problems: ConfigProblem[] = [];
  const report = (path: (string | number)[], message: string, fix: string, severity: "error" | "warning" = "error"): void => {
    problems.push({ file: config.file, ...locate(config, path), key: path.join("."), message, fix, severity });
  };

  const vpns = resolveVpns(config, raw, report);
  const defaults = { ...builtinDefaults, ...raw.defaults };
  const sites = Object.entries(raw.sites)
    .map(([name, site]) => resolveSite(config, name, { ...defaults, ...site, url: site.url }, vpns, report))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const image = resolveImage(config.file, raw.image);

  if (problems.some((problem) => problem.severity === "error")) return { problems };
  const desired: DesiredState = { configFile: config.file, sites, image };
  if (raw.stateDir !== undefined) desired.stateDir = resolveConfigPath(config.file, raw.stateDir);
  return { desired, problems };
};

type Report = (path: (string | number)[], message: string, fix: string, severity?: "error" | "warning") => void;

const resolveVpns = (config: LoadedConfig, raw: RawConfig, report: Report): Map<string, Vpn> => {
  const vpns = new Map<string, Vpn>();
  for (const [name, entry] of Object.entries(raw.vpns ?? {})) {
    const wireguard = resolveConfigPath(config.file, entry.wireguard);
    const stats = statFile(wireguard);
    if (stats === undefined) {
      report(["vpns", name, "wireguard"], `WireGuard config ${showValue(entry.wireguard)} not found at ${wireguard}`, "create the file or fix the path");
    } else if ((stats.mode & 0o077) !== 0) {
      report(
        ["vpns", name, "wireguard"],
        `WireGuard config ${wireguard} is readable by other users (mode ${(stats.mode & 0o777).toString(8)})`,
        `run chmod 600 ${wireguard}`,
        "warning",
      );
    }
    vpns.set(name, { name, wireguard });
  }
  return vpns;
};

const resolveSite = (
  config: LoadedConfig,
  name: string,
  settings: typeof builtinDefaults & RawSettings & { url: string },
  vpns: Map<string, Vpn>,
  report: Report,
): Site => {
  const path = ["sites", name];
  checkUrl(settings.url, [...path, "url"], report);

  const diskBytes = parseSize(settings.disk);
  if (diskBytes === undefined) report([...path, "disk"], `invalid size ${showValue(settings.disk)}`, "write a size such as 4G or 512M");

  const addons = (settings.addons ?? []).map((addon, index) => resolveAddon(config.file, addon, [...path, "addons", index], report));

  let style: string | undefined;
  if (settings.style !== undefined) {
    style = resolveConfigPath(config.file, settings.style);
    if (statFile(style) === undefined) report([...path, "style"], `style file ${showValue(settings.style)} not found at ${style}`, "create the file or fix the path");
  }

  let vpn: Vpn | undefined;
  if (settings.vpn !== undefined) {
    vpn = vpns.get(settings.vpn);
    if (vpn === undefined) {
      const known = [...vpns.keys()];
      report([...path, "vpn"], `VPN ${showValue(settings.vpn)} is not defined under vpns:`, known.length > 0 ? `use one of: ${known.join(", ")}` : "add it under vpns: with a wireguard: path");
    }
  }

  const site: Site = {
    name,
    url: settings.url,
    memory: settings.memory,
    cpus: settings.cpus,
    diskBytes: diskBytes ?? 0,
    disk: settings.disk,
    pinned: settings.pinned,
    ephemeral: settings.ephemeral,
    addons,
    audio: settings.audio,
    settingsHash: "",
  };
  if (style !== undefined) site.style = style;
  if (settings.color !== undefined) site.color = settings.color;
  if (vpn !== undefined) site.vpn = vpn;
  site.settingsHash = hashSettings(site);
  return site;
};

const checkUrl = (url: string, path: (string | number)[], report: Report): void => {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.hostname === "") {
    report(path, `invalid URL ${showValue(url)}`, "write an http or https URL with a host, such as https://example.org/");
  }
};

const resolveAddon = (configFile: string, addon: string, path: (string | number)[], report: Report): Addon => {
  if (!addon.endsWith(".xpi")) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._@{}-]*$/.test(addon)) {
      report(path, `invalid add-on ${showValue(addon)}`, "write an addons.mozilla.org slug such as ublock-origin, or the path of a .xpi file");
    }
    return { kind: "amo", slug: addon };
  }
  const file = resolveConfigPath(configFile, addon);
  if (statFile(file) === undefined) report(path, `add-on file ${showValue(addon)} not found at ${file}`, "download the .xpi file there or fix the path");
  return { kind: "file", path: file };
};

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
  const hash = createHash("sha256");
  const fileDigest = (path: string): string => {
    try {
      return createHash("sha256").update(readFileSync(path)).digest("hex");
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
