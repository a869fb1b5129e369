// The per-site keys about where a site lives: match: (which links it opens)
// and hosts: (which machines run it), and the name prefix ffvm keeps for
// disposable VMs.

import { formatHostPattern, parseHostPattern } from "../links/match.js";
import { showValue } from "./errors.js";
import type { Site, SiteSettings } from "./types.js";

/** Names of disposable VMs start with this; sites.yaml may not use it. */
export const disposablePrefix = "disposable-";

type Report = (path: (string | number)[], message: string, fix: string, severity?: "error" | "warning") => void;

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : []);

/** Returns a site's valid match: patterns in normal form, from data of any shape. */
export const matchPatternsOf = (written: unknown): string[] => {
  const patterns: string[] = [];
  for (const text of strings(written)) {
    const parsed = parseHostPattern(text);
    if (!("error" in parsed)) patterns.push(formatHostPattern(parsed));
  }
  return patterns;
};

/** Returns a site's hosts: entries in lower case without a trailing dot, or undefined without the key. */
export const hostsOf = (written: unknown): string[] | undefined =>
  Array.isArray(written) ? strings(written).map((host) => host.toLowerCase().replace(/\.$/, "")) : undefined;

/** Reports a site name with the prefix of disposable VMs, and match: entries that are not host patterns. */
export const checkSiteLinks = (site: string, settings: Record<string, unknown>, report: Report): void => {
  if (site.startsWith(disposablePrefix)) {
    report(["sites", site], `site name ${showValue(site)} starts with ${showValue(disposablePrefix)}, which ffvm keeps for the disposable VMs of ffvm open URL`, "rename the site");
  }
  if (!Array.isArray(settings.match)) return;
  settings.match.forEach((text: unknown, index) => {
    if (typeof text !== "string" || text === "") return;
    const parsed = parseHostPattern(text);
    if ("error" in parsed) {
      report(["sites", site, "match", index], `${showValue(text)} ${parsed.error}`, 'write a host such as "github.com", or "*.github.com" for its subdomains');
    }
  });
};

/** Warns when two sites list the same match: pattern; its links then open in the first of them by name. */
export const checkSharedPatterns = (sites: Record<string, unknown>, report: Report): void => {
  const owner = new Map<string, string>();
  for (const name of Object.keys(sites).sort()) {
    const written = (sites[name] as { match?: unknown } | null)?.match;
    strings(written).forEach((text, index) => {
      const parsed = parseHostPattern(text);
      if ("error" in parsed) return;
      const pattern = formatHostPattern(parsed);
      const first = owner.get(pattern);
      if (first === undefined) {
        owner.set(pattern, name);
        return;
      }
      report(["sites", name, "match", index], `pattern ${showValue(pattern)} is also listed by site ${first}, so its links open in ${first}`, "list the pattern under one site only", "warning");
    });
  }
};

/** Returns the settings of a site resolved from defaults: alone, which disposable VMs start with. */
export const toSiteSettings = (site: Site): SiteSettings => {
  const settings: SiteSettings = { memory: site.memory, cpus: site.cpus, diskBytes: site.diskBytes, disk: site.disk, addons: site.addons, audio: site.audio };
  if (site.style !== undefined) settings.style = site.style;
  if (site.color !== undefined) settings.color = site.color;
  if (site.vpn !== undefined) settings.vpn = site.vpn;
  return settings;
};
