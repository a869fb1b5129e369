// The files a reconcile depends on besides sites.yaml: style files, local
// add-ons, WireGuard configs and the image source.

import type { DesiredState } from "../config/types.js";
import { resolveConfigPath } from "../config/paths.js";

export interface WatchTargets {
  /** Files whose every save triggers a reconcile, sites.yaml first. */
  files: string[];
  /** Directories watched with everything below them: the image flake. */
  trees: string[];
}

/** Returns the files and directories of a valid desired state. */
export const targetsOfDesired = (desired: DesiredState): WatchTargets => {
  const files = new Set<string>([desired.configFile]);
  for (const site of desired.sites) {
    if (site.style !== undefined) files.add(site.style);
    for (const addon of site.addons) if (addon.kind === "file") files.add(addon.path);
    if (site.vpn !== undefined) files.add(site.vpn.wireguard);
  }
  const trees: string[] = [];
  if (desired.image.kind === "runner") files.add(desired.image.runner);
  else trees.push(desired.image.flake);
  return { files: [...files], trees };
};

/**
 * Returns the paths named in sites.yaml data that did not validate, as far as
 * they can be read, so that creating a missing style file or WireGuard config
 * is noticed. Values of the wrong type are skipped.
 */
export const targetsOfRawConfig = (configFile: string, data: unknown): WatchTargets => {
  const files = new Set<string>([configFile]);
  const trees: string[] = [];
  const root = asObject(data);
  const addSettings = (settings: Record<string, unknown>): void => {
    if (typeof settings.style === "string" && settings.style !== "") files.add(resolveConfigPath(configFile, settings.style));
    if (Array.isArray(settings.addons)) {
      for (const addon of settings.addons) {
        if (typeof addon === "string" && addon.endsWith(".xpi")) files.add(resolveConfigPath(configFile, addon));
      }
    }
  };
  addSettings(asObject(root.defaults));
  for (const site of Object.values(asObject(root.sites))) addSettings(asObject(site));
  for (const vpn of Object.values(asObject(root.vpns))) {
    const wireguard = asObject(vpn).wireguard;
    if (typeof wireguard === "string" && wireguard !== "") files.add(resolveConfigPath(configFile, wireguard));
  }
  const image = asObject(root.image);
  if (typeof image.runner === "string" && image.runner !== "") files.add(resolveConfigPath(configFile, image.runner));
  else trees.push(resolveConfigPath(configFile, typeof image.flake === "string" && image.flake !== "" ? image.flake : "./nix"));
  return { files: [...files], trees };
};

const asObject = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
